"""The ticket a citizen takes home: its bytes in both print modes, and its picture."""

import pytest
from PIL import Image

from drivers.printer.labels import labels
from drivers.printer.ticket import TicketPrint, render_raster, ticket_bytes

ESC_INIT = b"\x1b@"
FULL_CUT = b"\x1dV\x00"
RASTER = b"\x1dv0"


def ink_rows(image: Image.Image) -> list[int]:
    """Black dots per row of a mode "1" image."""
    width, height = image.size
    data = image.tobytes("raw", "1;I")  # 1 bit = black dot
    row = (width + 7) // 8
    return [sum(bin(b).count("1") for b in data[y * row : (y + 1) * row]) for y in range(height)]


def bands(rows: list[int]) -> list[tuple[int, int]]:
    """(top, bottom) of each run of rows that have ink."""
    found, start = [], None
    for y, count in enumerate([*rows, 0]):
        if count and start is None:
            start = y
        elif not count and start is not None:
            found.append((start, y))
            start = None
    return found


@pytest.mark.parametrize(("paper_mm", "width_bytes"), [(80, 72), (58, 48)])
def test_raster_job_is_init_image_feed_cut(ticket: TicketPrint, paper_mm, width_bytes):
    data = ticket_bytes(ticket, "raster", paper_mm)
    assert data.startswith(ESC_INIT)
    # GS v 0, normal density, xL xH = the paper's width in bytes
    assert RASTER + b"\x00" + bytes([width_bytes, 0]) in data
    assert data.endswith(b"\x1bd\x06" + FULL_CUT)  # feed six lines, then cut


@pytest.mark.parametrize(("paper_mm", "width"), [(80, 576), (58, 384)])
def test_raster_ticket_fills_the_paper_width_and_is_printed(ticket, paper_mm, width):
    image = render_raster(ticket, paper_mm)
    assert image.mode == "1"
    assert image.width == width
    assert image.height > width  # a ticket is a tall strip
    black = sum(ink_rows(image)) / (image.width * image.height)
    assert 0.03 < black < 0.5


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_number_is_very_large_and_centred_near_the_top(ticket, paper_mm):
    image = render_raster(ticket, paper_mm)
    tall = [(top, bottom) for top, bottom in bands(ink_rows(image)) if bottom - top > 60]
    top, bottom = tall[0]  # the first tall band is the number (the QR comes later)
    assert bottom - top >= image.width // 5
    assert bottom < image.height // 2
    left, _, right, _ = image.crop((0, top, image.width, bottom)).point(lambda v: 255 - v).getbbox()
    assert abs((left + right) / 2 - image.width / 2) <= 3
    assert right - left > image.width // 2


def test_long_materials_wrap_inside_the_margins(ticket):
    long_item = "申请人为未成年人的，需提供监护人身份证明、出生医学证明或户口簿等能证明监护关系的材料" * 2
    short = render_raster(ticket)
    wrapped = render_raster(
        TicketPrint(**{**ticket.__dict__, "materials": [*ticket.materials, long_item]})
    )
    left, _, right, _ = wrapped.point(lambda v: 255 - v).getbbox()
    assert left >= 8
    assert right <= wrapped.width - 8
    line = 24 * 1.3
    assert wrapped.height - short.height >= 3 * line  # the long item takes several lines


def test_priority_ticket_has_a_black_banner(ticket):
    def banner_rows(image):
        return sum(1 for count in ink_rows(image) if count > image.width * 0.6)

    plain = render_raster(ticket)
    priority = render_raster(TicketPrint(**{**ticket.__dict__, "priority": True}))
    assert banner_rows(priority) - banner_rows(plain) >= 30


def test_text_job_uses_the_printers_chinese_font_and_qr(ticket):
    data = ticket_bytes(ticket, "text")
    assert data.startswith(ESC_INIT + b"\x1c&")  # FS &: Chinese character mode
    assert ticket.service_name.encode("gb18030") in data
    big = data.index(b"\x1d!\x33")  # GS ! 4 x 4 for the number, back to 1 x 1 after it
    assert big < data.index(ticket.number.encode() + b"\n", big) < data.index(b"\x1d!\x00", big)
    qr = ticket.qr_data.encode()
    store = b"\x1d(k" + (len(qr) + 3).to_bytes(2, "little") + b"1P0" + qr
    assert store in data
    assert data.index(store) < data.index(b"\x1d(k\x03\x001Q0")  # then print the symbol
    assert data.endswith(FULL_CUT)


def test_text_job_in_english(ticket):
    data = ticket_bytes(ticket, "text", lang="en")
    assert b"5 people ahead of you" in data


def test_unknown_language_mode_and_paper_are_refused(ticket):
    with pytest.raises(ValueError, match="fr"):
        labels("fr")
    with pytest.raises(ValueError, match="pdf"):
        ticket_bytes(ticket, "pdf")
    with pytest.raises(ValueError, match="76 mm"):
        render_raster(ticket, 76)
