"""Broken counter-line traffic for fault tests, made from a seeded ``random.Random``.

Every piece starts as a real keypad or evaluator press for one of the line's addresses
and is then damaged: bytes flipped, cut short, a wrong checksum, wrong lengths, a wrong
end byte, or replaced by junk that imitates frame headers. A segment is checked with
``valid_frames`` (the FT1.2 rule written out again here, independent of the parser under
test) and holds no valid frame at all, so nothing in it may ever act as a key press.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from drivers.bus.models import LEVELS, evaluator_press, keypad_press

START, END = 0x68, 0x16

KEYS = (("call_next", ""), ("call_number", "23"), ("call_number", "7"), ("recall", ""),
        ("finish", ""), ("pause_toggle", ""), ("transfer", "04"), ("skip", ""),
        ("hold", ""), ("call_held", ""), ("call_held", "12"))

_HEADER = re.compile(rb"(?=\x68(.)\1\x68)", re.DOTALL)
"""``68 L L 68`` at every offset where it starts (overlapping ones too)."""


def valid_frames(data: bytes | bytearray) -> list[int]:
    """Offsets (of the 68) of every well-formed frame: ``68 L L 68``, L bytes, their sum
    mod 256, ``16`` — whatever L, address or function."""
    found = []
    for match in _HEADER.finditer(data):
        pos, length = match.start(), data[match.start() + 1]
        end = pos + 4 + length  # the checksum's offset
        if (length >= 2 and end + 1 < len(data) and data[end] == sum(data[pos + 4:end]) & 0xFF
                and data[end + 1] == END):
            found.append(pos)
    return found


def whole_headers(data: bytes | bytearray, max_length: int) -> int:
    """How many ``68 L L 68`` headers with 2 <= L <= ``max_length`` lie whole in ``data``:
    a parser that drops only what is broken counts each of them as one bad frame."""
    return sum(2 <= data[m.start() + 1] <= max_length for m in _HEADER.finditer(data))


def press(rng: random.Random, addresses: Sequence[int]) -> bytes:
    """A real press from a keypad or evaluator on the line, wake byte included."""
    address = rng.choice(addresses)
    if rng.random() < 0.3:
        return evaluator_press(address, rng.choice(LEVELS))
    action, digits = rng.choice(KEYS)
    return keypad_press(address, action, digits)


def _flip(rng: random.Random, frame: bytearray) -> bytearray:
    for _ in range(rng.randint(1, 3)):
        frame[rng.randrange(len(frame))] ^= rng.randint(1, 255)
    return frame


def _truncate(rng: random.Random, frame: bytearray) -> bytearray:
    return frame[:rng.randrange(1, len(frame))]


def _bad_checksum(rng: random.Random, frame: bytearray) -> bytearray:
    frame[-2] = (frame[-2] + rng.randint(1, 255)) & 0xFF
    return frame


def _bad_length(rng: random.Random, frame: bytearray) -> bytearray:
    wrong = rng.choice((rng.randint(0, 40), frame[2] + rng.choice((-1, 1)), rng.randint(0, 255)))
    wrong &= 0xFF
    where = rng.choice(((2,), (3,), (2, 3)))  # one length, the other, or both alike
    for index in where:
        frame[index] = wrong
    return frame


def _bad_end(rng: random.Random, frame: bytearray) -> bytearray:
    frame[-1] = (END + rng.randint(1, 255)) & 0xFF
    return frame


def _slip(rng: random.Random, frame: bytearray) -> bytearray:
    """A byte lost or doubled on the wire: every length and offset after it is off."""
    index = rng.randrange(1, len(frame))
    if rng.random() < 0.5:
        del frame[index]
    else:
        frame.insert(index, frame[index])
    return frame


def _junk(rng: random.Random, frame: bytearray) -> bytearray:
    """Line noise, often carrying pieces that look like the start of a frame."""
    out = bytearray(rng.randbytes(rng.randint(1, 24)))
    for _ in range(rng.randint(0, 2)):
        length = rng.randint(0, 40)
        header = bytes((START, length, length, START)) + rng.randbytes(rng.randint(0, 6))
        at = rng.randrange(len(out) + 1)
        out[at:at] = header
    if rng.random() < 0.2:
        out += frame[:rng.randrange(1, len(frame))]
    return out


MUTATIONS = (_flip, _truncate, _bad_checksum, _bad_length, _bad_end, _slip, _junk)


def noise_segment(rng: random.Random, pieces: int, addresses: Sequence[int],
                  follows: bytes = b"") -> bytes:
    """``pieces`` damaged presses back to back, with no well-formed frame anywhere, not even
    together with ``follows`` (e.g. a real press sent next) other than ``follows`` itself."""
    out = bytearray()
    for _ in range(pieces):
        out += rng.choice(MUTATIONS)(rng, bytearray(press(rng, addresses)))
    size = len(out)
    out += follows
    allowed = [size + follows.find(START)] if follows else []
    # Damage that happened to leave a frame whole (a flipped wake byte, two flips that
    # cancel out): break its start, and look again, as that may complete another one.
    while extra := [pos for pos in valid_frames(out) if pos not in allowed]:
        for pos in extra:
            out[pos] = rng.choice(_NOT_START)
    return bytes(out[:size])


_NOT_START = [b for b in range(256) if b != START]
