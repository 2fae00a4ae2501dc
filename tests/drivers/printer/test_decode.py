"""The decoder reads back what the printer was sent: the picture, the text, the QR, the cut."""

import random

from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from drivers.printer.decode import EscPosDecoder, PrintedJob, StatusRequest, TextLine
from drivers.printer.paper import render_job
from drivers.printer.status import DLE_EOT, GS_R
from tests.drivers.printer.conftest import SampleJob


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def decode_all(data: bytes) -> list:
    return EscPosDecoder().feed(data)


def test_a_raster_job_decodes_to_its_image_pixel_for_pixel(sample: SampleJob):
    for paper_mm in (80, 58):
        data = sample.raster(paper_mm)
        [job] = decode_all(data)
        assert job.cut
        assert job.raw == data
        assert same_pixels(job.raster, sample.picture(paper_mm))


def test_a_text_job_decodes_to_its_lines_sizes_and_qr(sample: SampleJob):
    [job] = decode_all(sample.text())
    assert job.text_lines[:3] == ["城东区政务服务中心", sample.service_name, sample.number]
    assert "1. 居民身份证原件" in job.text_lines
    number = next(b for b in job.blocks if isinstance(b, TextLine) and b.text == sample.number)
    assert (number.width, number.height, number.align) == (4, 4, "center")
    rule = next(b for b in job.blocks if isinstance(b, TextLine) and b.text.startswith("-"))
    assert (len(rule.text), rule.width, rule.align) == (48, 1, "left")
    assert job.qr_data == [sample.qr_data]
    assert job.cut


def test_text_job_draws_as_paper_with_the_qr(sample: SampleJob):
    [job] = decode_all(sample.text(58))
    paper = render_job(job, 384)
    assert paper.width == 384
    assert paper.point(lambda v: 255 - v).getbbox() is not None


def test_status_requests_are_answered_apart_from_the_jobs(sample: SampleJob):
    job_bytes = sample.text()
    events = decode_all(b"\x10\x04\x01" + job_bytes + b"\x1dr\x01")
    assert events[0] == StatusRequest(DLE_EOT, 1)
    assert isinstance(events[1], PrintedJob) and events[1].raw == job_bytes
    assert events[2] == StatusRequest(GS_R, 1)


def test_a_job_never_cut_comes_out_at_the_end_of_the_stream():
    decoder = EscPosDecoder()
    assert decoder.feed(b"\x1b@\x1c&" + "半张".encode("gb18030") + b"\n") == []
    assert decoder.pending
    job = decoder.flush()
    assert job.text_lines == ["半张"] and not job.cut
    assert decoder.flush() is None


def test_other_image_commands_decode_to_the_same_picture():
    rng = random.Random(7)
    image = Image.new("1", (64, 48))
    image.putdata([rng.choice((0, 255)) for _ in range(64 * 48)])
    for impl in ("graphics", "bitImageColumn", "bitImageRaster"):
        printer = Dummy()
        printer.image(image, impl=impl)
        printer.cut()
        [job] = decode_all(printer.output)
        assert same_pixels(job.raster.crop((0, 0, 64, 48)), image), impl


def two_jobs(sample: SampleJob) -> bytes:
    return (b"\x10\x04\x04" + sample.text() + b"\x1dr\x01"
            + sample.text(58, number="B101") + b"\x10\x04\x01")


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12))
def test_any_chunking_of_the_stream_decodes_the_same(cuts):
    stream = two_jobs(SampleJob())
    whole = decode_all(stream)
    decoder, events, start = EscPosDecoder(), [], 0
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        events += decoder.feed(stream[start:cut])
        start = cut
    assert [type(e) for e in events] == [type(e) for e in whole]
    for got, want in zip(events, whole, strict=True):
        if isinstance(want, PrintedJob):
            assert (got.raw, got.text_lines, got.qr_data) == (want.raw, want.text_lines, want.qr_data)
        else:
            assert got == want
