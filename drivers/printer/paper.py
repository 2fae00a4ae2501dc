"""Draw a decoded job the way a thermal printer puts it on paper (a mode "1" image)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from drivers.fonts import FontNotFound, find_cjk_font
from drivers.printer.decode import (
    CHAR_DOTS,
    BarcodeBlock,
    Feed,
    PrintBlock,
    PrintedJob,
    QrBlock,
    RasterBlock,
    TextLine,
)

BLACK, WHITE = 0, 255


@lru_cache(maxsize=4)
def _printer_font(font_path: str | None) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The printer's built-in font stands in as a CJK font at the 24-dot cell size."""
    try:
        return ImageFont.truetype(find_cjk_font(font_path), CHAR_DOTS)
    except (FontNotFound, OSError):
        return ImageFont.load_default()


def render_job(job: PrintedJob, width: int = 576, font_path: str | None = None) -> Image.Image:
    """Paper for `job`, at least `width` dots wide (wider if an image in it is wider)."""
    images = [b.image.width for b in job.blocks if isinstance(b, RasterBlock)]
    width = max([width, *images])
    pieces = [_render_block(block, width, font_path) for block in job.blocks]
    paper = Image.new("1", (width, max(1, sum(p.height for p in pieces))), WHITE)
    y = 0
    for piece in pieces:
        paper.paste(piece, (0, y))
        y += piece.height
    return paper


def next_stem(directory: Path, name: str) -> str:
    """`<seq>-<name>`: seq counts the `.bin` files already in `directory`."""
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", name) or "job"
    return f"{len(list(directory.glob('*.bin'))) + 1:04d}-{safe}"


def save_job(directory: Path, job: PrintedJob, name: str, width: int = 576) -> Path:
    """Write `<seq>-<name>.bin` (the job's bytes) and `.png` (its paper); return the `.bin`."""
    stem = next_stem(directory, name)
    (directory / f"{stem}.bin").write_bytes(job.raw)
    render_job(job, width).save(directory / f"{stem}.png")
    return directory / f"{stem}.bin"


def _render_block(block: PrintBlock, width: int, font_path: str | None) -> Image.Image:
    if isinstance(block, RasterBlock):
        strip = Image.new("1", (width, block.image.height), WHITE)
        strip.paste(block.image, (0, 0))
        return strip
    if isinstance(block, Feed):
        return Image.new("1", (width, block.dots), WHITE)
    if isinstance(block, QrBlock):
        return _aligned(_qr_image(block), width, block.align)
    if isinstance(block, BarcodeBlock):
        return _text_line(TextLine(block.data, align=block.align), width, font_path)
    return _text_line(block, width, font_path)


def _aligned(image: Image.Image, width: int, align: str) -> Image.Image:
    strip = Image.new("1", (width, image.height), WHITE)
    x = {"left": 0, "center": (width - image.width) // 2, "right": width - image.width}[align]
    strip.paste(image, (max(0, x), 0))
    return strip


def _qr_image(block: QrBlock) -> Image.Image:
    code = qrcode.QRCode(border=0)
    code.add_data(block.data)
    code.make(fit=True)
    modules = code.get_matrix()
    size = len(modules)
    small = Image.new("1", (size, size), WHITE)
    small.putdata([BLACK if dark else WHITE for row in modules for dark in row])
    return small.resize((size * block.module, size * block.module), Image.Resampling.NEAREST)


def _cell_width(char: str) -> int:
    """Font A cells: 12 dots for a one-byte character, 24 for a two-byte (Chinese) one."""
    return CHAR_DOTS if len(char.encode("gb18030", errors="replace")) > 1 else CHAR_DOTS // 2


def _text_line(line: TextLine, width: int, font_path: str | None) -> Image.Image:
    strip = Image.new("1", (width, line.pitch), WHITE)
    if not line.text:
        return strip
    font = _printer_font(font_path)
    cells = [_cell_width(c) for c in line.text]
    glyphs = Image.new("L", (sum(cells), CHAR_DOTS), WHITE)
    draw = ImageDraw.Draw(glyphs)
    x = 0
    for char, cell in zip(line.text, cells, strict=True):
        offset = (cell - font.getlength(char)) / 2
        for dx in (0, 1) if line.bold else (0,):
            draw.text((x + offset + dx, 0), char, font=font, fill=BLACK)
        x += cell
    glyphs = glyphs.resize(
        (glyphs.width * line.width, CHAR_DOTS * line.height), Image.Resampling.NEAREST
    )
    dark = BLACK if not line.invert else WHITE
    ink = glyphs.point(lambda v: dark if v < 128 else WHITE - dark, mode="1")
    strip.paste(_aligned(ink, width, line.align), (0, 0))
    return strip
