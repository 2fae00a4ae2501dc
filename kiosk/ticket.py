"""The citizen's queue ticket: what goes on it, and its words in the language the citizen
chose (the `ticket.*` keys of the hallq catalogs). `kiosk.ticket_layout` puts it on paper;
`drivers.printer` only turns that into bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

from caller.core.i18n import Translator, translator

PrintMode = Literal["raster", "text"]
PRINT_MODES = ("raster", "text")


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on one ticket; the kiosk fills it in."""

    hall_name: str
    service_name: str
    number: str
    ahead: int
    issued_at: str
    windows: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    qr_data: str = ""
    notice: str = ""
    priority: bool = False
    wait_min: int | None = None  # the hub's estimate; None: none to give
    status_page: bool = False  # the QR code opens the ticket's live page (say so under it)


def check_mode(mode: str) -> PrintMode:
    """`mode` if the kiosk can print that way; ValueError naming the ways otherwise."""
    if mode not in PRINT_MODES:
        raise ValueError(f"print mode {mode!r} is not supported; use 'raster' or 'text'")
    return cast(PrintMode, mode)


def ticket_words(lang: str) -> Translator:
    """The ticket's labels in `lang`; UnknownLanguage (a ValueError) for one with no catalog."""
    return translator(lang, "ticket")


def ahead_line(t: Translator, ahead: int) -> str:
    """How many are waiting before this ticket, or that nobody is."""
    return t("ahead", n=ahead) if ahead else t("ahead_none")


def wait_line(t: Translator, wait_min: int | None) -> str:
    """The estimated wait ("" when there is none, or no wait at all)."""
    return t("wait", n=wait_min) if wait_min else ""
