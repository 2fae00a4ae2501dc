"""Print jobs as ESC/POS bytes: one raster image, or lines of text in the printer's font.

This module is the only user of python-escpos's byte-level internals (`write_raw`); what a
job says and how it is laid out is the caller's business (the kiosk's ticket).

    job = TextJob(paper_mm=58)
    job.style(align="center", bold=True)
    job.line("A023")
    data = job.finish()          # ESC @ … cut
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from escpos.capabilities import Profile, get_profile
from escpos.printer import Dummy
from PIL import Image

from drivers.text import without_controls

if TYPE_CHECKING:
    from escpos.escpos import Escpos

PAPER_DOTS = {80: 576, 58: 384}  # printable dots at 203 dpi
TEXT_CELL_DOTS = 12  # font A: a single-byte character is 12 dots wide, a double-byte one 24
FS_CHINESE_ON = b"\x1c&"  # FS &: double-byte (GB18030) characters
Align = Literal["left", "center", "right"]


def paper_dots(paper_mm: int) -> int:
    """Printable width in dots for 80 or 58 mm paper; ValueError otherwise."""
    try:
        return PAPER_DOTS[paper_mm]
    except KeyError:
        raise ValueError(f"paper width {paper_mm} mm is not supported; use 80 or 58") from None


def write_raw(printer: Escpos, data: bytes) -> None:
    """Send bytes through a python-escpos printer as they are (its `_raw`, in one place)."""
    printer._raw(data)


def _printer(paper_mm: int) -> Dummy:
    """A byte-collecting python-escpos printer that knows the paper width and can cut."""
    default = get_profile()
    profile = Profile(features=dict(default.features))
    media = {"dpi": 203, "width": {"mm": paper_mm, "pixels": paper_dots(paper_mm)}}
    profile.profile_data = {**default.profile_data, "media": media}
    return Dummy(profile=profile)


def raster_job(image: Image.Image, paper_mm: int = 80) -> bytes:
    """ESC @, the image as GS v 0 raster, feed, full cut."""
    printer = _printer(paper_mm)
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster")
    printer.cut()
    return printer.output


class TextJob:
    """A text job in the printer's own font: lines in `codec`, GS ! sizes, the printer's QR.

    `codec` "gb18030" switches the printer to double-byte characters (FS &), which prints
    Chinese and plain ASCII alike.
    """

    def __init__(self, paper_mm: int = 80, codec: str = "gb18030") -> None:
        self.paper_mm = paper_mm
        self.columns = paper_dots(paper_mm) // TEXT_CELL_DOTS
        self.codec = codec
        self._printer = _printer(paper_mm)
        self._printer.hw("INIT")
        if codec == "gb18030":
            write_raw(self._printer, FS_CHINESE_ON)

    def cells(self, text: str) -> int:
        """Font-A cells `text` takes: one per single-byte character, two per double-byte one."""
        return len(text.encode(self.codec))

    def style(self, *, align: Align | None = None, bold: bool | None = None,
              size: int | None = None, invert: bool | None = None) -> None:
        """Change what the next lines look like; `size` 1-8 multiplies width and height."""
        options: dict[str, object] = {}
        if align is not None:
            options["align"] = align
        if bold is not None:
            options["bold"] = bold
        if invert is not None:
            options["invert"] = invert
        if size is not None:
            options.update(custom_size=True, width=size, height=size)
        self._printer.set(**options)

    def line(self, text: str = "") -> None:
        """One line, control characters dropped (a `GS V` in a notice must not cut the
        paper); ValueError when `text` has a character the codec cannot print."""
        write_raw(self._printer, without_controls(text).encode(self.codec) + b"\n")

    def qr(self, data: str, size: int) -> None:
        """The printer's own QR code (GS ( k) holding `data`, modules `size` dots wide."""
        self._printer.qr(data, size=size, native=True)

    def finish(self) -> bytes:
        """Feed, cut, and return the whole job."""
        self._printer.cut()
        return self._printer.output
