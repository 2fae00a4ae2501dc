"""The base of every exception the device drivers raise.

drivers/ is the bottom layer and must not import caller, so its exceptions cannot
derive from ``caller.core.errors.HallqError``; they derive from :class:`DeviceError`
instead. Where callers rely on catching a builtin base (``OSError`` for a printer that
cannot be opened, ``RuntimeError`` for missing speech or sound), the class keeps it as
a second base: ``class PrinterUnavailable(DeviceError, OSError)``.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every exception in drivers/."""
