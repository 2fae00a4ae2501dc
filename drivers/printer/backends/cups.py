"""`cups://NAME`: a raw queue on the local CUPS server (needs pycups)."""

from __future__ import annotations

from urllib.parse import SplitResult, unquote

from drivers.printer.backends.base import PrinterBackend, PrinterUnavailable
from drivers.printer.jobs import write_raw
from drivers.printer.status import PrinterStatus

_STOPPED = 5  # IPP printer-state: 3 idle, 4 processing, 5 stopped


class CupsBackend(PrinterBackend):
    """One CUPS job per write; CUPS reports a stopped queue, not the paper."""

    def __init__(self, name: str) -> None:
        from escpos.printer.cups import is_usable

        self.url = f"cups://{name}"
        if not is_usable():
            raise PrinterUnavailable(
                f"{self.url} needs pycups: `pip install pycups` (and libcups2-dev to build it)"
            )
        self._name = name

    def _printer(self, job: str):  # -> escpos.printer.CupsPrinter
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import CupsPrinter

        printer = CupsPrinter(printer_name=self._name)
        try:
            printer.open(job_name=job or "hallq")
        except DeviceNotFoundError as exc:
            raise PrinterUnavailable(f"{self.url}: {exc}") from exc
        return printer

    def write(self, data: bytes, job: str = "") -> None:
        printer = self._printer(job)
        write_raw(printer, data)
        printer.close()  # hands the job to CUPS

    def status(self) -> PrinterStatus:
        printer = self._printer("status")
        state = printer.printers.get(self._name, {}).get("printer-state")
        printer.close()
        return PrinterStatus(online=state != _STOPPED, paper="unknown")

    def close(self) -> None:
        """Nothing stays open between jobs."""


def open_url(url: str, parts: SplitResult) -> CupsBackend:
    name = unquote(parts.netloc + parts.path)
    if not name:
        raise ValueError(f"printer URL {url!r} names no CUPS queue")
    return CupsBackend(name)
