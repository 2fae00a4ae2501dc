"""`image://DIR`: the virtual printer. Each ticket becomes `DIR/<seq>-<number>.bin`, the
exact ESC/POS bytes, and `DIR/<seq>-<number>.png`, what those bytes print, decoded back.

Faults for tests and demos, as query flags:

- `?paper=low` / `?paper=out`: the status it reports; with `out` a write is refused.
- `?fail_after=N`: once, the device drops mid-job when the bytes that reached DIR (every
  `.bin` in it counts) pass N, like a cable pulled during a ticket. The bytes that made
  it are kept as `<seq>-<number>.partial.bin`, which also marks the fault as spent, so
  a reopened printer (same URL) prints the next ticket.
- `?paper_mm=58`: paper width for drawing text-mode jobs (raster jobs bring their own).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import SplitResult, unquote

from drivers.printer.backends.base import PrinterBackend, url_options
from drivers.printer.decode import EscPosDecoder, PrintedJob
from drivers.printer.jobs import paper_dots
from drivers.printer.paper import next_stem, save_job
from drivers.printer.status import PaperState, PrinterStatus

PAPER_STATES = ("ok", "low", "out")


class ImageDirBackend(PrinterBackend):
    def __init__(
        self, directory: str, paper: PaperState = "ok", fail_after: int | None = None,
        paper_mm: int = 80,
    ) -> None:
        self.url = f"image://{directory}"
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._paper = paper
        self._fail_after = fail_after
        self._width = paper_dots(paper_mm)
        self._decoder = EscPosDecoder()

    def status(self) -> PrinterStatus:
        return PrinterStatus(online=self._paper != "out", paper=self._paper)

    def write(self, data: bytes, job: str = "") -> None:
        if self._paper == "out":
            raise OSError(f"{self.url} is out of paper")
        received = sum(p.stat().st_size for p in self.directory.glob("*.bin"))
        if self._fail_after is not None and self._fault_due(received + len(data)):
            kept = data[: max(0, self._fail_after - received)]
            stem = next_stem(self.directory, job)
            (self.directory / f"{stem}.partial.bin").write_bytes(kept)
            self._decoder = EscPosDecoder()
            raise ConnectionResetError(
                f"{self.url} dropped the job after {self._fail_after} bytes (fail_after)"
            )
        for event in self._decoder.feed(data):
            if isinstance(event, PrintedJob):
                save_job(self.directory, event, job, self._width)

    def _fault_due(self, total: int) -> bool:
        spent = any(self.directory.glob("*.partial.bin"))
        return not spent and self._fail_after is not None and total > self._fail_after

    def close(self) -> None:
        job = self._decoder.flush()
        if job is not None:
            save_job(self.directory, job, "uncut", self._width)


def open_url(url: str, parts: SplitResult) -> ImageDirBackend:
    directory = unquote(parts.netloc + parts.path)
    if not directory:
        raise ValueError(f"printer URL {url!r} names no directory; write image://DIR")
    options = url_options(url, parts.query, {"paper": str, "fail_after": int, "paper_mm": int})
    if options.get("paper", "ok") not in PAPER_STATES:
        raise ValueError(f"printer URL {url!r}: paper must be one of {', '.join(PAPER_STATES)}")
    return ImageDirBackend(directory, **options)
