"""A citizen's queue ticket: what goes on it, drawn as a raster image or sent as printer text.

Two ways to print, chosen per printer:

- `raster` (any ESC/POS printer): the whole ticket is drawn here with a CJK font and sent
  as one GS v 0 image, so it looks the same everywhere.
- `text` (printers with a built-in Chinese font): GB18030 text, GS ! sizes and the
  printer's own QR command; fewer bytes, the printer's font. Control characters in the
  ticket's text are dropped: a notice holding `GS V` must not cut the paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from escpos.capabilities import Profile, get_profile
from escpos.printer import Dummy
from PIL import Image

from drivers.printer.labels import labels
from drivers.printer.layout import TicketLayout
from drivers.text import without_controls

PrintMode = Literal["raster", "text"]
PAPER_DOTS = {80: 576, 58: 384}  # printable dots at 203 dpi
FS_CHINESE_ON = b"\x1c&"
TEXT_CELL_DOTS = 12  # font A: one ASCII character is 12 dots wide, a Chinese one 24


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on one ticket; the kiosk fills it in."""

    hall_name: str
    service_name: str
    number: str
    ahead: int
    issued_at: str
    windows: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    qr_data: str = ""
    notice: str = ""
    priority: bool = False


def paper_dots(paper_mm: int) -> int:
    """Printable width in dots for 80 or 58 mm paper; ValueError otherwise."""
    try:
        return PAPER_DOTS[paper_mm]
    except KeyError:
        raise ValueError(f"paper width {paper_mm} mm is not supported; use 80 or 58") from None


def render_raster(
    ticket: TicketPrint, paper_mm: int = 80, font_path: str | None = None, lang: str = "zh"
) -> Image.Image:
    """Draw the ticket as a 1-bit image exactly as wide as the paper's printable area."""
    return TicketLayout(paper_dots(paper_mm), font_path).draw(ticket, labels(lang))


def ticket_bytes(
    ticket: TicketPrint,
    mode: PrintMode = "raster",
    paper_mm: int = 80,
    font_path: str | None = None,
    lang: str = "zh",
) -> bytes:
    """The complete ESC/POS job for one ticket, from ESC @ to the cut."""
    if mode == "raster":
        return raster_bytes(render_raster(ticket, paper_mm, font_path, lang), paper_mm)
    if mode == "text":
        return text_bytes(ticket, paper_mm, lang)
    raise ValueError(f"print mode {mode!r} is not supported; use 'raster' or 'text'")


def _printer(paper_mm: int) -> Dummy:
    """A byte-collecting python-escpos printer that knows the paper width and can cut."""
    default = get_profile()
    profile = Profile(features=dict(default.features))
    media = {"dpi": 203, "width": {"mm": paper_mm, "pixels": paper_dots(paper_mm)}}
    profile.profile_data = {**default.profile_data, "media": media}
    return Dummy(profile=profile)


def raster_bytes(image: Image.Image, paper_mm: int = 80) -> bytes:
    """ESC @, the image as GS v 0 raster, feed, full cut."""
    printer = _printer(paper_mm)
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster")
    printer.cut()
    return printer.output


def _columns(text: str) -> int:
    """Font-A cells `text` takes: one per single-byte character, two per Chinese one."""
    return len(text.encode("gb18030"))


def _wrap(text: str, columns: int, indent: str = "") -> list[str]:
    """Break `text` so no line is wider than `columns` font-A cells; continuation indented."""
    lines, current = [], ""
    for char in text:
        if current and _columns(current + char) > columns:
            lines.append(current)
            current = indent
        current += char
    lines.append(current)
    return lines


def text_bytes(ticket: TicketPrint, paper_mm: int = 80, lang: str = "zh") -> bytes:
    """The ticket in the printer's own Chinese font: FS &, GB18030 lines, GS ! sizes, GS ( k QR."""
    text = labels(lang)
    printer = _printer(paper_mm)
    columns = paper_dots(paper_mm) // TEXT_CELL_DOTS
    rule = "-" * columns

    def line(value: str = "") -> None:
        printer._raw(without_controls(value).encode("gb18030") + b"\n")

    printer.hw("INIT")
    printer._raw(FS_CHINESE_ON)
    printer.set(align="center", bold=True)
    for part in _wrap(ticket.hall_name, columns):
        line(part)
    printer.set(custom_size=True, width=2, height=2)
    for part in _wrap(ticket.service_name, columns // 2):
        line(part)
    printer.set(custom_size=True, width=1, height=1, bold=False)
    line(rule)
    if ticket.priority:
        printer.set(invert=True)
        line(f" {text['priority']} ")
        printer.set(invert=False)
    printer.set(custom_size=True, width=4, height=4, bold=True)
    line(ticket.number)
    printer.set(custom_size=True, width=1, height=1, bold=False)
    line()
    line(text["ahead"].format(n=ticket.ahead) if ticket.ahead else text["ahead_none"])
    line(rule)
    printer.set(align="left")
    line(text["issued_at"].format(time=ticket.issued_at))
    if ticket.windows:
        windows = text["window_separator"].join(ticket.windows)
        for part in _wrap(text["windows"].format(windows=windows), columns, indent="  "):
            line(part)
    line(rule)
    printer.set(bold=True)
    line(text["materials_title"] if ticket.materials else text["no_materials"])
    printer.set(bold=False)
    for index, material in enumerate(ticket.materials, start=1):
        for part in _wrap(f"{index}. {material}", columns, indent="   "):
            line(part)
    line(rule)
    printer.set(align="center")
    if ticket.qr_data:
        printer.qr(ticket.qr_data, size=6 if paper_mm == 80 else 4, native=True)
        line(text["qr_caption"])
    for part in _wrap(ticket.notice, columns):
        if part:
            line(part)
    printer.cut()
    return printer.output
