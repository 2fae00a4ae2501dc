"""Printer backends, one small module per transport, chosen by URL."""

from __future__ import annotations

import importlib
from urllib.parse import SplitResult, urlsplit

from drivers.printer.backends.base import PrinterBackend, PrinterUnavailable

SCHEMES = {
    "usb": ("drivers.printer.backends.usb", "usb://VID:PID"),
    "serial": ("drivers.printer.backends.serial_port", "serial:///dev/ttyUSB0?baudrate=9600"),
    "tcp": ("drivers.printer.backends.tcp", "tcp://HOST:9100"),
    "file": ("drivers.printer.backends.file", "file:///dev/usb/lp0"),
    "cups": ("drivers.printer.backends.cups", "cups://NAME"),
    "win32": ("drivers.printer.backends.win32", "win32://NAME"),
    "image": ("drivers.printer.backends.image_dir", "image://DIR"),
}

__all__ = ["SCHEMES", "PrinterBackend", "PrinterUnavailable", "check_printer_url", "open_printer"]


def check_printer_url(url: str) -> SplitResult:
    """Split `url`, or raise ValueError naming it and the schemes there are."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not (parts.netloc or parts.path):
        examples = ", ".join(example for _, example in SCHEMES.values())
        raise ValueError(f"unsupported printer URL {url!r}; use one of: {examples}")
    return parts


def open_printer(url: str) -> PrinterBackend:
    """Open the printer `url` names.

    Raises ValueError for a URL that is wrong in itself, OSError (PrinterUnavailable for
    a missing library or platform) when the printer cannot be reached.
    """
    parts = check_printer_url(url)
    module = importlib.import_module(SCHEMES[parts.scheme][0])
    return module.open_url(url, parts)
