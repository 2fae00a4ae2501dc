"""What QR/barcode scanners send, sans-I/O: serial lines ending in CR or LF, and the key
bursts of a keyboard-wedge scanner.

``LineSplitter`` turns serial bytes into :class:`Scan` results: a code (printable ASCII
or UTF-8 text), or a bad scan with its reason (``junk`` for binary or control bytes,
``too_long`` for a line over ``MAX_CODE`` bytes, which is skipped up to its end without
being buffered). ``KeyBurst`` tells a scanner's burst of keys from a person typing: the
keys of a scan come ``MAX_GAP_S`` apart at most and end in Enter.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_CODE = 512
"""Longest code accepted; QR codes on phones and tickets are well under this."""
MAX_GAP_S = 0.05
MIN_BURST = 4


@dataclass(frozen=True)
class Scan:
    code: str = ""
    error: str = ""  # "", "junk" or "too_long"

    @property
    def ok(self) -> bool:
        return not self.error


def check_code(raw: bytes) -> Scan:
    """The scan for one line without its ending."""
    if len(raw) > MAX_CODE:
        return Scan(error="too_long")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Scan(error="junk")
    text = text.strip(" ")
    if not text or not text.isprintable():
        return Scan(error="junk")
    return Scan(code=text)


class LineSplitter:
    """Feed serial bytes, get the scans they complete (CR, LF and CRLF all end a line)."""

    def __init__(self) -> None:
        self._line = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> list[Scan]:
        *complete, rest = data.replace(b"\r", b"\n").split(b"\n")
        scans = [scan for scan in map(self._end, complete) if scan is not None]
        self._add(rest)
        return scans

    def _end(self, part: bytes) -> Scan | None:
        self._add(part)
        raw, overflow = bytes(self._line), self._overflow
        self._line.clear()
        self._overflow = False
        if overflow:
            return Scan(error="too_long")
        return check_code(raw) if raw else None

    def _add(self, part: bytes) -> None:
        if self._overflow:
            return
        if len(self._line) + len(part) > MAX_CODE:
            self._overflow = True
            self._line.clear()
        else:
            self._line += part


class KeyBurst:
    """Keyboard-wedge scans: feed each typed character and its time; Enter ends a burst.

    ``key(char, t)`` returns a :class:`Scan` when Enter closes a fast burst of at least
    ``MIN_BURST`` characters, else None (a person typing, whose keys stay with the UI).
    """

    def __init__(self, max_gap: float = MAX_GAP_S) -> None:
        self._max_gap = max_gap
        self._chars: list[str] = []
        self._last = float("-inf")

    def key(self, char: str, t: float) -> Scan | None:
        fast = t - self._last <= self._max_gap
        self._last = t
        if char in ("\r", "\n"):
            chars, self._chars = self._chars, []
            if fast and len(chars) >= MIN_BURST:
                return check_code("".join(chars).encode("utf-8", "surrogatepass"))
            return None
        if not fast:
            self._chars = []
        if len(self._chars) <= MAX_CODE:
            self._chars.append(char)
        return None
