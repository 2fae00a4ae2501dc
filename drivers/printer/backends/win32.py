"""`win32://NAME`: a Windows printer queue fed raw bytes (needs pywin32, Windows only)."""

from __future__ import annotations

from urllib.parse import SplitResult, unquote

from drivers.printer.backends.base import PrinterBackend, PrinterUnavailable
from drivers.printer.jobs import write_raw


class Win32Backend(PrinterBackend):
    """One spooler document per write; the spooler does not report the paper."""

    def __init__(self, name: str) -> None:
        from escpos.printer.win32raw import is_usable

        self.url = f"win32://{name}"
        if not is_usable():
            raise PrinterUnavailable(
                f"{self.url} works only on Windows with pywin32 installed (`pip install pywin32`)"
            )
        self._name = name

    def write(self, data: bytes, job: str = "") -> None:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Win32Raw

        printer = Win32Raw(printer_name=self._name)
        try:
            printer.open(job_name=job or "hallq")
        except DeviceNotFoundError as exc:
            raise PrinterUnavailable(f"{self.url}: {exc}") from exc
        write_raw(printer, data)
        printer.close()  # ends the document, which releases it to the printer

    def close(self) -> None:
        """Nothing stays open between jobs."""


def open_url(url: str, parts: SplitResult) -> Win32Backend:
    name = unquote(parts.netloc + parts.path)
    if not name:
        raise ValueError(f"printer URL {url!r} names no Windows printer")
    return Win32Backend(name)
