"""The one exception the engine's rules raise to refuse a command."""

from __future__ import annotations


class Refused(Exception):
    """A command the rules refuse: `code` is a protocol error code; the message is
    either given or made from the code and `detail`."""

    def __init__(self, code: str, detail: str = "", message: str | None = None):
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.message = message
