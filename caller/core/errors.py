"""The exceptions of hallq's own code, under one base.

Every exception class in caller/, kiosk/, display/ and hallq/ derives from
:class:`HallqError` (directly or through a subclass), so a program's outermost handler
can tell "hallq refused or failed, with a message meant for a person" from a bug in
Python or a library. Classes that callers also catch by a builtin base keep it as a
second base (``class ScriptError(HallqError, ValueError)``).

The device drivers (drivers/) must not import caller, so they have their own base,
``drivers.errors.DeviceError``; catch ``(HallqError, DeviceError)`` for both.

:class:`Refused` is the one exception the engine's rules raise to refuse a command.
"""

from __future__ import annotations


class HallqError(Exception):
    """Base of every hallq exception outside drivers/."""


class Refused(HallqError):
    """A command the rules refuse: `code` is a protocol error code; the message is
    either given or made from the code and `detail`."""

    def __init__(self, code: str, detail: str = "", message: str | None = None):
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.message = message
