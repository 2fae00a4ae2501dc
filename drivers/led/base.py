"""What every LED strip protocol shares: the content of a strip and the GBK character codec.

:class:`StripText` is what a strip shows; :func:`gbk_char`/:func:`read_gbk_char` write and
read the character bytes both wire formats use; :class:`LedProtocol` is the shape each
protocol module offers. The protocol modules import from here, and the package
(``drivers.led``) only re-exports, so nothing in it imports its own package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from drivers.text import is_control

Colour = Literal["red", "green", "yellow"]
Effect = Literal["steady", "flash"]
COLOURS: tuple[Colour, ...] = ("red", "green", "yellow")
EFFECTS: tuple[Effect, ...] = ("steady", "flash")
UNENCODABLE = "?"


@dataclass(frozen=True)
class StripText:
    """Coloured text for one strip, in canonical form.

    Empty segments are dropped and neighbours of the same colour merged, so two
    contents that look the same on the strip compare equal. No segments = blank strip.
    """

    segments: tuple[tuple[str, Colour], ...] = ()
    effect: Effect = "steady"

    def __post_init__(self) -> None:
        if self.effect not in EFFECTS:
            raise ValueError(f"effect must be one of {', '.join(EFFECTS)}, not {self.effect!r}")
        merged: list[tuple[str, Colour]] = []
        for text, colour in self.segments:
            if colour not in COLOURS:
                raise ValueError(f"colour must be one of {', '.join(COLOURS)}, not {colour!r}")
            if not text:
                continue
            if merged and merged[-1][1] == colour:
                merged[-1] = (merged[-1][0] + text, colour)
            else:
                merged.append((text, colour))
        object.__setattr__(self, "segments", tuple(merged))

    @classmethod
    def plain(cls, text: str, colour: Colour = "red", effect: Effect = "steady") -> StripText:
        """One text in one colour."""
        return cls(((text, colour),), effect)

    @classmethod
    def from_chars(
        cls, chars: Iterable[tuple[str, Colour]], effect: Effect = "steady"
    ) -> StripText:
        """Build from (character, colour) pairs, as decoders read them."""
        return cls(tuple(chars), effect)

    @property
    def text(self) -> str:
        """The characters shown, without colours."""
        return "".join(text for text, _ in self.segments)

    def chars(self) -> list[tuple[str, Colour]]:
        """Every character with its colour."""
        return [(ch, colour) for text, colour in self.segments for ch in text]

    @property
    def columns(self) -> int:
        """How wide the text is on a strip, in half-width columns (see :func:`char_columns`)."""
        return sum(char_columns(ch) for ch in self.text)

    def cut(self, columns: int) -> StripText:
        """What a strip ``columns`` half-width columns wide shows: the characters that fit,
        from the left."""
        kept: list[tuple[str, Colour]] = []
        used = 0
        for ch, colour in self.chars():
            used += char_columns(ch)
            if used > columns:
                break
            kept.append((ch, colour))
        return StripText.from_chars(kept, self.effect)


def char_columns(ch: str) -> int:
    """Half-width columns (8 dots of a 16-dot strip) a character takes: ASCII one, others two."""
    return 1 if ord(ch) < 0x80 else 2


def gbk_char(ch: str) -> bytes:
    """The bytes a strip's font ROM expects for one character: ASCII as one byte, any
    other character as its two GBK bytes, and ``?`` for a control character or what GBK
    cannot encode."""
    if is_control(ch):
        return UNENCODABLE.encode("ascii")
    if ord(ch) < 0x80:
        return ch.encode("ascii")
    try:
        encoded = ch.encode("gbk")
    except UnicodeEncodeError:
        return UNENCODABLE.encode("ascii")
    return encoded if len(encoded) == 2 else UNENCODABLE.encode("ascii")


def read_gbk_char(data: bytes, pos: int) -> tuple[str, int] | None:
    """Read one character written by :func:`gbk_char` at ``data[pos]``.

    Returns the character and the position after it, or None when the bytes are not
    a valid character (a truncated or corrupt frame).
    """
    if pos >= len(data):
        return None
    lead = data[pos]
    if lead < 0x80:
        return chr(lead), pos + 1
    if not 0x81 <= lead <= 0xFE or pos + 1 >= len(data):
        return None
    try:
        ch = data[pos : pos + 2].decode("gbk")
    except UnicodeDecodeError:
        return None
    return (ch, pos + 2) if len(ch) == 1 else None


class StreamDecoder(Protocol):
    """Turns a byte stream from a line into the frames it carries."""

    def feed(self, data: bytes) -> list[tuple[int, StripText]]: ...


@dataclass(frozen=True)
class LedProtocol:
    """One wire protocol: how to write a frame and how to read a stream of them."""

    name: str
    encode: Callable[[int, StripText], bytes]
    new_decoder: Callable[[], StreamDecoder]
    max_address: int
