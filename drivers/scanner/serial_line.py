"""A serial QR/barcode scanner: one thread owns the port and hands over every scan.

``on_scan(scan)`` and ``on_state(up, detail)`` are called from the line thread; the port
is reopened every ``RETRY_S`` while it is missing (a USB scanner pulled out and back).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import serial

from drivers.scanner.codes import LineSplitter, Scan

log = logging.getLogger(__name__)

RETRY_S = 1.0


class ScannerLine:
    def __init__(self, port: str, baudrate: int = 9600, *, on_scan: Callable[[Scan], None],
                 on_state: Callable[[bool, str], None]) -> None:
        self.port = port
        self.baudrate = baudrate
        self._on_scan = on_scan
        self._on_state = on_state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"scanner {port}", daemon=True)
        self._up: bool | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.1)
            except (serial.SerialException, OSError, ValueError) as e:
                self._report(False, f"cannot open {self.port}: {e}")
                self._stop.wait(RETRY_S)
                continue
            self._report(True, "")
            try:
                self._pump(port)
            except (serial.SerialException, OSError) as e:
                self._report(False, f"{self.port}: {e}")
                self._stop.wait(RETRY_S)
            finally:
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()

    def _pump(self, port: serial.SerialBase) -> None:
        lines = LineSplitter()  # a line cut by a lost port is not glued to the next one
        while not self._stop.is_set():
            for scan in lines.feed(port.read(port.in_waiting or 1)):
                if not scan.ok:
                    log.info("scanner %s: bad scan (%s)", self.port, scan.error)
                self._on_scan(scan)

    def _report(self, up: bool, detail: str) -> None:
        if up != self._up:
            self._up = up
            if not up:
                log.warning("scanner: %s; retrying every %.0f s", detail, RETRY_S)
            self._on_state(up, detail)
