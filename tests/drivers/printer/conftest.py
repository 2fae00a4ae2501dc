import threading
from dataclasses import dataclass

import pytest
from PIL import Image, ImageDraw

from drivers.printer.jobs import TextJob, paper_dots, raster_job


@dataclass(frozen=True)
class SampleJob:
    """Print jobs as a caller makes them: no ticket, just a picture and some lines."""

    number: str = "A023"
    service_name: str = "不动产登记"
    qr_data: str = "https://hall.example/t/20240506-A023"

    def picture(self, paper_mm: int = 80) -> Image.Image:
        """A strip of paper with blocks of ink: bars, a frame and a checkerboard."""
        width = paper_dots(paper_mm)
        image = Image.new("1", (width, 700), 1)
        draw = ImageDraw.Draw(image)
        draw.rectangle((16, 16, width - 17, 40), fill=0)
        draw.rectangle((40, 80, width - 41, 300), outline=0, width=6)
        for y in range(340, 660, 20):
            for x in range(16 + (y // 20 % 2) * 20, width - 16, 40):
                draw.rectangle((x, y, x + 19, y + 19), fill=0)
        return image

    def raster(self, paper_mm: int = 80) -> bytes:
        return raster_job(self.picture(paper_mm), paper_mm)

    def text(self, paper_mm: int = 80, number: str | None = None) -> bytes:
        job = TextJob(paper_mm)
        job.style(align="center", bold=True)
        job.line("城东区政务服务中心")
        job.style(size=2)
        job.line(self.service_name)
        job.style(size=4)
        job.line(number or self.number)
        job.style(size=1, bold=False, align="left")
        job.line("-" * job.columns)
        job.line("1. 居民身份证原件")
        job.style(align="center")
        job.qr(self.qr_data if number is None else number, size=6 if paper_mm == 80 else 4)
        return job.finish()


@pytest.fixture
def sample() -> SampleJob:
    return SampleJob()


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Every simulator and worker a test starts must be stopped by the end of it."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"
