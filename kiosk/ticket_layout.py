"""Put the kiosk's ticket on paper, one of two ways chosen per printer:

- `raster` (any ESC/POS printer): the whole ticket is drawn here with a CJK font, in
  stacked blocks each as wide as the paper, and sent as one GS v 0 image, so it looks the
  same everywhere.
- `text` (printers with a built-in Chinese font): GB18030 text, GS ! sizes and the
  printer's own QR command; fewer bytes, the printer's font.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from caller.core.i18n import Translator
from drivers.fonts import find_cjk_font
from drivers.printer.jobs import TextJob, paper_dots, raster_job
from kiosk.ticket import TicketPrint, ahead_line, check_mode, ticket_words, wait_line

BLACK, WHITE = 0, 255
BASE_WIDTH = 576  # sizes below are for 80 mm paper and scale down for 58 mm
NO_LINE_START = set("，。、；：？！）》」』”’%·")


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _tokens(text: str) -> list[str]:
    """Words of ASCII letters/digits stay whole; every other character stands alone."""
    tokens: list[str] = []
    for char in text:
        if tokens and _is_word_char(char) and _is_word_char(tokens[-1][-1]):
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def _label_head(label: str) -> str:
    """`办理窗口：` of `办理窗口：3号窗口、5号窗口` (`Windows: ` in English): wrapped lines
    continue under the values, not under the label."""
    for colon in ("：", ": "):
        if colon in label:
            return label[: label.index(colon) + len(colon)]
    return ""


class TicketLayout:
    """Draws tickets for one paper width and font."""

    def __init__(self, width: int, font_path: str | None = None) -> None:
        self.width = width
        self.scale = width / BASE_WIDTH
        # Text shrinks less than the paper: 58 mm tickets must stay readable.
        self.text_scale = min(1.0, self.scale * 1.25)
        self.margin = self.px(16)
        self.font_file = find_cjk_font(font_path)

    def px(self, size: float) -> int:
        return max(1, round(size * self.scale))

    def font(self, size: float) -> ImageFont.FreeTypeFont:
        return _font(self.font_file, max(8, round(size * self.text_scale)))

    # -- the ticket ------------------------------------------------------------------

    def draw(self, ticket: TicketPrint, t: Translator) -> Image.Image:
        """The whole ticket, its labels in `t`'s language (the `ticket.*` words)."""
        ahead = ahead_line(t, ticket.ahead)
        blocks = [
            self.gap(12),
            self.text(ticket.hall_name, 28, align="center"),
            self.gap(4),
            self.text(ticket.service_name, 40, align="center", bold=True),
            self.gap(12),
            self.rule(thick=True),
        ]
        if ticket.priority:
            blocks += [self.gap(14), self.banner(t("priority"), 30)]
        blocks += [
            self.gap(14),
            self.number(ticket.number),
            self.gap(14),
            self.text(ahead, 30, align="center", bold=True),
            *([self.text(wait, 24, align="center")] if (wait := wait_line(t, ticket.wait_min)) else []),
            self.gap(12),
            self.rule(),
            self.gap(10),
            self.text(t("issued_at", time=ticket.issued_at), 24),
        ]
        if ticket.windows:
            label = t("windows", windows=t("window_separator").join(ticket.windows))
            blocks.append(self.text(label, 24, hanging=_label_head(label)))
        blocks += [self.gap(10), self.rule(), self.gap(10)]
        if ticket.materials:
            blocks.append(self.text(t("materials_title"), 26, bold=True))
            blocks += [
                self.text(f"{i}. {item}", 24, hanging=f"{i}. ")
                for i, item in enumerate(ticket.materials, start=1)
            ]
        else:
            blocks.append(self.text(t("no_materials"), 24))
        blocks += [self.gap(10), self.rule()]
        if ticket.qr_data:
            blocks += [
                self.gap(16),
                self.qr(ticket.qr_data),
            ]
            if ticket.status_page:
                blocks += [self.gap(6), self.text(t("qr_caption"), 22, align="center")]
        if ticket.notice:
            blocks += [self.gap(12), self.text(ticket.notice, 24, align="center", bold=True)]
        blocks.append(self.gap(24))
        return self.stack(blocks)

    # -- blocks ----------------------------------------------------------------------

    def stack(self, blocks: Iterable[Image.Image]) -> Image.Image:
        blocks = list(blocks)
        paper = Image.new("L", (self.width, sum(b.height for b in blocks)), WHITE)
        y = 0
        for block in blocks:
            paper.paste(block, (0, y))
            y += block.height
        # Threshold, never dither: a thermal head prints dots, and text must stay crisp.
        return paper.point(lambda v: BLACK if v < 128 else WHITE, mode="1")

    def blank(self, dots: int) -> Image.Image:
        return Image.new("L", (self.width, dots), WHITE)

    def gap(self, height: float) -> Image.Image:
        return self.blank(self.px(height))

    def rule(self, thick: bool = False) -> Image.Image:
        """A solid rule under the heading, dashed rules between the other sections."""
        height = self.px(4 if thick else 2)
        block = self.blank(height)
        draw = ImageDraw.Draw(block)
        left, right = self.margin, self.width - self.margin
        if thick:
            draw.rectangle((left, 0, right, height - 1), fill=BLACK)
            return block
        dash, space = self.px(10), self.px(6)
        for x in range(left, right, dash + space):
            draw.rectangle((x, 0, min(x + dash, right) - 1, height - 1), fill=BLACK)
        return block

    def wrap(self, text: str, font: ImageFont.FreeTypeFont, width: int, indent: int) -> list[str]:
        """Greedy line breaking by pixel width; closing punctuation never starts a line."""
        lines, current = [], ""
        for token in _tokens(text):
            limit = width - (indent if lines else 0)
            if current and font.getlength(current + token) > limit and token not in NO_LINE_START:
                lines.append(current)
                current = ""
            current += token
        lines.append(current)
        return lines

    def text(
        self, text: str, size: float, align: str = "left", bold: bool = False, hanging: str = ""
    ) -> Image.Image:
        """Wrapped text; continuation lines start after `hanging` (e.g. a list number)."""
        font = self.font(size)
        usable = self.width - 2 * self.margin
        indent = round(font.getlength(hanging)) if hanging else 0
        lines = self.wrap(text, font, usable, indent)
        line_height = round(font.size * 1.3)
        block = self.blank(line_height * len(lines))
        draw = ImageDraw.Draw(block)
        for row, line in enumerate(lines):
            x = self.margin + (indent if row else 0)
            if align == "center":
                x = (self.width - round(font.getlength(line))) // 2
            y = row * line_height + (line_height - font.size) // 2
            # Bold by a second pass one dot right: strokes blur small characters.
            for dx in (0, 1) if bold else (0,):
                draw.text((x + dx, y), line, font=font, fill=BLACK)
        return block

    def banner(self, text: str, size: float) -> Image.Image:
        """White text on a black bar, for priority (green-channel) tickets."""
        font = self.font(size)
        height = round(font.size * 1.6)
        block = self.blank(height)
        draw = ImageDraw.Draw(block)
        draw.rectangle((self.margin, 0, self.width - self.margin - 1, height - 1), fill=BLACK)
        x = (self.width - round(font.getlength(text))) // 2
        draw.text((x, (height - font.size) // 2), text, font=font, fill=WHITE)
        return block

    def number(self, number: str) -> Image.Image:
        """The ticket number as large as the paper allows, centred, cropped to its ink."""
        usable = self.width - 4 * self.margin
        size = self.px(200)
        while size > 12 and _font(self.font_file, size).getlength(number) > usable:
            size -= 4
        font = _font(self.font_file, size)
        stroke = max(1, size // 40)
        _, _, right, bottom = font.getbbox(number, stroke_width=stroke)
        glyphs = Image.new("L", (right + stroke, bottom + stroke), WHITE)
        ImageDraw.Draw(glyphs).text(
            (0, 0), number, font=font, fill=BLACK, stroke_width=stroke, stroke_fill=BLACK
        )
        # Centre the ink itself: font metrics include side bearings the eye does not see.
        ink = glyphs.crop(glyphs.point(lambda v: 255 if v < 128 else 0).getbbox())
        block = self.blank(ink.height)
        block.paste(ink, ((self.width - ink.width) // 2, 0))
        return block

    def qr(self, data: str) -> Image.Image:
        """The QR code with whole-dot modules (no blur), centred, with its quiet zone."""
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
        code.add_data(data)
        code.make(fit=True)
        matrix = code.get_matrix()
        module = max(2, self.px(220) // len(matrix))
        small = Image.new("L", (len(matrix), len(matrix)), WHITE)
        small.putdata([BLACK if dark else WHITE for row in matrix for dark in row])
        side = len(matrix) * module
        block = self.blank(side)
        block.paste(small.resize((side, side), Image.Resampling.NEAREST),
                    ((self.width - side) // 2, 0))
        return block


# ------------------------------------------------------------------------- the jobs

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
    if wait_line(t, ticket.wait_min):
        job.line(wait_line(t, ticket.wait_min))
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
        if ticket.status_page:
            job.line(t("qr_caption"))
    for part in _wrap(job, ticket.notice, columns):
        if part:
            job.line(part)
    return job.finish()
