"""Framing of the counter RS-485 line (caller keypads and evaluators), sans-I/O.

The line runs at 9600 8N1 and carries frames shaped like IEC 60870-5 FT1.2 variable
length frames::

    [FF] 68 L L 68 ADDR FC DATA... CS 16

``FF`` is an optional wake byte, ``L`` the number of bytes from ADDR to the last DATA
byte (sent twice), ``CS`` the sum of ADDR..last DATA byte mod 256, ``16`` the end byte.
Keypad at address 5 pressing "call": ``FF 68 03 03 68 05 01 0C 12 16``.

Nothing here reads or writes a port: ``encode_frame`` makes bytes, ``FrameParser`` takes
whatever chunks a port returns and hands back the valid frames.
"""

from __future__ import annotations

from dataclasses import dataclass

PREAMBLE = 0xFF
START = 0x68
END = 0x16
MAX_DATA = 32
"""Longest DATA the parser accepts by default; our devices send at most a few bytes."""

_WIRE_MAX_DATA = 0xFF - 2  # L is one byte and also counts ADDR and FC
_HEADER = 4  # 68 L L 68
_TRAILER = 2  # CS 16
_NOISE = "noise"  # not even a header: the 68 was noise
_BAD = "bad"  # whole header, but the rest is wrong
_WAITING = "waiting"


def checksum(body: bytes | bytearray) -> int:
    """Sum of ADDR..last DATA byte mod 256."""
    return sum(body) & 0xFF


@dataclass(frozen=True)
class Frame:
    """One frame on the line: who it is for/from, what kind, and its payload."""

    address: int
    function: int
    data: bytes = b""

    def __post_init__(self) -> None:
        for name, value in (("address", self.address), ("function", self.function)):
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be 0..255, got {value}")
        object.__setattr__(self, "data", bytes(self.data))
        if len(self.data) > _WIRE_MAX_DATA:
            raise ValueError(f"data is {len(self.data)} bytes, a frame holds {_WIRE_MAX_DATA}")


def encode_frame(frame: Frame) -> bytes:
    """The bytes of ``frame`` on the wire, wake byte included."""
    body = bytes((frame.address, frame.function)) + frame.data
    size = len(body)
    return bytes((PREAMBLE, START, size, size, START)) + body + bytes((checksum(body), END))


class FrameParser:
    """Turn a byte stream cut into arbitrary chunks into valid frames.

    A candidate starts at every ``68``. When a candidate turns out bad, only its first
    byte is dropped and the scan restarts right after it, so a valid frame that begins
    inside a bad one (a truncated frame followed by a good one) is still found.

    A candidate whose header is fine but whose tail has not arrived yet is kept until
    enough bytes arrive. Devices send a frame in one burst, so when the line has gone
    quiet the I/O layer calls ``flush()``: the unfinished candidate is given up and the
    bytes after its start are scanned again. The buffer never holds more than one
    unfinished candidate (fewer than ``max_frame_size`` bytes) between calls.

    Counters: ``dropped_bytes`` are bytes thrown away, broken frames included (``FF``
    wake bytes are not counted); ``bad_frames`` are frames whose header ``68 L L 68``
    was whole but whose checksum or end byte was wrong, or that ``flush()`` gave up.
    A broken header (lengths that differ or out of range) is only dropped bytes: it
    cannot be told from noise that happens to contain ``68``.
    """

    def __init__(self, max_data: int = MAX_DATA) -> None:
        if not 0 <= max_data <= _WIRE_MAX_DATA:
            raise ValueError(f"max_data must be 0..{_WIRE_MAX_DATA}, got {max_data}")
        self._max_length = 2 + max_data
        self._buffer = bytearray()
        self.dropped_bytes = 0
        self.bad_frames = 0

    @property
    def max_frame_size(self) -> int:
        """Size of the longest frame accepted, without the wake byte."""
        return _HEADER + self._max_length + _TRAILER

    @property
    def buffered(self) -> int:
        """Bytes held back because they may be the start of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes from the line; return the frames they complete, in order."""
        self._buffer += data
        return self._scan(line_idle=False)

    def flush(self) -> list[Frame]:
        """The line went quiet: give up unfinished frames, return any found behind them."""
        return self._scan(line_idle=True)

    def _scan(self, line_idle: bool) -> list[Frame]:
        buffer = self._buffer
        frames: list[Frame] = []
        pos = 0
        while True:
            start = buffer.find(START, pos)
            if start < 0:
                self._drop_noise(pos, len(buffer))
                pos = len(buffer)
                break
            self._drop_noise(pos, start)
            pos = start
            verdict = self._candidate_at(pos)
            if isinstance(verdict, Frame):
                frames.append(verdict)
                pos += _HEADER + len(verdict.data) + 2 + _TRAILER
            elif verdict == _WAITING and not line_idle:
                break
            else:
                given_up = verdict == _WAITING and len(buffer) - pos >= _HEADER
                self.bad_frames += verdict == _BAD or given_up
                self.dropped_bytes += 1
                pos += 1
        del buffer[:pos]
        return frames

    def _drop_noise(self, begin: int, end: int) -> None:
        self.dropped_bytes += (end - begin) - self._buffer.count(PREAMBLE, begin, end)

    def _candidate_at(self, pos: int) -> Frame | str:
        """The frame at ``pos``, or ``_NOISE``, ``_BAD``, or ``_WAITING`` for more bytes.

        Header bytes are checked as soon as they are present, so garbage is rejected
        without waiting for a length's worth of bytes.
        """
        buffer = self._buffer
        available = len(buffer) - pos
        if available < 2:
            return _WAITING
        length = buffer[pos + 1]
        if not 2 <= length <= self._max_length:
            return _NOISE
        if available < 3:
            return _WAITING
        if buffer[pos + 2] != length:
            return _NOISE
        if available < 4:
            return _WAITING
        if buffer[pos + 3] != START:
            return _NOISE
        if available < _HEADER + length + _TRAILER:
            return _WAITING
        body_start = pos + _HEADER
        body = buffer[body_start : body_start + length]
        if buffer[body_start + length] != checksum(body) or buffer[body_start + length + 1] != END:
            return _BAD
        return Frame(body[0], body[1], bytes(body[2:]))
