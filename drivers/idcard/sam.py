"""Framing of the ID-card readers' serial protocol (the GA 467 SAM interface), sans-I/O.

Host → reader (a command)::

    AA AA AA 96 69  LEN_HI LEN_LO  CMD PARA DATA...  CHK

Reader → host (an answer)::

    AA AA AA 96 69  LEN_HI LEN_LO  SW1 SW2 SW3 DATA...  CHK

``LEN`` (big-endian) counts every byte after itself, the check byte included; ``CHK`` is
the XOR of the length bytes and everything up to it. ``SW3`` is the reader's own status
(``90`` done, ``9F`` card found, ``80`` no card, ...); ``SW1 SW2`` echo the card's APDU
status and are kept only for the log. Find card: ``AA AA AA 96 69 00 03 20 01 22``.

Nothing here touches a port: ``encode_command``/``encode_answer`` make bytes and
``FrameParser`` takes whatever chunks a port returns and hands back the valid frames.
Sources for the layout, lengths and status words are listed in docs/hardware.md.
"""

from __future__ import annotations

from dataclasses import dataclass

PREAMBLE = bytes.fromhex("AAAAAA9669")
MAX_LENGTH = 4096
"""Longest LEN accepted: the base information with fingerprints is 2321 bytes in all."""

RESET = (0x10, 0xFF)
STATUS = (0x11, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_BASE = (0x30, 0x01)
"""(CMD, PARA) pairs of the commands hallq sends."""

SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_CONTENT = 0x91
SW_CHECKSUM = 0x10
SW_LENGTH = 0x11
SW_COMMAND = 0x21
SW_READ_FAILED = 0x41
SW_SELF_TEST = 0x60
SW_UNAUTHORISED = 0x66
SW_NO_CARD = 0x80
SW_SELECT_FAILED = 0x81

STATUS_WORDS = {
    SW_OK: "done",
    SW_FOUND: "card found",
    SW_NO_CONTENT: "no content",
    SW_CHECKSUM: "the reader got a bad check byte from the host",
    SW_LENGTH: "the reader got a bad length from the host",
    SW_COMMAND: "the reader did not understand the command",
    0x23: "operation not allowed",
    0x24: "unknown error",
    0x31: "the card refused the SAM",
    0x32: "the SAM refused the card",
    0x33: "the card's data failed verification",
    0x40: "not an ID card",
    SW_READ_FAILED: "reading the card failed",
    0x47: "no random number from the card",
    SW_SELF_TEST: "the SAM failed its self-test",
    SW_UNAUTHORISED: "the SAM is not authorised",
    SW_NO_CARD: "no card",
    SW_SELECT_FAILED: "selecting the card failed",
}

_HEAD = len(PREAMBLE) + 2


def describe_status(sw3: int) -> str:
    """A short English text for a status word (for logs and device alerts)."""
    return STATUS_WORDS.get(sw3, f"status {sw3:02X}")


def checksum(data: bytes | bytearray | memoryview) -> int:
    """XOR of every byte of ``data``."""
    value = 0
    for byte in data:
        value ^= byte
    return value


@dataclass(frozen=True)
class Command:
    cmd: int
    para: int
    data: bytes = b""


@dataclass(frozen=True)
class Answer:
    sw3: int
    data: bytes = b""
    sw1: int = 0
    sw2: int = 0

    @property
    def ok(self) -> bool:
        return self.sw3 in (SW_OK, SW_FOUND)


def _frame(body: bytes) -> bytes:
    size = len(body) + 1
    if size > 0xFFFF:
        raise ValueError(f"a frame holds at most {0xFFFF - 1} bytes, got {len(body)}")
    length = size.to_bytes(2, "big")
    return PREAMBLE + length + body + bytes((checksum(length + body),))


def encode_command(command: Command | tuple[int, int]) -> bytes:
    """The bytes of a host command; ``(CMD, PARA)`` for a command without data."""
    if isinstance(command, tuple):
        command = Command(*command)
    return _frame(bytes((command.cmd, command.para)) + command.data)


def encode_answer(answer: Answer) -> bytes:
    """The bytes of a reader's answer (the simulator's side)."""
    return _frame(bytes((answer.sw1, answer.sw2, answer.sw3)) + answer.data)


class FrameParser:
    """Turn a byte stream cut into arbitrary chunks into valid frame bodies.

    ``answers=True`` (the host's side) yields :class:`Answer`, ``False`` (the reader's
    side) :class:`Command`. A candidate starts at every preamble; when it turns out bad
    (a length out of range, a wrong check byte) only its first byte is dropped and the
    scan goes on, so a good frame right behind a truncated one is still found. An
    unfinished candidate waits for more bytes until ``flush()`` (the line went quiet)
    gives it up. ``bad_frames`` counts frames given up, ``dropped_bytes`` every byte
    thrown away.
    """

    def __init__(self, *, answers: bool = True, max_length: int = MAX_LENGTH) -> None:
        self._answers = answers
        self._min_length = 4 if answers else 3
        self._max_length = max_length
        self._buffer = bytearray()
        self.bad_frames = 0
        self.dropped_bytes = 0

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Answer] | list[Command]:
        self._buffer += data
        return self._scan(idle=False)

    def flush(self) -> list[Answer] | list[Command]:
        return self._scan(idle=True)

    def _scan(self, idle: bool) -> list:
        buffer = self._buffer
        frames: list = []
        pos = 0
        while pos < len(buffer):
            start = buffer.find(PREAMBLE, pos)
            if start < 0:
                # Keep a tail that may be the start of a preamble cut by the chunking.
                keep = 0 if idle else _partial_preamble(buffer)
                self.dropped_bytes += len(buffer) - pos - keep
                pos = len(buffer) - keep
                break
            self.dropped_bytes += start - pos
            pos = start
            if len(buffer) - pos < _HEAD:
                if idle:
                    self._give_up()
                    pos += 1
                    continue
                break
            length = int.from_bytes(buffer[pos + 5 : pos + 7], "big")
            if not self._min_length <= length <= self._max_length:
                self._give_up()
                pos += 1
                continue
            end = pos + _HEAD + length
            if end > len(buffer):
                if idle:
                    self._give_up()
                    pos += 1
                    continue
                break
            if checksum(memoryview(buffer)[pos + 5 : end - 1]) != buffer[end - 1]:
                self._give_up()
                pos += 1
                continue
            frames.append(self._decode(bytes(buffer[pos + _HEAD : end - 1])))
            pos = end
        del buffer[:pos]
        return frames

    def _give_up(self) -> None:
        self.bad_frames += 1
        self.dropped_bytes += 1

    def _decode(self, body: bytes) -> Answer | Command:
        if self._answers:
            return Answer(body[2], body[3:], body[0], body[1])
        return Command(body[0], body[1], body[2:])


def _partial_preamble(buffer: bytearray) -> int:
    """How many bytes at the end of ``buffer`` could be the start of a preamble."""
    for keep in range(min(len(PREAMBLE) - 1, len(buffer)), 0, -1):
        if buffer.endswith(PREAMBLE[:keep]):
            return keep
    return 0
