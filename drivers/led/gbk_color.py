"""The ``gbk-color`` strip protocol (sans-I/O): one frame per strip write.

Frame, as in DOMAIN.md ("Hardware found in halls")::

    A0 90 ADDR A5 LEN_H LEN_L PAYLOAD XOR

- ``ADDR``: strip address, 0-255.
- ``PAYLOAD``: for every character its GBK bytes (one for ASCII, two for Chinese)
  followed by one colour byte: ``00`` red, ``01`` green, ``02`` yellow.
- ``LEN``: payload length in bytes, big-endian.
- ``XOR``: XOR of every byte from ``ADDR`` to the last payload byte (so it covers the
  ``A5`` marker and both length bytes).

The frame has no flash flag. A flashing strip is made by the caller alternating
writes (the LED bridge does it); :func:`encode` accepts the effect and ignores it.
An empty payload is a valid frame: it blanks the strip.
"""

from __future__ import annotations

from functools import reduce
from operator import xor

from drivers.led.base import Colour, StripText, gbk_char, read_gbk_char

START = b"\xa0\x90"
MARK = 0xA5
HEADER_LEN = 6  # A0 90 ADDR A5 LEN_H LEN_L
MAX_ADDRESS = 0xFF
# A long strip shows a few dozen characters. The frame has no reserved bytes, so a
# cap on the length field is what stops garbage from making the decoder wait forever.
MAX_PAYLOAD = 1024
COLOUR_BYTES: dict[Colour, int] = {"red": 0x00, "green": 0x01, "yellow": 0x02}
COLOUR_NAMES: dict[int, Colour] = {code: name for name, code in COLOUR_BYTES.items()}


def _xor(data: bytes) -> int:
    return reduce(xor, data, 0)


def encode(address: int, content: StripText) -> bytes:
    """The frame that makes strip ``address`` show ``content``."""
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"gbk-color strip address must be 0-{MAX_ADDRESS}, not {address}")
    payload = bytearray()
    for ch, colour in content.chars():
        payload += gbk_char(ch)
        payload.append(COLOUR_BYTES[colour])
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"text too long for one strip ({len(payload)} > {MAX_PAYLOAD} bytes)")
    body = bytes([address, MARK]) + len(payload).to_bytes(2, "big") + payload
    return START + body + bytes([_xor(body)])


def _parse(frame: bytes) -> tuple[int, StripText] | None:
    """A complete candidate frame, or None when its check or content is wrong."""
    if _xor(frame[2:-1]) != frame[-1]:
        return None
    payload = frame[HEADER_LEN:-1]
    chars: list[tuple[str, Colour]] = []
    pos = 0
    while pos < len(payload):
        read = read_gbk_char(payload, pos)
        if read is None or read[1] >= len(payload):
            return None
        ch, pos = read
        colour = COLOUR_NAMES.get(payload[pos])
        if colour is None:
            return None
        chars.append((ch, colour))
        pos += 1
    return frame[2], StripText.from_chars(chars)


class Decoder:
    """Streaming decoder: feed bytes as they come, get every complete valid frame.

    Garbage and corrupt frames are skipped; decoding resumes at the next ``A0 90``.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, StripText]]:
        self._buf += data
        frames: list[tuple[int, StripText]] = []
        while True:
            start = self._buf.find(START)
            if start < 0:
                keep = 1 if self._buf.endswith(START[:1]) else 0
                del self._buf[: len(self._buf) - keep]
                return frames
            del self._buf[:start]
            if len(self._buf) < HEADER_LEN:
                return frames
            length = int.from_bytes(self._buf[4:6], "big")
            if self._buf[3] != MARK or length > MAX_PAYLOAD:
                del self._buf[:1]
                continue
            total = HEADER_LEN + length + 1
            if len(self._buf) < total:
                return frames
            decoded = _parse(bytes(self._buf[:total]))
            if decoded is None:
                del self._buf[:1]
                continue
            del self._buf[:total]
            frames.append(decoded)
