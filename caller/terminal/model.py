"""What one window looks like to its clerk, kept current from the hub's snapshot and events.

Pure state: feed it `load_snapshot()` and `apply(event)`; read `state`, `ticket`, `waiting`,
`held`, `rating` and `enabled(action)`. No I/O, no Kivy, so it is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caller.core.config import HallConfig
from caller.core.protocol import RATING_EVENTS, Event, arrival


@dataclass
class Rating:
    """The rating of the window's last finished ticket."""

    number: str
    status: str  # "pending" | "rated" | "timeout"
    level: str | None = None


@dataclass
class WindowModel:
    config: HallConfig
    window: str
    connected: bool = False
    staff: str | None = None
    paused: bool = False
    pause_reason: str = ""
    ticket: dict | None = None
    started: bool = False
    held: list[dict] = field(default_factory=list)
    rating: Rating | None = None
    waiting: int = 0
    loaded: bool = False  # a snapshot has been seen: the counts mean something
    seq: int = 0  # the last event seq reflected here
    needs_snapshot: bool = False  # set when only a fresh snapshot can tell the waiting count
    _queued: dict[str, int] = field(default_factory=dict)  # service -> waiting
    _directed: dict[str, int] | None = None  # window -> tickets waiting for it; None: unknown
    _away: set[str] = field(default_factory=set)  # windows without staff or paused (AB backup)

    @property
    def name(self) -> str:
        return self.config.windows[self.window].name

    @property
    def state(self) -> str:
        """As the hub names it: closed, paused, serving, calling or idle."""
        if self.staff is None:
            return "closed"
        if self.paused:
            return "paused"
        if self.ticket is not None:
            return "serving" if self.started else "calling"
        return "idle"

    # ------------------------------------------------------------------ input

    def load_snapshot(self, snapshot: dict, seq: int | None = None) -> None:
        """Replace everything by the hub's snapshot (taken at event `seq`, when known)."""
        self._queued = {s["id"]: s["waiting"] for s in snapshot["services"]}
        self._directed = None
        self._away = {w["id"] for w in snapshot["windows"] if w["state"] in ("closed", "paused")}
        mine = next(w for w in snapshot["windows"] if w["id"] == self.window)
        self.staff = mine["staff"]
        self.paused = mine["state"] == "paused"
        self.pause_reason = mine.get("pause_reason", "")
        self.ticket = mine["ticket"]
        self.started = mine["state"] == "serving"  # unknown while paused: start stays possible
        self.held = list(mine.get("held", []))
        self.waiting = mine["waiting"]
        if mine.get("rating_pending"):
            number = self.rating.number if self.rating else ""
            self.rating = Rating(number, "pending")
        elif self.rating is not None and self.rating.status == "pending":
            self.rating = None
        self.needs_snapshot = False
        self.loaded = True
        if seq is not None:
            self.seq = seq

    def apply(self, event: dict) -> bool:
        """Apply one hub event; True when something this window shows changed."""
        seq = event.get("seq")
        if isinstance(seq, int):
            if seq <= self.seq:
                # Already in the snapshot; only the rating history is not in it.
                return self._apply_rating(event) if event["event"] in RATING_EVENTS else False
            self.seq = seq
        name = event["event"]
        if name == Event.QUEUE_CHANGED:
            self._queued = dict(event["waiting"])
            self._directed = dict(event.get("directed", {}))
            return self._recount()
        if name in (Event.WINDOW_LOGIN, Event.WINDOW_LOGOUT, Event.WINDOW_PAUSED, Event.WINDOW_RESUMED):
            return self._apply_window(name, event)
        if name in RATING_EVENTS:
            return self._apply_rating(event)
        if self.window in (event.get("window"), event.get("from_window")) or name == Event.TICKET_CANCELLED:
            return self._apply_ticket(name, event)
        return False

    # ------------------------------------------------------------------ what the clerk may do

    def enabled(self, action: str) -> bool:
        if not self.connected:
            return False
        if self.staff is None:
            return action == "login"
        has_ticket = self.ticket is not None
        rules = {
            "call_next": not self.paused,
            "call_number": not self.paused,
            "recall": has_ticket and not self.paused,
            "skip": has_ticket,
            "transfer": has_ticket,
            "hold": has_ticket,
            "finish": has_ticket,
            "start": has_ticket and not self.started,
            "call_held": bool(self.held) and not self.paused,
            "request_rating": not has_ticket and (self.rating is None
                                                  or self.rating.status != "pending"),
            "pause": True,
            "login": True,
        }
        return rules.get(action, False)

    @property
    def holder(self) -> tuple[str, str] | None:
        """The current ticket's holder (masked name, last four of the ID number), when it
        was taken by ID card; the hub sends it to this window only while the ticket is here."""
        holder = self.ticket.get("holder") if self.ticket else None
        if not isinstance(holder, dict) or not holder.get("name") or not holder.get("last4"):
            return None
        return str(holder["name"]), str(holder["last4"])

    @property
    def arrival(self) -> str:
        """"booking" (预约) or "remote" (线上取号) when the current ticket came so; else ""."""
        return arrival(self.ticket)

    def summary(self) -> dict[str, Any]:
        """Plain data for scripts and tests."""
        return {
            "connected": self.connected, "window": self.window, "state": self.state,
            "staff": self.staff, "ticket": self.ticket["number"] if self.ticket else None,
            "waiting": self.waiting, "held": [t["number"] for t in self.held],
            "rating": None if self.rating is None else (self.rating.level or self.rating.status),
            "rating_ticket": self.rating.number if self.rating else None,
            "pause_reason": self.pause_reason if self.paused else "",
            "holder": self.holder, "arrival": self.arrival,
            "held_arrivals": [arrival(t) for t in self.held],
        }

    # ------------------------------------------------------------------ internals

    def _recount(self) -> bool:
        if self._directed is None:
            return False
        sources = [self.window] + [a for a, w in self.config.windows.items()
                                   if w.backup == self.window and a in self._away]
        n = sum(self._queued.get(s, 0) for s in self.config.windows[self.window].services)
        n += sum(self._directed.get(s, 0) for s in sources)
        changed = n != self.waiting
        self.waiting = n
        return changed

    def _apply_window(self, name: str, event: dict) -> bool:
        wid = event["window"]
        if name == Event.WINDOW_LOGIN:
            self._away.discard(wid)
        elif name == Event.WINDOW_LOGOUT or name == Event.WINDOW_PAUSED:
            self._away.add(wid)
        else:
            self._away.discard(wid)
        if wid != self.window:
            if self.config.windows.get(wid) and self.config.windows[wid].backup == self.window:
                if self._directed is None:
                    self.needs_snapshot = True
                return self._recount()
            return False
        if name == Event.WINDOW_LOGIN:
            self.staff = event["staff"]
            self.paused, self.pause_reason = False, ""
        elif name == Event.WINDOW_LOGOUT:
            self.staff = None
            self.paused, self.pause_reason = False, ""
        elif name == Event.WINDOW_PAUSED:
            self.paused, self.pause_reason = True, event.get("reason") or ""
        else:
            self.paused, self.pause_reason = False, ""
        return True

    def _apply_ticket(self, name: str, event: dict) -> bool:
        ticket = event["ticket"]
        tid = ticket["id"]
        current = self.ticket["id"] if self.ticket else None
        was_held = any(t["id"] == tid for t in self.held)
        if name == Event.TICKET_CALLED:
            self.started = self.started and tid == current and event.get("recalls", 0) > 0
            self.ticket = ticket
            self.held = [t for t in self.held if t["id"] != tid]
            return True
        if name == Event.TICKET_STARTED and tid == current:
            self.started = True
            return True
        if name == Event.TICKET_HELD:
            self.held = [*[t for t in self.held if t["id"] != tid], ticket]
            self._clear_current(tid)
            return True
        if name in (Event.TICKET_FINISHED, Event.TICKET_SKIPPED, Event.TICKET_TRANSFERRED,
                    Event.TICKET_CANCELLED):
            self.held = [t for t in self.held if t["id"] != tid]
            return self._clear_current(tid) or was_held
        return False

    def _clear_current(self, tid: int) -> bool:
        if self.ticket is not None and self.ticket["id"] == tid:
            self.ticket, self.started = None, False
            return True
        return False

    def _apply_rating(self, event: dict) -> bool:
        if event.get("window") != self.window:
            return False
        number = event["ticket"]["number"]
        name = event["event"]
        if name == Event.RATING_REQUESTED:
            self.rating = Rating(number, "pending")
        elif name == Event.RATING_RECEIVED:
            self.rating = Rating(number, "rated", event["level"])
        else:
            self.rating = Rating(number, "timeout", event.get("level"))
        return True
