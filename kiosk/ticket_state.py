"""The screen for a scanned ticket: where that ticket stands now, asked of the hub.

A citizen holds a ticket's QR code to the scanner; the kiosk asks the hub ``ticket_state``
(read-only, no personal data) and shows the number large with one line: people ahead,
the window it is called to, held, finished, missed or cancelled. What the line says is
decided here, with no Kivy (``state_line``); the screen only lays it out.
"""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout

from caller.core.i18n import Translator
from kiosk import widgets as w
from kiosk.screens import KioskScreen, KioskShell

COLOURS = {"waiting": w.PRIMARY, "called": w.GREEN, "held": w.WARNING, "done": w.MUTED,
           "no_show": w.ALERT, "cancelled": w.ALERT}


def state_line(ticket: dict, t: Translator) -> str:
    """The sentence for a ticket's public state (``ticket_state``'s reply), in ``t``'s language."""
    state = ticket.get("state")
    if state == "asking":
        return t("state_asking")
    if state == "waiting":
        ahead = ticket.get("ahead") or 0
        return t("state_next") if ahead == 0 else t("state_waiting", ahead=ahead)
    if state == "called":
        return t("state_called", window=ticket.get("window_name") or "")
    if state in ("held", "done", "no_show", "cancelled"):
        return t(f"state_{state}")
    return t("state_unknown")


class TicketStateScreen(KioskScreen):
    def __init__(self, app: KioskShell, **kwargs: Any) -> None:
        super().__init__(app, name="ticket_state", **kwargs)

    def render(self, ticket: dict) -> None:
        u = self.u
        self.clear_widgets()
        body = BoxLayout(orientation="vertical", padding=u(36), spacing=u(24))
        card = w.Panel(w.CARD, radius=u(18), orientation="vertical", padding=u(56), spacing=u(30))
        card.add_widget(BoxLayout())
        card.add_widget(w.tagged(w.fitted(self.t("state_title", service=ticket.get("service_name", "")),
                                          u(44), w.MUTED, halign="center"), "state_title"))
        card.add_widget(w.tagged(w.fitted(ticket.get("number", ""), u(150), w.TEXT, bold=True,
                                          halign="center"), "state_number"))
        card.add_widget(w.tagged(w.fitted(state_line(ticket, self.t), u(60),
                                          COLOURS.get(ticket.get("state", ""), w.TEXT), bold=True,
                                          halign="center"), "state_line"))
        card.add_widget(BoxLayout())
        body.add_widget(card)
        self.add_ending(body)
        self.add_widget(body)
