"""`serial:///dev/ttyUSB0?baudrate=9600`: a printer on an RS-232 line (or USB-serial)."""

from __future__ import annotations

from urllib.parse import SplitResult, unquote

import serial

from drivers.printer.backends.base import PrinterBackend, url_options
from drivers.printer.status import PrinterStatus, read_status


class SerialBackend(PrinterBackend):
    def __init__(
        self, device: str, baudrate: int = 9600, rtscts: bool = False, timeout: float = 10.0,
        status_timeout: float = 0.5,
    ) -> None:
        self.url = f"serial://{device}?baudrate={baudrate}"
        # SerialException is an OSError, so callers handle one kind of failure.
        self._port = serial.Serial(
            device, baudrate=baudrate, rtscts=rtscts, timeout=status_timeout,
            write_timeout=timeout,
        )

    def write(self, data: bytes, job: str = "") -> None:
        self._port.write(data)
        self._port.flush()

    def status(self) -> PrinterStatus:
        return read_status(self._exchange)

    def _exchange(self, request: bytes) -> int | None:
        self._port.reset_input_buffer()  # a late answer to an earlier request
        self._port.write(request)
        self._port.flush()
        answer = self._port.read(1)
        return answer[0] if answer else None

    def close(self) -> None:
        self._port.close()


def open_url(url: str, parts: SplitResult) -> SerialBackend:
    device = unquote(parts.netloc + parts.path)  # serial:///dev/ttyS0 or serial://COM3
    if not device:
        raise ValueError(f"printer URL {url!r} names no serial device")
    options = url_options(
        url, parts.query, {"baudrate": int, "rtscts": bool, "timeout": float}
    )
    return SerialBackend(device, **options)
