"""The ticket a citizen takes home: its bytes in both print modes, its picture, and its
language, read back from the bytes by the printer decoder."""

import pytest
from PIL import Image, ImageChops

from caller.core.i18n import UnknownLanguage
from drivers.printer.decode import EscPosDecoder, PrintedJob, TextLine
from kiosk.ticket import TicketPrint
from kiosk.ticket_layout import render_raster, ticket_bytes

ESC_INIT = b"\x1b@"
FULL_CUT = b"\x1dV\x00"
RASTER = b"\x1dv0"


@pytest.fixture
def ticket() -> TicketPrint:
    return TicketPrint(
        hall_name="城东区政务服务中心",
        service_name="不动产登记",
        number="A023",
        ahead=5,
        issued_at="2024-05-06 09:12",
        windows=["3号窗口", "5号窗口"],
        materials=["居民身份证原件", "不动产权证书原件", "购房合同原件"],
        qr_data="https://hall.example/p/t/6nhs2kn46uofiugh4tqaw7weny",
        status_page=True, wait_min=12,
        notice="请留意叫号，过号请重新取号",
    )


def decode_one(data: bytes) -> PrintedJob:
    [job] = EscPosDecoder().feed(data)
    assert job.cut
    return job


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


def test_text_ticket_decodes_to_its_lines_and_qr(ticket):
    job = decode_one(ticket_bytes(ticket, "text"))
    lines = job.text_lines
    for expected in (ticket.hall_name, ticket.service_name, ticket.number,
                     "您前面还有 5 人等候", "取号时间：2024-05-06 09:12", "办理窗口：3号窗口、5号窗口",
                     "请携带以下材料（一次性告知）", "扫码查看排队进度", "预计等候约 12 分钟", ticket.notice,
                     *(f"{i}. {m}" for i, m in enumerate(ticket.materials, start=1))):
        assert expected in lines
    number = next(b for b in job.blocks if isinstance(b, TextLine) and b.text == ticket.number)
    assert (number.width, number.height, number.align) == (4, 4, "center")
    assert job.qr_data == [ticket.qr_data]


def test_without_a_published_page_the_ticket_promises_none(ticket):
    plain = TicketPrint(**{**ticket.__dict__, "status_page": False, "wait_min": None,
                           "qr_data": "hallq:ticket:2024-05-06:A023"})
    lines = decode_one(ticket_bytes(plain, "text")).text_lines
    assert "扫码查看排队进度" not in lines and not [x for x in lines if "预计等候" in x]


def test_text_lines_fit_the_paper(ticket):
    long = TicketPrint(**{**ticket.__dict__, "materials": ["经公证的授权委托书及受托人身份证原件" * 4]})
    for paper_mm, columns in ((80, 48), (58, 32)):
        job = decode_one(ticket_bytes(long, "text", paper_mm))
        normal = [b for b in job.blocks if isinstance(b, TextLine) and b.width == 1]
        assert max(len(b.text.encode("gb18030")) for b in normal) <= columns


def test_a_ticket_taken_in_english_prints_in_english(ticket):
    """The labels follow the citizen's language; the hall's own words (service, materials,
    notice) print as the hall wrote them."""
    priority = TicketPrint(**{**ticket.__dict__, "priority": True})
    lines = decode_one(ticket_bytes(priority, "text", lang="en")).text_lines
    for expected in ("5 people ahead of you", "Issued: 2024-05-06 09:12",
                     "Windows: 3号窗口, 5号窗口", "Please bring (full list)",
                     "Scan to follow your place in the queue", " PRIORITY ", ticket.service_name,
                     "1. 居民身份证原件"):
        assert expected in lines
    assert not any("您前面" in line or "办理窗口" in line for line in lines)
    alone = TicketPrint(**{**ticket.__dict__, "ahead": 0, "materials": []})
    lines = decode_one(ticket_bytes(alone, "text", lang="en")).text_lines
    assert "Nobody is ahead of you" in lines and "No documents needed" in lines


def test_a_raster_ticket_in_english_is_drawn_with_the_english_labels(ticket):
    job = decode_one(ticket_bytes(ticket, "raster", lang="en"))
    english = render_raster(ticket, lang="en")
    assert ImageChops.difference(job.raster.convert("L"), english.convert("L")).getbbox() is None
    chinese = render_raster(ticket, lang="zh")
    assert ImageChops.difference(english.convert("L"), chinese.convert("L")).getbbox() is not None


def test_unknown_language_mode_and_paper_are_refused(ticket):
    with pytest.raises(UnknownLanguage, match="'fr'; expected one of en, zh"):
        ticket_bytes(ticket, "text", lang="fr")
    with pytest.raises(ValueError, match="pdf"):
        ticket_bytes(ticket, "pdf")
    with pytest.raises(ValueError, match="76 mm"):
        render_raster(ticket, 76)
