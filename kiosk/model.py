"""What the kiosk knows about the hall, with no I/O: fed the hub's snapshot and events.

The screen reads from here; the app feeds it from the hub connection. Materials come
from the kiosk's own copy of the hall config (the confirmation screen shows them before
the number is taken), everything that changes during the day from the hub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from caller.core.booking import CODE_DIGITS
from caller.core.config import HallConfig
from caller.core.personal import valid_id_number
from caller.core.protocol import Event
from caller.core.text import clean
from caller.core.ticketcode import looks_like_code
from drivers.idcard.card import IdCard
from kiosk.ticket import TicketPrint

Connection = Literal["connecting", "online", "offline", "refused"]


@dataclass
class ServiceView:
    """One service button."""

    id: str
    name: str
    prefix: str
    department: str
    materials: tuple[str, ...]
    windows: list[str]
    green_channel: bool = False
    waiting: int | None = None  # None until the hub has said
    open: bool = True
    reason: str = ""  # why it is closed, from the hub
    full: str = ""  # the hub's refusal when today's numbers ran out

    @property
    def available(self) -> bool:
        return self.open and not self.full

    @property
    def why_not(self) -> str:
        """The sentence shown on a greyed-out button."""
        return self.full or self.reason


@dataclass
class KioskState:
    hall_name: str
    notice: str
    services: dict[str, ServiceView]
    connection: Connection = "connecting"
    snapshot_seen: bool = False
    _full_day: dict[str, date] = field(default_factory=dict)  # service -> day it ran out

    @classmethod
    def from_config(cls, config: HallConfig) -> KioskState:
        services = {
            s.id: ServiceView(
                id=s.id, name=s.name, prefix=s.prefix, department=s.department,
                materials=s.materials, green_channel=s.green_channel,
                windows=[w.name for w in config.windows_for_service(s.id)])
            for s in config.services.values()
        }
        return cls(hall_name=config.hall.name, notice=config.hall.notice, services=services)

    # -- fed by the hub -------------------------------------------------------------

    def load_snapshot(self, snapshot: dict) -> None:
        """The hub's whole picture (on every welcome): it replaces what was known."""
        self.hall_name = snapshot.get("hall", {}).get("name", self.hall_name)
        self.notice = snapshot.get("hall", {}).get("notice", self.notice)
        for raw in snapshot.get("services", []):
            view = self.services.get(raw["id"])
            if view is None:  # the hub knows a service this kiosk's config does not
                view = self.services[raw["id"]] = ServiceView(
                    id=raw["id"], name=raw["name"], prefix=raw.get("prefix", ""),
                    department=raw.get("department", ""), materials=())
            view.name = raw.get("name", view.name)
            view.department = raw.get("department", view.department)
            view.waiting = raw.get("waiting", view.waiting)
            view.open = bool(raw.get("open", True))
            view.reason = raw.get("reason", "") or ""
            view.windows = list(raw.get("windows", view.windows))
        self.snapshot_seen = True

    def apply_event(self, event: dict) -> set[str]:
        """Update from one hub event; return what changed: service ids and/or "notice"."""
        name = event.get("event")
        changed: set[str] = set()
        if name == Event.QUEUE_CHANGED:
            for sid, count in event.get("waiting", {}).items():
                view = self.services.get(sid)
                if view is not None and view.waiting != count:
                    view.waiting = count
                    changed.add(sid)
        elif name == Event.SERVICE_STATUS:
            view = self.services.get(event.get("service", ""))
            if view is not None:
                view.open = bool(event.get("open"))
                view.reason = event.get("reason", "") or ""
                changed.add(view.id)
        elif name == Event.NOTICE_CHANGED:
            self.notice = event.get("text", "")
            changed.add("notice")
        return changed

    def mark_full(self, service_id: str, message: str, today: date) -> None:
        """The hub refused with `daily_limit_reached`: grey the button out for `today`
        (the kiosk's business day; the snapshot does not say when a service is full)."""
        view = self.services.get(service_id)
        if view is not None:
            view.full = message
            self._full_day[service_id] = today

    def expire_full(self, today: date) -> set[str]:
        """A new business day: services that ran out yesterday issue again."""
        cleared = {sid for sid, day in self._full_day.items() if day != today}
        for sid in cleared:
            self.services[sid].full = ""
            del self._full_day[sid]
        return cleared

    # -- read by the screen ---------------------------------------------------------

    @property
    def can_issue(self) -> bool:
        return self.connection == "online" and self.snapshot_seen

    def groups(self) -> list[tuple[str, list[ServiceView]]]:
        """Services by department, departments in the order the config first names them."""
        out: dict[str, list[ServiceView]] = {}
        for view in self.services.values():
            out.setdefault(view.department, []).append(view)
        return list(out.items())

    def grouped(self) -> bool:
        """Whether the config groups services (some department holds more than one)."""
        return any(len(views) > 1 and dept for dept, views in self.groups())


