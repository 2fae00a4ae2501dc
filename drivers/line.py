"""A device line owned by one thread: open it, serve it, reopen it when it comes back.

``LineOwner`` is the base of the drivers that keep a device for a program whose own thread
must never wait on it (the Kivy kiosk, the counter bridge's event loop): the RS-485 line
of caller keypads, the ID-card reader, the code scanner. Its thread calls ``open()``, then
``serve()`` over and over until ``stop()``. When either raises a fault (``LineFault``, or
pyserial's and the OS's errors: the port is missing, pulled out, or the device talks
nonsense) it calls ``close()``, reports the line down and tries ``open()`` again every
``retry_s``. Any other exception is a bug: logged with its traceback and handled the same
way, so nothing but ``stop()`` ends the line.

``on_state(up, detail)`` is called from the line's thread on changes only: up once
``open()`` succeeds, down (``detail`` says why, for the log and the staff) when it fails
or the line is lost. Pass a function that hands over to your own thread or loop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import serial

from drivers.errors import DeviceError

log = logging.getLogger(__name__)

RETRY_S = 1.0


class LineFault(DeviceError, OSError):
    """The device is missing, silent, or answers nonsense: close, report down, reopen."""


FAULTS = (LineFault, serial.SerialException, OSError)


def open_serial(port: str, baudrate: int, **options: Any) -> serial.SerialBase:
    """``serial_for_url`` (a device path or a pyserial URL); LineFault when it cannot open."""
    try:
        return serial.serial_for_url(port, baudrate=baudrate, **options)
    except (serial.SerialException, OSError, ValueError) as e:
        raise LineFault(f"cannot open {port}: {e}") from e


def close_serial(port: serial.SerialBase | None) -> None:
    """Close a port that may already be gone."""
    if port is not None:
        with contextlib.suppress(serial.SerialException, OSError):
            port.close()


class LineOwner:
    """One device in its own thread; subclasses give ``open``, ``serve`` and ``close``."""

    def __init__(self, name: str, on_state: Callable[[bool, str], None], *,
                 retry_s: float = RETRY_S) -> None:
        self.name = name
        self.retry_s = retry_s
        self.up: bool | None = None
        """None until the first open succeeds or fails."""
        self.reopened = 0
        """How often the line came back after being down."""
        self._on_state = on_state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the device (waits for one ``serve()`` step to end)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def pause(self, seconds: float) -> None:
        """Wait in ``serve()`` without holding up ``stop()``."""
        self._stop.wait(seconds)

    # what a device does

    def open(self) -> None:
        raise NotImplementedError

    def serve(self) -> None:
        """One step of work on the open device (read what came, poll, write what waits)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # the thread

    def _run(self) -> None:
        opened = False
        while not self._stop.is_set():
            try:
                if not opened:
                    self.open()
                    opened = True
                    self.reopened += self.up is False
                    self._report(True, "")
                self.serve()
                continue
            except FAULTS as e:
                detail = str(e) or type(e).__name__
            except Exception as e:  # a bug must not end the line: start over
                log.exception("%s: unexpected error", self.name)
                detail = f"unexpected error {type(e).__name__}"
            self.close()
            opened = False
            self._report(False, detail)
            self._stop.wait(self.retry_s)
        self.close()

    def _report(self, up: bool, detail: str) -> None:
        if up == self.up:
            return
        self.up = up
        if up:
            log.info("%s open", self.name)
        else:
            log.warning("%s: %s; retrying every %.0f s", self.name, detail, self.retry_s)
        self._on_state(up, detail)
