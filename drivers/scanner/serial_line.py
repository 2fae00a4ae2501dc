"""A serial QR/barcode scanner: one thread owns the port and hands over every scan.

``on_scan(scan)`` and ``on_state(up, detail)`` are called from the line thread; the port
is reopened every second while it is missing (a USB scanner pulled out and back), see
``drivers.line``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import serial

from drivers.line import LineOwner, close_serial, open_serial
from drivers.scanner.codes import LineSplitter, Scan

log = logging.getLogger(__name__)


class ScannerLine(LineOwner):
    def __init__(self, port: str, baudrate: int = 9600, *, on_scan: Callable[[Scan], None],
                 on_state: Callable[[bool, str], None]) -> None:
        super().__init__(f"scanner {port}", on_state)
        self.port = port
        self.baudrate = baudrate
        self._on_scan = on_scan
        self._serial: serial.SerialBase | None = None
        self._lines = LineSplitter()

    def open(self) -> None:
        self._serial = open_serial(self.port, self.baudrate, timeout=0.1)
        self._lines = LineSplitter()  # a line cut by a lost port is not glued to the next one

    def close(self) -> None:
        close_serial(self._serial)
        self._serial = None

    def serve(self) -> None:
        port = self._serial
        assert port is not None
        for scan in self._lines.feed(port.read(port.in_waiting or 1)):
            if not scan.ok:
                log.info("scanner %s: bad scan (%s)", self.port, scan.error)
            self._on_scan(scan)