def swipe(card: IdCard, today: date) -> tuple[dict | None, str]:
    """The ``person`` an ``issue_ticket`` carries for a card just read, or None and the
    refusal shown instead (a ``kiosk.*`` key): an expired card, a number that fails its
    check. Only what the hub needs leaves the kiosk: number, name and age."""
    if card.expired(today):
        return None, "card_expired"
    if not valid_id_number(card.id_number):
        return None, "card_bad_number"
    return {"id_number": card.id_number, "name": card.name, "age": card.age(today)}, ""


TICKET_QR_PREFIX = "hallq:ticket:"
# A link to one of the citizen pages, from any host (the hall's public_url, or an older or
# other address of it): /p/t/<code> a ticket's live page, /p/b/<code> a booking's.
PAGE_LINK = re.compile(r"https?://[A-Za-z0-9.:\[\]-]+(?:/[A-Za-z0-9._~-]+)*/p/([tb])/([^/?#]*)")
BOOKING_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")


@dataclass(frozen=True)
class ScannedTicket:
    """One of our tickets, from its QR code: its page code when the hall publishes pages,
    else its number and the business day it was issued (ISO date)."""

    number: str = ""
    day: str = ""
    code: str = ""

    def query(self) -> dict[str, str]:
        """How ``ticket_state`` names it."""
        return {"code": self.code} if self.code else {"number": self.number, "day": self.day}


@dataclass(frozen=True)
class ScannedBooking:
    """An appointment, from the booking's QR code: it checks in."""

    code: str


def classify_scan(code: str) -> ScannedTicket | ScannedBooking | None:
    """What a scanned code is: a ticket's QR code (``<public_url>/p/t/<code>``, or
    ``hallq:ticket:DAY:NUMBER`` when the hall publishes no pages), a booking's
    (``<public_url>/p/b/<code>`` or the 12-digit code itself), or None for anything else,
    a link with a code of the wrong shape too (the kiosk says 无法识别)."""
    if code.startswith(TICKET_QR_PREFIX):
        day, _, number = code[len(TICKET_QR_PREFIX):].partition(":")
        try:
            date.fromisoformat(day)
        except ValueError:
            return None
        if len(day) == 10 and number.isascii() and number.isalnum() and len(number) <= 8:
            return ScannedTicket(number, day)
        return None
    if BOOKING_CODE.fullmatch(code):
        return ScannedBooking(code)
    link = PAGE_LINK.fullmatch(code)
    if link is None:
        return None
    kind, found = link.groups()
    if kind == "t" and looks_like_code(found):
        return ScannedTicket(code=found)
    if kind == "b" and BOOKING_CODE.fullmatch(found):
        return ScannedBooking(found)
    return None


def qr_data(reply: dict) -> str:
    """What the ticket's QR code holds: its live page when the hall publishes one (the hub's
    `status_url`), else the number for the kiosk's own scanner (no promise of a page)."""
    if reply.get("status_url"):
        return reply["status_url"]
    ticket = reply["ticket"]
    return f"hallq:ticket:{ticket.get('issued_at', '')[:10]}:{ticket['number']}"


def issued_time(ticket: dict) -> str:
    """`2026-11-23 09:00` from the ticket's ISO time (hall time, as the hub wrote it)."""
    try:
        return datetime.fromisoformat(ticket["issued_at"]).strftime("%Y-%m-%d %H:%M")
    except (KeyError, TypeError, ValueError):
        return ""


def ticket_print(reply: dict, qr: str, hall_name: str, notice: str) -> TicketPrint:
    """The paper ticket for an `issue_ticket` reply, its hub and config text cleaned."""
    ticket = reply["ticket"]
    return TicketPrint(
        hall_name=clean(hall_name),
        service_name=clean(ticket.get("service_name", ticket.get("service", ""))),
        number=clean(ticket["number"]),
        ahead=int(reply.get("ahead", 0)),
        wait_min=reply.get("wait_min") if isinstance(reply.get("wait_min"), int) else None,
        status_page=bool(reply.get("status_url")),
        issued_at=issued_time(ticket),
        windows=[clean(w) for w in reply.get("windows", [])],
        materials=[clean(m) for m in reply.get("materials", [])],
        qr_data=qr,
        notice=clean(notice),
        priority=ticket.get("priority") == "priority",
    )
