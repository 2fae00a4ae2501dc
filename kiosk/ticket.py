"""The citizen's queue ticket: what goes on it, in the language the citizen chose, drawn as
a raster image or set as printer text. `drivers.printer` only turns the result into bytes.

Two ways to print, chosen per printer:

- `raster` (any ESC/POS printer): the whole ticket is drawn here with a CJK font and sent
  as one GS v 0 image, so it looks the same everywhere.
- `text` (printers with a built-in Chinese font): GB18030 text, GS ! sizes and the
  printer's own QR command; fewer bytes, the printer's font.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from caller.core.i18n import Translator, translator
from drivers.printer.jobs import TextJob, paper_dots, raster_job
from kiosk.ticket_layout import TicketLayout

PrintMode = Literal["raster", "text"]
PRINT_MODES = ("raster", "text")


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


def check_mode(mode: str) -> PrintMode:
    """`mode` if the kiosk can print that way; ValueError naming the ways otherwise."""
    if mode not in PRINT_MODES:
        raise ValueError(f"print mode {mode!r} is not supported; use 'raster' or 'text'")
    return mode  # type: ignore[return-value]


def ticket_words(lang: str) -> Translator:
    """The ticket's labels in `lang`; UnknownLanguage (a ValueError) for one with no catalog."""
    return translator(lang, "ticket")


def render_raster(
    ticket: TicketPrint, paper_mm: int = 80, font_path: str | None = None, lang: str = "zh"
) -> Image.Image:
    """Draw the ticket as a 1-bit image exactly as wide as the paper's printable area."""
    return TicketLayout(paper_dots(paper_mm), font_path).draw(ticket, ticket_words(lang))


def ticket_bytes(
    ticket: TicketPrint,
    mode: str = "raster",
    paper_mm: int = 80,
    font_path: str | None = None,
    lang: str = "zh",
) -> bytes:
    """The complete ESC/POS job for one ticket, from ESC @ to the cut."""
    if check_mode(mode) == "raster":
        return raster_job(render_raster(ticket, paper_mm, font_path, lang), paper_mm)
    return text_bytes(ticket, paper_mm, lang)


def _wrap(job: TextJob, text: str, columns: int, indent: str = "") -> list[str]:
    """Break `text` so no line is wider than `columns` cells; continuation lines indented."""
    lines, current = [], ""
    for char in text:
        if current and job.cells(current + char) > columns:
            lines.append(current)
            current = indent
        current += char
    lines.append(current)
    return lines


def ahead_line(t: Translator, ahead: int) -> str:
    return t("ahead", n=ahead) if ahead else t("ahead_none")


def text_bytes(ticket: TicketPrint, paper_mm: int = 80, lang: str = "zh") -> bytes:
    """The ticket in the printer's own Chinese font: FS &, GB18030 lines, GS ! sizes, GS ( k QR."""
    t = ticket_words(lang)
    job = TextJob(paper_mm)
    columns = job.columns
    rule = "-" * columns

    def lines(text: str, width: int = columns, indent: str = "") -> None:
        for part in _wrap(job, text, width, indent):
            job.line(part)

    job.style(align="center", bold=True)
    lines(ticket.hall_name)
    job.style(size=2)
    lines(ticket.service_name, columns // 2)
    job.style(size=1, bold=False)
    job.line(rule)
    if ticket.priority:
        job.style(invert=True)
        job.line(f" {t('priority')} ")
        job.style(invert=False)
    job.style(size=4, bold=True)
    job.line(ticket.number)
    job.style(size=1, bold=False)
    job.line()
    job.line(ahead_line(t, ticket.ahead))
    job.line(rule)
    job.style(align="left")
    job.line(t("issued_at", time=ticket.issued_at))
    if ticket.windows:
        lines(t("windows", windows=t("window_separator").join(ticket.windows)), indent="  ")
    job.line(rule)
    job.style(bold=True)
    job.line(t("materials_title") if ticket.materials else t("no_materials"))
    job.style(bold=False)
    for index, material in enumerate(ticket.materials, start=1):
        lines(f"{index}. {material}", indent="   ")
    job.line(rule)
    job.style(align="center")
    if ticket.qr_data:
        job.qr(ticket.qr_data, size=6 if paper_mm == 80 else 4)
        job.line(t("qr_caption"))
    for part in _wrap(job, ticket.notice, columns):
        if part:
            job.line(part)
    return job.finish()
