"""`usb://VID:PID`: a USB printer driven directly through python-escpos (needs pyusb)."""

from __future__ import annotations

from urllib.parse import SplitResult

from drivers.printer.backends.base import PrinterBackend, PrinterUnavailable, url_options
from drivers.printer.jobs import write_raw
from drivers.printer.status import PrinterStatus, read_status


class UsbBackend(PrinterBackend):
    def __init__(
        self, vendor: int, product: int, in_ep: int = 0x82, out_ep: int = 0x01,
        timeout: int = 10000, status_timeout: int = 500,
    ) -> None:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Usb
        from escpos.printer.usb import is_usable

        self.url = f"usb://{vendor:04x}:{product:04x}"
        if not is_usable():
            raise PrinterUnavailable(
                f"{self.url} needs pyusb: `pip install pyusb` (and libusb-1.0 from the system)"
            )
        self._in_ep = in_ep
        self._status_timeout = status_timeout
        self._printer = Usb(vendor, product, timeout=timeout, in_ep=in_ep, out_ep=out_ep)
        try:
            self._printer.open()
        except DeviceNotFoundError as exc:
            raise PrinterUnavailable(f"{self.url}: {exc}") from exc

    def write(self, data: bytes, job: str = "") -> None:
        write_raw(self._printer, data)  # pyusb's USBError is an OSError

    def status(self) -> PrinterStatus:
        return read_status(self._exchange)

    def _exchange(self, request: bytes) -> int | None:
        import usb.core

        write_raw(self._printer, request)
        try:
            answer = self._printer.device.read(self._in_ep, 16, self._status_timeout)
        except usb.core.USBTimeoutError:
            return None
        return answer[-1] if len(answer) else None

    def close(self) -> None:
        self._printer.close()


def open_url(url: str, parts: SplitResult) -> UsbBackend:
    try:
        vendor, product = (int(part, 16) for part in parts.netloc.split(":"))
    except ValueError:
        raise ValueError(
            f"printer URL {url!r}: write usb://VID:PID in hex, e.g. usb://0416:5011"
        ) from None
    options = url_options(
        url, parts.query,
        {"in_ep": int, "out_ep": int, "timeout": int, "status_timeout": int},
    )
    return UsbBackend(vendor, product, **options)
