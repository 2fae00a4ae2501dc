"""The queue engine: a deterministic state machine with no I/O and no clock.

    engine.handle(command, now, mono=None) -> (reply, events)

`command` is a protocol request (a dict with "type" and arguments); `now` is an
aware datetime supplied by the caller, and `mono` (optional) a reading of a clock no
step of the system clock moves. Every refused command raises nothing and changes
nothing: the reply carries an error code and a sentence a clerk can read. Timers
(day rollover, rating timeouts, services opening and closing) advance at the start
of every `handle` and `tick`, so the result depends only on `now` and `mono`.

The system clock may step (a wrong RTC at boot, an NTP correction): the business day
never moves backwards, a backward step raises a `clock_step` alert, and timeouts run
on `mono`, so no step can issue a number twice or cut a rating short.

After each call, `take_changes()` hands the store the rows that changed and lets
the engine forget finished tickets nothing refers to any more.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from caller.core.booking import mask_phone
from caller.core.config import RATING_LEVELS, HallConfig, Service
from caller.core.errors import Refused
from caller.core.messages import LEVEL_NAMES, say
from caller.core.personal import Person, person_from_card
from caller.core.protocol import AlertKind, Event
from caller.core.schedule import add_working_days, business_day, open_status
from caller.core.ticketcode import looks_like_code, page_path, ticket_code
from caller.core.waits import Paces, WindowNow, directed_rate, minutes, service_rate, wait_seconds
from caller.hub.appeals import Appeal, Appeals
from caller.hub.booking_desk import BookingDesk
from caller.hub.bookings import Ban, Booking, Bookings
from caller.hub.followup import Alert, Case, FollowUp
from caller.hub.roster import Roster, StaffMember, staff_view

ACTIVE_STATES = ("waiting", "called", "held")
READ_ONLY = ("snapshot", "queue_status")  # answered from memory: nothing to store
BAD_LEVELS = ("dissatisfied", "very_dissatisfied")
REASONS_SEP = "、"  # between the reasons of a bad rating in its case
CASE_NO_MAX = 64  # characters of a 办件编号 (the door checks the same, caller.core.validate)
DEFAULTS_PER_RUN = 500  # tickets the no-rating policy settles in one batch (the writer is
# busy meanwhile: see BENCHMARKS.md, defaults_batch_ms); a backlog goes on a minute later
DEVICE_ALERTS = (AlertKind.PRINTER_FAULT, AlertKind.PRINTER_OK,
                 AlertKind.DEVICE_OFFLINE, AlertKind.DEVICE_ONLINE,
                 AlertKind.SHIP_BACKLOG, AlertKind.SHIP_CAUGHT_UP)
RECOVERIES = {AlertKind.PRINTER_OK: AlertKind.PRINTER_FAULT,
              AlertKind.DEVICE_ONLINE: AlertKind.DEVICE_OFFLINE,
              AlertKind.SHIP_CAUGHT_UP: AlertKind.SHIP_BACKLOG}
CLOCK_STEP_S = 60.0  # a backward jump of the system clock larger than this is a step

log = logging.getLogger("hallq.engine")


@dataclass
class Ticket:
    id: int
    number: str
    service: str
    day: str  # the business day it was issued for, ISO date
    issued_at: datetime
    order: float  # position in its queue; smaller goes first
    priority: bool = False
    lang: str = "zh"
    state: str = "waiting"
    window: str | None = None  # the window calling, serving, holding or having served it
    target_window: str | None = None  # set while it waits for one window (transfer)
    transferred: bool = False  # waits at the front of its queue after a transfer
    first_called_at: datetime | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    held_at: datetime | None = None
    service_s: float = 0.0  # time at a window, holds excluded
    hold_s: float = 0.0
    recalls: int = 0
    requeues: int = 0
    transfers: int = 0
    holds: int = 0
    staff: str | None = None
    rating: str | None = None
    rating_status: str | None = None  # "rated" | "timeout" | "default"
    rated_at: datetime | None = None
    person_key: str | None = None  # HMAC of the holder's ID number (caller.core.personal)
    holder_name: str | None = None  # masked
    id_last4: str | None = None
    case_no: str | None = None  # 办件编号 from the 受理 system, entered or scanned at finish
    appeal: str | None = None  # the rating's appeal: "pending" | "upheld" | "rejected"
    rating_reasons: str | None = None  # a bad rating's reasons: a JSON array of texts
    rating_text: str | None = None  # the citizen's own words (文字评价)
    source: str | None = None  # None: taken at a kiosk; "remote" (线上取号); "booking" (预约)
    phone: str | None = None  # remote tickets and appointments: for the clerk and the SMS
    contact_name: str | None = None  # an appointment's name as given: for the clerk only
    code: str | None = None  # its live page's code (caller.core.ticketcode); never in events


@dataclass
class WindowState:
    id: str
    staff: str | None = None
    paused: bool = False
    pause_reason: str = ""
    current: int | None = None
    last_finished: int | None = None
    rating_ticket: int | None = None
    rating_deadline: datetime | None = None


@dataclass
class DayCounter:
    service: str
    day: str
    last: int  # the last sequence number issued
    issued: int = 0
    segments: dict[str, int] = field(default_factory=dict)  # "HH:MM" segment start -> issued
    remote: int = 0  # of `issued`, remote tickets (线上取号)


@dataclass
class Meta:
    day: str
    next_ticket_id: int = 1
    next_order: float = 1.0
    notice: str | None = None  # set at run time by an admin; None: the config's notice


@dataclass
class Changes:
    """What one command changed, for the store to write in one transaction."""

    tickets: list[Ticket]
    windows: list[WindowState]
    counters: list[DayCounter]
    meta: Meta | None
    alerts: list[Alert] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    staff: list[StaffMember] = field(default_factory=list)
    photos: list[tuple[str, bytes]] = field(default_factory=list)  # staff_no, portrait JPEG
    bookings: list[Booking] = field(default_factory=list)
    bans: list[Ban] = field(default_factory=list)


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


class Engine(BookingDesk):
    def __init__(self, config: HallConfig, now: datetime | None = None) -> None:
        self.config = config
        self._backed_up: dict[str, list[str]] = {}  # B window -> the windows it backs up
        self._service_windows = {sid: [w.name for w in config.windows_for_service(sid)]
                                 for sid in config.services}
        self._service_window_ids = {sid: [w.id for w in config.windows_for_service(sid)]
                                    for sid in config.services}
        for wid, w in config.windows.items():
            if w.backup is not None:
                self._backed_up.setdefault(w.backup, []).append(wid)
        self.tz = config.hall.tz
        self.evaluator_windows = config.windows_with_evaluator()
        day = business_day(config.hall, now.astimezone(self.tz)) if now else date.min
        self.meta = Meta(day=day.isoformat())
        self.tickets: dict[int, Ticket] = {}
        self.windows = {wid: WindowState(wid) for wid in config.windows}
        self.counters: dict[str, DayCounter] = {}
        self._counters_ahead: dict[str, dict[str, DayCounter]] = {}  # later day -> counters
        self.recent_calls: list[dict] = []
        self.paces = Paces()  # the windows' recent stints, for the wait estimate
        # windows_now's views, until a window changes (_touch_window: a stint ending there
        # moves the hall's pace, which the windows without stints of their own take)
        self._window_views: dict[str, WindowNow] = {}
        self._estimate_views: dict[tuple, list[WindowNow]] = {}  # wait_s's, by its windows
        self.followup = FollowUp()
        self.appeals = Appeals()
        self.roster = Roster()
        self.bookings = Bookings()
        self._waiting: dict[str, dict[int, Ticket]] = {s: {} for s in config.services}
        self._directed: dict[str, dict[int, Ticket]] = {w: {} for w in config.windows}
        # each queue in calling order too, as sorted `_place`s, so that its head and a
        # ticket's place are a bisection away, however many wait
        self._waiting_line: dict[str, list[tuple]] = {s: [] for s in config.services}
        self._directed_line: dict[str, list[tuple]] = {w: [] for w in config.windows}
        self._placed: dict[int, tuple[list[tuple], tuple]] = {}  # ticket -> its line, place
        self._counts = {s: 0 for s in config.services}  # the tickets in each service's queue
        self._directed_at: set[str] = set()  # the windows with directed tickets waiting
        self._open: dict[str, tuple[bool, str]] = {}
        self._open_checked: tuple[date, int, int] | None = None
        self._events: list[dict] = []
        self._dirty_tickets: set[int] = set()
        self._dirty_windows: set[str] = set()
        self._dirty_counters: set[str] = set()
        self._dirty_meta = now is not None  # a new hall's day is stored at its first commit
        self._mono = 0.0
        self._instant: tuple[datetime, float] | None = None  # of the last advance
        self._local = datetime.min
        self._clock_offset: float | None = None  # wall clock minus mono at the last call
        self._clock_behind = False  # the clock shows a day before the business day
        self._rating_due: dict[str, float] = {}  # window -> mono time its rating times out
        self._rating_open: set[str] = set()  # the windows with a rating_deadline
        self._window_rank = {w: n for n, w in enumerate(config.windows)}
        self._commands = {
            "issue_ticket": self._issue_ticket,
            "call_next": self._call_next,
            "recall": self._recall,
            "skip": self._skip,
            "transfer": self._transfer,
            "hold": self._hold,
            "call_held": self._call_held,
            "start": self._start,
            "pause": self._pause,
            "resume": self._resume,
            "finish": self._finish,
            "request_rating": self._request_rating,
            "rate": self._rate,
            "rate_reasons": self._rate_reasons,
            "login": self._login,
            "logout": self._logout,
            "report_alert": self._report_alert,
            "ticket_state": self._ticket_state,
            "set_notice": self._set_notice,
            "list_alerts": self._list_alerts,
            "ack_alert": self._ack_alert,
            "list_cases": self._list_cases,
            "case_callback": self._case_callback,
            "case_rectify": self._case_rectify,
            "case_close": self._case_close,
            "appeal_file": self._appeal_file,
            "appeal_decide": self._appeal_decide,
            "list_appeals": self._list_appeals,
            "apply_default_ratings": self._apply_default_ratings,
            "staff_save": self._staff_save,
            "staff_disable": self._staff_disable,
            "staff_enable": self._staff_enable,
            "staff_photo": self._staff_photo,
            "staff_list": self._staff_list,
            **self.booking_commands(),
        }

    # ------------------------------------------------------------------ entry points

    @property
    def commands(self) -> tuple[str, ...]:
        return (*self._commands, *READ_ONLY, "tick")

    def handle(self, command: dict[str, Any], now: datetime,
               mono: float | None = None) -> tuple[dict, list[dict]]:
        """Apply one command at `now` (`mono`: a monotonic clock in seconds; None: the
        wall clock, for callers whose clock never steps); return the reply and events."""
        self._events = []
        mono = now.timestamp() if mono is None else mono
        instant = (now, mono)
        if instant != self._instant:  # the commands of a batch share one: advance once
            self._local, self._mono, self._instant = now.astimezone(self.tz), mono, instant
            self._advance(self._local)
        local = self._local
        kind = command.get("type")
        lang = command.get("lang") if isinstance(command.get("lang"), str) else "zh"
        try:
            if kind == "tick":
                reply: dict = {}
            elif kind == "snapshot":
                reply = {"snapshot": self.snapshot(now)}
            elif kind == "queue_status":
                reply = self.queue_status()
            elif kind in self._commands:
                reply = self._commands[kind](command, local)
            else:
                raise Refused("unknown_command", str(kind))
            result = {"ok": True, **reply}
        except Refused as r:
            message = r.message or say(r.code, lang, detail=r.detail)
            result = {"ok": False, "error": {"code": r.code, "message": message}}
        return result, self._events

    def tick(self, now: datetime, mono: float | None = None) -> list[dict]:
        """Advance the timers only."""
        return self.handle({"type": "tick"}, now, mono)[1]

    def take_changes(self) -> Changes:
        """Rows changed since the last call; forget finished tickets nobody refers to."""
        changes = Changes(
            tickets=[self.tickets[i] for i in sorted(self._dirty_tickets)],
            windows=[self.windows[w] for w in sorted(self._dirty_windows)],
            counters=[self.counters[s] for s in sorted(self._dirty_counters)
                      if s in self.counters],
            meta=self.meta if self._dirty_meta else None,
        )
        changes.alerts, changes.cases = self.followup.take_changes()
        changes.appeals = self.appeals.take_changes()
        changes.staff, changes.photos = self.roster.take_changes()
        changes.bookings, changes.bans = self.bookings.take_changes()
        for t in changes.tickets:
            if t.state not in ACTIVE_STATES and not self._referenced(t):
                del self.tickets[t.id]
        self._dirty_tickets.clear()
        self._dirty_windows.clear()
        self._dirty_counters.clear()
        self._dirty_meta = False
        return changes

    def _referenced(self, t: Ticket) -> bool:
        """Does a window still point at this ticket? Only the window that called it can
        (its `window`): it holds it as its current, its last finished or its rating's."""
        ws = self.windows.get(t.window) if t.window is not None else None
        return ws is not None and t.id in (ws.current, ws.last_finished, ws.rating_ticket)

    # ------------------------------------------------------------------ restore / dump

    def restore(self, meta: Meta, tickets: list[Ticket], windows: list[WindowState],
                counters: list[DayCounter], recent_calls: list[dict],
                followup: FollowUp | None = None, appeals: Appeals | None = None,
                bookings: Bookings | None = None, staff: list[StaffMember] | None = None) -> None:
        """Load state kept by the store (active and referenced tickets only; the counters
        of the business day and of any later day)."""
        self.meta = meta
        self._dirty_meta = False
        self.followup = followup or FollowUp()
        self.appeals = appeals or Appeals()
        self.roster = Roster()
        self.roster.restore(staff or [])
        self.bookings = bookings or Bookings()
        self.tickets = {t.id: t for t in tickets}
        for ws in windows:
            if ws.id in self.windows:
                self.windows[ws.id] = ws
        self.counters = {}
        self._counters_ahead = {}
        for c in counters:
            if c.day == meta.day:
                self.counters[c.service] = c
            elif c.day > meta.day:
                self._counters_ahead.setdefault(c.day, {})[c.service] = c
        self._rating_due = {}
        self._rating_open = {w for w, ws in self.windows.items() if ws.rating_deadline is not None}
        self.recent_calls = list(recent_calls)[: self.config.calling.recent_calls]
        for q in (*self._waiting.values(), *self._directed.values(),
                  *self._waiting_line.values(), *self._directed_line.values()):
            q.clear()
        self._placed.clear()
        self._counts = dict.fromkeys(self._counts, 0)
        self._directed_at.clear()
        for t in self.tickets.values():
            if t.state == "waiting":
                self._enqueue(t)
            elif t.state == "called" and t.window in self.windows:
                self.windows[t.window].current = t.id

    def dump(self) -> dict:
        """The whole state as plain data, for comparing a live engine with a rebuilt one."""
        def plain(obj: Any) -> dict:
            return {k: iso(v) if isinstance(v, datetime) else v for k, v in asdict(obj).items()}
        return {
            "meta": asdict(self.meta),
            "tickets": {i: plain(t) for i, t in sorted(self.tickets.items())},
            "windows": {w: plain(s) for w, s in sorted(self.windows.items())},
            "counters": {s: asdict(c) for s, c in sorted(self.counters.items())},
            "recent_calls": self.recent_calls,
            "followup": self.followup.dump(),
            "appeals": self.appeals.dump(),
            "roster": self.roster.dump(),
            "bookings": self.bookings.dump(),
        }

    # ------------------------------------------------------------------ views

    def ticket_view(self, t: Ticket) -> dict:
        service = self.config.services.get(t.service)
        return {
            "id": t.id,
            "number": t.number,
            "service": t.service,
            "service_name": service.name if service else t.service,
            "priority": "priority" if t.priority else "normal",
            "state": t.state,
            "window": t.window,
            "target_window": t.target_window,
            "transferred": t.transfers > 0,
            "issued_at": iso(t.issued_at),
            "called_at": iso(t.called_at),
            "finished_at": iso(t.finished_at),
            "recalls": t.recalls,
            "source": t.source or "kiosk",
            **({"case_no": t.case_no} if t.case_no else {}),
            **({"holder": self._holder(t)} if t.person_key or t.phone else {}),
        }

    def _holder(self, t: Ticket) -> dict:
        """Who holds a ticket: masked, and (under `contact`) as given, for the managing
        roles and the clerk serving it only (`protocol.shown`)."""
        holder: dict[str, Any] = {"name": t.holder_name, "last4": t.id_last4,
                                  "wall": self.config.personal.wall_names and t.holder_name is not None}
        if t.phone:
            holder["phone"] = mask_phone(t.phone)
            holder["contact"] = {"name": t.contact_name, "phone": t.phone}
        return holder
    def windows_now(self, ids: Iterable[str] | None = None) -> list[WindowNow]:
        """What the wait estimate needs of the windows `ids` (by default every window)."""
        views, out = self._window_views, []
        for wid in self.config.windows if ids is None else ids:
            view = views.get(wid)
            if view is None:
                w, ws = self.config.windows[wid], self.windows[wid]
                is_open = ws.staff is not None and not ws.paused
                view = views[wid] = WindowNow(wid, dict(w.services), is_open,
                                              is_open and ws.current is None,
                                              self.paces.mean(wid), w.backup)
            out.append(view)
        return out

    def _estimated_by(self, t: Ticket) -> list[str]:
        """The windows whose state a ticket's wait estimate depends on: those serving its
        service, or for a ticket sent to one window, that window and its backup."""
        if t.target_window is None:
            return self._service_window_ids[t.service]
        backup = self.config.windows[t.target_window].backup
        return [t.target_window] if backup is None else [t.target_window, backup]

    def wait_s(self, t: Ticket, windows: list[WindowNow] | None = None,
               waiting: dict[str, int] | None = None, ahead: int | None = None) -> float | None:
        """The estimated wait of a waiting ticket from now (caller.core.waits); `ahead`:
        its place, when the caller knows it."""
        if windows is None:
            key = (t.target_window, t.service)
            windows = self._estimate_views.get(key)
            if windows is None:
                windows = self._estimate_views[key] = self.windows_now(self._estimated_by(t))
        if t.target_window is not None:
            rate, idle = directed_rate(t.target_window, windows)
        else:
            rate, idle = service_rate(t.service, windows,
                                      waiting if waiting is not None else self._counts)
        return wait_seconds(self._ahead(t) if ahead is None else ahead, rate, idle)

    def reachable(self) -> list[tuple[Ticket, int | None]]:
        """The live tickets with a phone number (remote tickets, appointments) and, while
        waiting, how many are ahead: whom `caller.hub.notify` may text."""
        return [(t, self._ahead(t) if t.state == "waiting" else None)
                for t in self.tickets.values() if t.phone and t.state in ACTIVE_STATES]

    def queue_status(self) -> dict:
        """Every live ticket of the day with its place and estimated wait: what the citizen's
        pages show (numbers only, never a holder)."""
        windows, waiting = self.windows_now(), self.waiting_counts()
        names = {wid: w.name for wid, w in self.config.windows.items()}
        tickets = []
        for t in self.tickets.values():
            if t.state not in ACTIVE_STATES or t.day != self.meta.day:
                continue
            ahead = self._ahead(t) if t.state == "waiting" else None
            tickets.append({
                "id": t.id, "number": t.number, "service": t.service, "state": t.state,
                "ahead": ahead,
                "wait_min": minutes(self.wait_s(t, windows, waiting, ahead))
                if ahead is not None else None,
                "window": t.window, "window_name": names.get(t.window or ""),
                "target_window": t.target_window, "target_name": names.get(t.target_window or ""),
                "transfers": t.transfers, "requeues": t.requeues, "recalls": t.recalls,
                "priority": t.priority,
            })
        return {"day": self.meta.day, "tickets": tickets}

    @property
    def notice(self) -> str:
        return self.meta.notice if self.meta.notice is not None else self.config.hall.notice

    def waiting_counts(self) -> dict[str, int]:
        return dict(self._counts)

    def window_waiting(self, wid: str) -> int:
        """How many tickets this window could call now."""
        n = sum(len(self._waiting[s]) for s in self.config.windows[wid].services)
        return n + sum(len(self._directed[a]) for a in self._directed_sources(wid))

    def window_state(self, wid: str) -> str:
        ws = self.windows[wid]
        if ws.staff is None:
            return "closed"
        if ws.paused:
            return "paused"
        if ws.current is not None:
            return "serving" if self.tickets[ws.current].started_at else "calling"
        return "idle"

    def snapshot(self, now: datetime) -> dict:
        local = now.astimezone(self.tz)
        services = []
        for s in self.config.services.values():
            is_open, reason = self._service_open(s, local)
            services.append({
                "id": s.id, "name": s.name, "prefix": s.prefix, "department": s.department,
                "waiting": len(self._waiting[s.id]), "open": is_open, "reason": reason,
                "green_channel": s.green_channel,
                "windows": list(self._service_windows[s.id]),
            })
        held_at: dict[str | None, list[dict]] = {}
        for t in self.tickets.values():
            if t.state == "held":
                held_at.setdefault(t.window, []).append(self.ticket_view(t))
        windows = []
        for wid, w in self.config.windows.items():
            ws = self.windows[wid]
            held = held_at.get(wid, [])
            windows.append({
                "id": wid, "name": w.name, "area": w.area, "state": self.window_state(wid),
                "staff": ws.staff, "pause_reason": ws.pause_reason if ws.paused else "",
                "ticket": self.ticket_view(self.tickets[ws.current]) if ws.current else None,
                "waiting": self.window_waiting(wid), "held": held,
                "services": dict(w.services),
                "rating_pending": ws.rating_ticket is not None,
            })
        return {
            "hall": {"name": self.config.hall.name, "notice": self.notice},
            "day": self.meta.day,
            "services": services,
            "windows": windows,
            "recent_calls": list(self.recent_calls),
            "manager": {
                "alerts_open": len(self.followup.alerts),
                "cases_open": len(self.followup.cases),
                "cases_overdue": sum(1 for c in self.followup.cases.values()
                                     if local.date().isoformat() > c.deadline),
            },
        }

    # ------------------------------------------------------------------ internals

    def _emit(self, name: Event, **payload: Any) -> None:
        self._events.append({"event": name, **payload})

    def _touch(self, t: Ticket) -> None:
        self._dirty_tickets.add(t.id)

    def _touch_window(self, ws: WindowState) -> None:
        self._dirty_windows.add(ws.id)
        self._window_views.clear()
        self._estimate_views.clear()

    def _queue_changed(self) -> None:
        directed = {w: len(self._directed[w])
                    for w in sorted(self._directed_at, key=self._window_rank.__getitem__)}
        self._emit(Event.QUEUE_CHANGED, waiting=self.waiting_counts(), directed=directed)

    def _enqueue(self, t: Ticket) -> None:
        if t.target_window is not None:
            self._directed[t.target_window][t.id] = t
            line = self._directed_line[t.target_window]
            self._directed_at.add(t.target_window)
        else:
            queue = self._waiting[t.service]
            queue[t.id] = t
            self._counts[t.service] = len(queue)
            line = self._waiting_line[t.service]
        place = _place(t)
        insort(line, place)
        self._placed[t.id] = (line, place)

    def _dequeue(self, t: Ticket) -> None:
        if t.target_window is not None:
            directed = self._directed[t.target_window]
            directed.pop(t.id, None)
            if not directed:
                self._directed_at.discard(t.target_window)
        else:
            queue = self._waiting[t.service]
            queue.pop(t.id, None)
            self._counts[t.service] = len(queue)
        placed = self._placed.pop(t.id, None)
        if placed is not None:
            line, place = placed
            del line[bisect_left(line, place)]

    def _service_open(self, service: Service, local: datetime) -> tuple[bool, str]:
        return open_status(self.config.hall, service, local)

    def _advance(self, local: datetime) -> None:
        day = business_day(self.config.hall, local)
        self._watch_clock(local, day)
        if day.isoformat() > self.meta.day:
            self._roll_day(day)
        due = [w for w in self._rating_open
               if self._mono >= self._rating_due_at(self.windows[w], local)]
        for wid in sorted(due, key=self._window_rank.__getitem__):
            self._rating_timeout(self.windows[wid], local)
        minute = (local.date(), local.hour, local.minute)
        if minute != self._open_checked:
            self._open_checked = minute
            self.settle_bookings(local)
            for s in self.config.services.values():
                status = self._service_open(s, local)
                previous = self._open.get(s.id)
                self._open[s.id] = status
                if previous is not None and previous[0] != status[0]:
                    self._emit(Event.SERVICE_STATUS, service=s.id, open=status[0], reason=status[1])

    def _watch_clock(self, local: datetime, day: date) -> None:
        """Raise one `clock_step` alert when the system clock jumps back, or shows a day
        before the business day (the day stays: numbering never goes back)."""
        offset = local.timestamp() - self._mono
        stepped = self._clock_offset is not None and offset < self._clock_offset - CLOCK_STEP_S
        self._clock_offset = offset
        behind = day.isoformat() < self.meta.day
        if stepped or (behind and not self._clock_behind):
            log.warning("system clock stepped back", extra={"fields": {
                "clock": local.isoformat(timespec="seconds"), "business_day": self.meta.day}})
            message = say("clock_step", clock=f"{local:%Y-%m-%d %H:%M:%S}", day=self.meta.day)
            alert = self.followup.raise_alert(AlertKind.CLOCK_STEP, local, message)
            self._emit(Event.ALERT, kind=AlertKind.CLOCK_STEP, alert_id=alert.id, window=None,
                       message=message)
        self._clock_behind = behind

    def _rating_due_at(self, ws: WindowState, local: datetime) -> float:
        """When (on `mono`) the window's rating times out; a deadline restored from the
        store counts from now, at most the whole timeout."""
        if ws.id not in self._rating_due:
            left = (ws.rating_deadline - local).total_seconds() if ws.rating_deadline else 0.0
            timeout = self.config.calling.rating_timeout_s
            self._rating_due[ws.id] = self._mono + min(max(left, 0.0), timeout)
        return self._rating_due[ws.id]

    def _roll_day(self, day: date) -> None:
        """Numbering restarts, from the counters the store kept for that day if any;
        what still waits from an earlier day is cancelled."""
        cancelled = False
        for t in list(self.tickets.values()):
            if t.state in ("waiting", "held") and t.day < day.isoformat():
                self._dequeue(t)
                t.state = "cancelled"
                self._touch(t)
                self._emit(Event.TICKET_CANCELLED, ticket=self.ticket_view(t), reason="day_end")
                cancelled = True
        self.meta.day = day.isoformat()
        self._dirty_meta = True
        self.counters = self._counters_ahead.pop(self.meta.day, {})
        self._open_checked = None  # the new day's bookings are settled at once
        self._counters_ahead = {d: c for d, c in self._counters_ahead.items() if d > self.meta.day}
        if cancelled:
            self._queue_changed()

    def _rating_timeout(self, ws: WindowState, local: datetime) -> None:
        t = self.tickets[ws.rating_ticket] if ws.rating_ticket else None
        ws.rating_ticket = None
        ws.rating_deadline = None
        self._rating_due.pop(ws.id, None)
        self._rating_open.discard(ws.id)
        self._touch_window(ws)
        if t is None:
            return
        default = self.config.calling.rating_default
        t.rating, t.rating_status = (default, "default") if default else (None, "timeout")
        t.rated_at = local if default else None
        self._touch(t)
        self._emit(Event.RATING_TIMEOUT, window=ws.id, ticket=self.ticket_view(t), level=default)

    # --- argument helpers

    @staticmethod
    def _arg(cmd: dict, name: str, kind: type = str, required: bool = True) -> Any:
        value = cmd.get(name)
        if value is None:
            if required:
                raise Refused("bad_request", f"缺少参数 {name}")
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise Refused("bad_request", f"参数 {name} 类型不对")
        return value

    def _window(self, cmd: dict, *, logged_in: bool = True) -> WindowState:
        wid = self._arg(cmd, "window")
        if wid not in self.windows:
            raise Refused("unknown_window", wid)
        ws = self.windows[wid]
        if logged_in and ws.staff is None:
            raise Refused("not_logged_in")
        return ws

    def _current(self, ws: WindowState) -> Ticket:
        if ws.current is None:
            raise Refused("no_current_ticket")
        return self.tickets[ws.current]

    def _announce(self, t: Ticket, wid: str) -> str:
        w = self.config.windows[wid]
        service = self.config.services.get(t.service)
        return self.config.calling.announce.format(
            number=t.number, window_name=w.name, window=w.id,
            service_name=service.name if service else "")

    def _directed_sources(self, wid: str) -> list[str]:
        """Windows whose directed tickets this window may call: itself, and any A whose
        backup (AB角) it is while A is away."""
        sources = [wid]
        for a in self._backed_up.get(wid, ()):
            ws = self.windows[a]
            if ws.staff is None or ws.paused:
                sources.append(a)
        return sources

    def _next_for(self, wid: str) -> Ticket | None:
        """The ticket this window calls next, the best of the heads of its queues.

        Directed tickets go first; then by the window's weight for the service
        (2 before 1, and 0 only when nothing else waits); among equal weights priority
        tickets, then transferred-in ones, then queue order (`_place`)."""
        lines = [*((-3, self._directed_line[a]) for a in self._directed_sources(wid)),
                 *((-weight, self._waiting_line[sid])
                   for sid, weight in self.config.windows[wid].services.items())]
        heads = [(rank, *line[0]) for rank, line in lines if line]
        return self.tickets[min(heads)[-1]] if heads else None

    def _ahead(self, t: Ticket) -> int:
        line = self._directed_line[t.target_window] if t.target_window else self._waiting_line[t.service]
        return bisect_left(line, _place(t)[:-1])  # those of a smaller place, whatever their id

    # --- the commands

    def _issue_ticket(self, cmd: dict, local: datetime) -> dict:
        sid = self._arg(cmd, "service")
        service = self.config.services.get(sid)
        if service is None:
            raise Refused("unknown_service", sid)
        priority_arg = self._arg(cmd, "priority", required=False) or "normal"
        if priority_arg not in ("normal", "priority"):
            raise Refused("bad_request", "priority 只能是 normal 或 priority")
        person = self._person(cmd)
        if person is None and service.id_required:
            raise Refused("id_required", message=say("id_required", service=service.name))
        if person is not None:
            live = self._live_ticket_of(person.key, sid) if service.one_live_ticket_per_person else None
            if live is not None:
                return self._check_in(live)
        is_open, reason = self._service_open(service, local)
        if not is_open:
            raise Refused("service_closed", message=reason)
        elderly = (person is not None and person.age is not None
                   and service.green_channel_age is not None and person.age >= service.green_channel_age)
        t, ahead = self._new_ticket(
            service, local, priority=priority_arg == "priority" or service.green_channel or elderly,
            lang=cmd.get("lang") if isinstance(cmd.get("lang"), str) else "zh", person=person)
        return self._ticket_reply(t, ahead) | {"green_channel": elderly}

    def _new_ticket(self, service: Service, local: datetime, *, priority: bool, lang: str,
                    person: Person | None = None, caps: bool = True, source: str | None = None,
                    phone: str | None = None, contact_name: str | None = None,
                    places: int | None = None) -> tuple[Ticket, int]:
        """Number, store and queue a ticket (kiosk, remote or appointment) and say so;
        `caps=False` (an appointment checking in) skips the daily and segment caps,
        `places` puts it that many waiting tickets from the front. Returns it and how
        many wait ahead of it."""
        sid = service.id
        counter = self.counters.get(sid) or DayCounter(sid, self.meta.day, service.numbers[0] - 1)
        segment = self._check_caps(service, counter, local, caps)
        counter.last += 1
        counter.issued += 1
        if source == "remote":
            counter.remote += 1
        if segment is not None:
            counter.segments[segment] = counter.segments.get(segment, 0) + 1
        self.counters[sid] = counter
        self._dirty_counters.add(sid)
        t = Ticket(
            id=self.meta.next_ticket_id,
            number=f"{service.prefix}{counter.last:0{service.digits}d}",
            service=sid, day=self.meta.day, issued_at=local, order=self.meta.next_order,
            priority=priority, lang=lang,
            person_key=person.key if person else None,
            holder_name=person.name if person else None,
            id_last4=person.last4 if person else None,
            source=source, phone=phone, contact_name=contact_name,
            code=self._code(self.meta.next_ticket_id),
        )
        if places is not None:
            t.order = self._order_after(t, places)
        self.meta.next_ticket_id += 1
        self.meta.next_order += 1
        self._dirty_meta = True
        self.tickets[t.id] = t
        self._enqueue(t)
        self._touch(t)
        # a normal ticket's order is the newest: everyone already waiting is ahead of it
        ahead = len(self._waiting[sid]) - 1 if not t.priority and places is None else self._ahead(t)
        self._emit(Event.TICKET_ISSUED, ticket=self.ticket_view(t), ahead=ahead)
        self._queue_changed()
        return t, ahead

    def _ticket_reply(self, t: Ticket, ahead: int) -> dict:
        """What the kiosk prints: the holder stays out (kiosks never get personal data); the
        live page's address when the hall publishes one."""
        view = {k: v for k, v in self.ticket_view(t).items() if k != "holder"}
        public = self.config.web.public_url
        return {
            "ticket": view, "ahead": ahead, "real_name": t.person_key is not None,
            "windows": list(self._service_windows[t.service]),
            "materials": list(self.config.services[t.service].materials),
            "wait_min": minutes(self.wait_s(t, ahead=ahead)) if t.state == "waiting" else None,
            **({"status_url": public + page_path(t.code)} if public and t.code else {}),
        }

    def _code(self, ticket_id: int) -> str | None:
        """The new ticket's page code, when the hall publishes ticket pages."""
        secret = self.config.personal.secret
        if not self.config.web.public_url or secret is None:
            return None
        return ticket_code(secret, self.config.hall.id or self.config.hall.name, self.meta.day,
                           ticket_id)

    def _person(self, cmd: dict) -> Person | None:
        """The card read at the kiosk (``person``: id_number, name, age), made into what
        the hub keeps; the raw number goes no further than this method."""
        raw = cmd.get("person")
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) - {"id_number", "name", "age"}:
            raise Refused("bad_request", "person 需要 id_number、name、age")
        secret = self.config.personal.secret
        if secret is None:
            raise Refused("id_unavailable", message=say("id_unavailable"))
        age = raw.get("age")
        if age is not None and (not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= 150):
            raise Refused("bad_request", "age 应为 0 到 150 的整数")
        number, name = raw.get("id_number"), raw.get("name")
        if not isinstance(number, str) or not isinstance(name, str):
            raise Refused("bad_request", "id_number 和 name 应为字符串")
        try:
            return person_from_card(secret, number, name, age)
        except ValueError:
            raise Refused("bad_id_number", message=say("bad_id_number")) from None

    def _live_ticket_of(self, key: str, sid: str) -> Ticket | None:
        for t in self.tickets.values():
            if t.person_key == key and t.service == sid and t.state in ACTIVE_STATES:
                return t
        return None

    def _check_in(self, t: Ticket) -> dict:
        """The one check-in path for a person who already holds a ticket: the kiosk shows
        and reprints it. Appointments will arrive here too, looked up by person key."""
        ahead = self._ahead(t) if t.state == "waiting" else 0
        return self._ticket_reply(t, ahead) | {"existing": True, "green_channel": False}

    def _check_caps(self, service: Service, counter: DayCounter, local: datetime,
                    caps: bool = True) -> str | None:
        """Refuse when the number range is used up or (with `caps`) a cap is reached;
        return the time segment the ticket counts in."""
        if counter.last + 1 > service.numbers[1]:
            raise Refused("daily_limit_reached", message=say("cap_range", service=service.name))
        if not caps:
            return None
        if service.daily_cap is not None and counter.issued >= service.daily_cap:
            raise Refused("daily_limit_reached",
                          message=say("cap_daily", service=service.name, cap=service.daily_cap))
        now = local.time()
        for seg in service.segment_caps:
            if seg.start <= now < seg.end:
                key = f"{seg.start:%H:%M}"
                if counter.segments.get(key, 0) >= seg.cap:
                    later = [s.start for s in service.segment_caps if s.start >= seg.end]
                    when = f"{min(later):%H:%M}" if later else "下个工作日"
                    raise Refused("daily_limit_reached", message=say(
                        "cap_segment", service=service.name, next=when))
                return key
        return None

    def _call(self, ws: WindowState, t: Ticket, local: datetime) -> dict:
        """Put `t` at window `ws`, finishing whatever the window was serving."""
        if ws.current is not None:
            self._finish_current(ws, local)
        if t.state == "waiting":
            self._dequeue(t)
        elif t.state == "held":
            t.hold_s += max((local - t.held_at).total_seconds(), 0.0) if t.held_at else 0.0
            t.held_at = None
        t.state = "called"
        t.window = ws.id
        t.target_window = None
        t.transferred = False
        t.recalls = 0
        t.called_at = local
        t.started_at = None
        t.first_called_at = t.first_called_at or local
        t.staff = ws.staff
        ws.current = t.id
        self._touch(t)
        self._touch_window(ws)
        self._emit_called(ws, t)
        self._queue_changed()
        return {"ticket": self.ticket_view(t)}

    def _emit_called(self, ws: WindowState, t: Ticket) -> None:
        payload = {
            "ticket": self.ticket_view(t), "window": ws.id,
            "window_name": self.config.windows[ws.id].name,
            "recalls": t.recalls, "announce": self._announce(t, ws.id),
        }
        self._emit(Event.TICKET_CALLED, **payload)
        recent = [c for c in self.recent_calls if c["ticket"]["id"] != t.id]
        self.recent_calls = [payload, *recent][: self.config.calling.recent_calls]

    def _ready_window(self, cmd: dict) -> WindowState:
        ws = self._window(cmd)
        if ws.paused:
            raise Refused("window_paused")
        return ws

    def _call_next(self, cmd: dict, local: datetime) -> dict:
        ws = self._ready_window(cmd)
        number = self._arg(cmd, "number", required=False)
        if number is not None:
            wanted = number.upper()
            queues = [*(self._directed[a] for a in self._directed_sources(ws.id)),
                      *(self._waiting[sid] for sid in self.config.windows[ws.id].services)]
            chosen = next((t for q in queues for t in q.values() if t.number == wanted), None)
            if chosen is None:
                raise Refused("unknown_ticket", number)
            return self._call(ws, chosen, local)
        chosen = self._next_for(ws.id)
        if chosen is None:
            raise Refused("queue_empty")
        return self._call(ws, chosen, local)

    def _recall(self, cmd: dict, local: datetime) -> dict:
        ws = self._ready_window(cmd)
        t = self._current(ws)
        if t.recalls >= self.config.calling.recall_limit:
            raise Refused("recall_limit", str(t.recalls))
        t.recalls += 1
        self._touch(t)
        self._emit_called(ws, t)
        return {"ticket": self.ticket_view(t), "recalls": t.recalls}

    def _end_stint(self, ws: WindowState, t: Ticket, local: datetime) -> None:
        if t.called_at is not None:
            stint = max((local - t.called_at).total_seconds(), 0.0)
            t.service_s += stint
            self.paces.add(ws.id, stint)
        ws.current = None
        self._touch(t)
        self._touch_window(ws)

    def _skip(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        t = self._current(ws)
        calling = self.config.calling
        self._end_stint(ws, t, local)
        if calling.skip == "requeue" and t.requeues < calling.requeue_max:
            t.requeues += 1
            t.order = self._order_after(t, calling.requeue_places)
            t.state, t.window, t.recalls = "waiting", None, 0
            self._enqueue(t)
            requeued = True
        else:
            t.state = "no_show"
            requeued = False
        view = self.ticket_view(t)
        self._emit(Event.TICKET_SKIPPED, ticket=view, window=ws.id, requeued=requeued)
        if requeued:
            self._queue_changed()
        return {"ticket": view, "requeued": requeued}

    def _order_after(self, t: Ticket, places: int) -> float:
        """A queue position `places` tickets back from the front of the ticket's queue."""
        orders = sorted(o.order for o in self._waiting[t.service].values())
        if not orders:
            return self.meta.next_order - 0.5
        if places <= 0:
            return orders[0] - 1
        if places >= len(orders):
            return orders[-1] + (self.meta.next_order - orders[-1]) / 2
        return (orders[places - 1] + orders[places]) / 2

    def _transfer(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        to_service = self._arg(cmd, "to_service", required=False)
        to_window = self._arg(cmd, "to_window", required=False)
        if (to_service is None) == (to_window is None):
            raise Refused("bad_request", "请指定 to_service 或 to_window 其中之一")
        if to_service is not None and to_service not in self.config.services:
            raise Refused("unknown_service", to_service)
        if to_window is not None and to_window not in self.windows:
            raise Refused("unknown_window", to_window)
        if to_window == ws.id:
            raise Refused("bad_request", "不能转移到本窗口")
        t = self._current(ws)
        self._end_stint(ws, t, local)
        t.state, t.window, t.recalls = "waiting", None, 0
        t.transferred = True
        t.transfers += 1
        if to_service is not None:
            t.service = to_service
        t.target_window = to_window
        self._enqueue(t)
        view = self.ticket_view(t)
        to = {"service": to_service} if to_service else {"window": to_window}
        self._emit(Event.TICKET_TRANSFERRED, ticket=view, from_window=ws.id, to=to)
        self._queue_changed()
        return {"ticket": view}

    def _hold(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        t = self._current(ws)
        self._end_stint(ws, t, local)
        t.state = "held"
        t.held_at = local
        t.holds += 1
        view = self.ticket_view(t)
        self._emit(Event.TICKET_HELD, ticket=view, window=ws.id)
        return {"ticket": view}

    def _call_held(self, cmd: dict, local: datetime) -> dict:
        ws = self._ready_window(cmd)
        ref = cmd.get("ticket")
        if isinstance(ref, dict):
            ref = ref.get("id", ref.get("number"))
        if not isinstance(ref, str | int) or isinstance(ref, bool):
            raise Refused("bad_request", "缺少参数 ticket（号码或编号）")
        for t in self.tickets.values():
            if t.state == "held" and t.window == ws.id and (
                    t.id == ref or t.number == str(ref).upper()):
                return self._call(ws, t, local)
        raise Refused("unknown_ticket", message=say("unknown_held", detail=str(ref)))

    def _start(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        t = self._current(ws)
        if t.started_at is None:
            t.started_at = local
            self._touch(t)
            self._emit(Event.TICKET_STARTED, ticket=self.ticket_view(t), window=ws.id)
        return {"ticket": self.ticket_view(t)}

    def _pause(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        if ws.paused:
            raise Refused("window_paused")
        reason = self._arg(cmd, "reason", required=False) or ""
        ws.paused, ws.pause_reason = True, reason
        self._touch_window(ws)
        self._emit(Event.WINDOW_PAUSED, window=ws.id, reason=reason)
        return {"window": ws.id}

    def _resume(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        if not ws.paused:
            raise Refused("window_not_paused")
        ws.paused, ws.pause_reason = False, ""
        self._touch_window(ws)
        self._emit(Event.WINDOW_RESUMED, window=ws.id)
        return {"window": ws.id}

    def _finish_current(self, ws: WindowState, local: datetime,
                        case_no: str | None = None) -> Ticket:
        t = self._current(ws)
        self._end_stint(ws, t, local)
        t.state = "done"
        t.case_no = case_no or t.case_no
        t.finished_at = local
        t.staff = ws.staff
        if ws.last_finished is not None and ws.last_finished in self.tickets:
            self._dirty_tickets.add(ws.last_finished)  # no longer referenced: may be forgotten
        ws.last_finished = t.id
        self._emit(Event.TICKET_FINISHED, ticket=self.ticket_view(t), window=ws.id, staff=ws.staff)
        if ws.id in self.evaluator_windows:
            self._start_rating(ws, t, local)
        return t

    def _finish(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        case_no = self._case_no(cmd)
        return {"ticket": self.ticket_view(self._finish_current(ws, local, case_no))}

    def _case_no(self, cmd: dict) -> str | None:
        """The 办件编号 the clerk entered or scanned: printable, at most CASE_NO_MAX."""
        value = self._arg(cmd, "case_no", required=False)
        if value is None or not value.strip():
            return None
        value = value.strip()
        if len(value) > CASE_NO_MAX or not value.isprintable():
            raise Refused("bad_case_no", message=say("bad_case_no", detail=str(CASE_NO_MAX)))
        return value

    def _start_rating(self, ws: WindowState, t: Ticket, local: datetime) -> None:
        if ws.rating_ticket is not None and ws.rating_ticket != t.id:
            self._rating_timeout(ws, local)
        timeout = self.config.calling.rating_timeout_s
        ws.rating_ticket = t.id
        ws.rating_deadline = local + timedelta(seconds=timeout)
        self._rating_due[ws.id] = self._mono + timeout
        self._rating_open.add(ws.id)
        self._touch_window(ws)
        self._emit(Event.RATING_REQUESTED, window=ws.id, ticket=self.ticket_view(t), timeout_s=timeout)

    def _request_rating(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        if ws.last_finished is None:
            raise Refused("no_current_ticket")
        t = self.tickets[ws.last_finished]
        if t.rating_status == "rated":
            raise Refused("already_rated")
        self._start_rating(ws, t, local)
        return {"ticket": self.ticket_view(t)}

    def _rate(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd, logged_in=False)
        level = self._arg(cmd, "level")
        if level not in RATING_LEVELS:
            raise Refused("bad_request", f"level 只能是 {', '.join(RATING_LEVELS)}")
        if ws.rating_ticket is None:
            last = self.tickets.get(ws.last_finished) if ws.last_finished else None
            raise Refused("already_rated" if last and last.rating_status == "rated"
                          else "no_rating_pending")
        t = self.tickets[ws.rating_ticket]
        t.rating, t.rating_status, t.rated_at = level, "rated", local
        ws.rating_ticket, ws.rating_deadline = None, None
        self._rating_due.pop(ws.id, None)
        self._rating_open.discard(ws.id)
        self._touch(t)
        self._touch_window(ws)
        view = self.ticket_view(t)
        self._emit(Event.RATING_RECEIVED, window=ws.id, ticket=view, staff=t.staff, level=level)
        if level in BAD_LEVELS:
            self._bad_rating(ws.id, t, level, local)
        return {"ticket": view, "level": level}

    def _rate_reasons(self, cmd: dict, local: datetime) -> dict:
        """What a bad rating named (one or more of `[rating] reasons`) and the citizen's own
        words, from a screen evaluator, within `reasons_timeout_s` of the rating."""
        ws = self._window(cmd, logged_in=False)
        tid = self._arg(cmd, "ticket", int)
        t = self.tickets.get(tid) if tid == ws.last_finished else None
        policy = self.config.rating
        if (t is None or t.rating_status != "rated" or t.rating not in BAD_LEVELS
                or t.rating_reasons is not None or t.rated_at is None
                or (local - t.rated_at).total_seconds() > policy.reasons_timeout_s):
            raise Refused("reasons_closed")
        reasons = cmd.get("reasons")
        if (not isinstance(reasons, list) or not reasons or len(set(reasons)) != len(reasons)
                or any(r not in policy.reasons for r in reasons)):
            raise Refused("bad_reasons", message=say("bad_reasons", detail=REASONS_SEP.join(policy.reasons)))
        comment = (self._arg(cmd, "comment", required=False) or "").strip()
        named = [r for r in policy.reasons if r in reasons]  # in the configured order
        t.rating_reasons = json.dumps(named, ensure_ascii=False)
        t.rating_text = comment or None
        self._touch(t)
        view = self.ticket_view(t)
        self._emit(Event.BAD_RATING_REASONS, window=ws.id, ticket=view, staff=t.staff,
                   reasons=named, comment=comment)
        case = self.followup.add_reasons(t.id, REASONS_SEP.join(named), comment)
        if case is not None:
            self._emit(Event.CASE_UPDATED, case=self.followup.case_view(case, local.date()))
        return {"ticket": view, "reasons": named}

    def _bad_rating(self, wid: str, t: Ticket, level: str, local: datetime) -> None:
        """Alert the manager at once and open a follow-up case (差评整改)."""
        message = say(AlertKind.BAD_RATING, window_name=self.config.windows[wid].name,
                      level_name=LEVEL_NAMES[level], number=t.number, staff=t.staff or "-")
        alert = self.followup.raise_alert(AlertKind.BAD_RATING, local, message, window=wid,
                                          ticket_number=t.number)
        deadline = add_working_days(self.config.hall, local.date(),
                                    self.config.calling.followup_working_days)
        case = self.followup.open_case(ticket_id=t.id, number=t.number, service=t.service,
                                       window=wid, staff=t.staff, level=level, at=local,
                                       deadline=deadline)
        self._emit(Event.ALERT, kind=AlertKind.BAD_RATING, alert_id=alert.id, case=case.id, window=wid,
                   ticket=self.ticket_view(t), level=level, staff=t.staff, message=message)
        self._emit(Event.CASE_OPENED, case=self.followup.case_view(case, local.date()))

    def _login(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd, logged_in=False)
        staff = self._arg(cmd, "staff").strip()
        if not staff:
            raise Refused("bad_request", "工号不能为空")
        if self.config.staff.roster_required:
            refusal = self.roster.login_refusal(staff, ws.id)
            if refusal is not None:
                raise Refused(refusal, staff)
        if ws.staff == staff:
            return {"window": ws.id, "staff": staff}
        if ws.current is not None:
            raise Refused("ticket_in_progress", self.tickets[ws.current].number)
        if ws.staff is not None:
            self._emit(Event.WINDOW_LOGOUT, window=ws.id, staff=ws.staff)
        ws.staff = staff
        self._touch_window(ws)
        self._emit(Event.WINDOW_LOGIN, window=ws.id, staff=staff, paused=ws.paused)
        return {"window": ws.id, "staff": staff}

    def _logout(self, cmd: dict, local: datetime) -> dict:
        ws = self._window(cmd)
        if ws.current is not None:
            raise Refused("ticket_in_progress", self.tickets[ws.current].number)
        staff = ws.staff
        ws.staff, ws.paused, ws.pause_reason = None, False, ""
        self._touch_window(ws)
        self._emit(Event.WINDOW_LOGOUT, window=ws.id, staff=staff)
        return {"window": ws.id}

    def _report_alert(self, cmd: dict, local: datetime) -> dict:
        """A device reports its own hardware (printer out of paper, serial line unplugged)."""
        kind = self._arg(cmd, "kind")
        if kind not in DEVICE_ALERTS:
            raise Refused("bad_request", f"kind 只能是 {', '.join(DEVICE_ALERTS)}")
        window = self._arg(cmd, "window", required=False)
        if window is not None and window not in self.windows:
            raise Refused("unknown_window", window)
        message = self._arg(cmd, "message")[:500]
        device, part = cmd.get("device"), self._arg(cmd, "part", required=False)
        where = (kind, device, part, window)
        for same in self.followup.alerts.values():  # a repeat of an open alert is not a new one
            if (same.kind, same.device, same.part, same.window, same.message) == (*where, message):
                return {"alert": same.id}
        alert = self.followup.raise_alert(kind, local, message, window=window, device=device,
                                          part=part)
        if kind in RECOVERIES:  # back to normal: close the fault it ends (that device's same
            # part: the scanner coming back leaves the reader's fault open), nothing to acknowledge
            for fault in [a for a in self.followup.alerts.values()
                          if (a.kind, a.device, a.part) == (RECOVERIES[kind], device, part)]:
                self.followup.acknowledge(fault.id, "自动恢复", local)
            self.followup.acknowledge(alert.id, "自动恢复", local)
        self._emit(Event.ALERT, kind=kind, alert_id=alert.id, device=alert.device, part=part,
                   window=window, message=message)
        return {"alert": alert.id}

    # --- the manager: alerts and follow-up cases

    def _list_alerts(self, cmd: dict, local: datetime) -> dict:
        return {"alerts": [self.followup.alert_view(a) for a in self.followup.alerts.values()]}

    def _ack_alert(self, cmd: dict, local: datetime) -> dict:
        alert = self.followup.acknowledge(self._arg(cmd, "alert", int), self._arg(cmd, "by"),
                                          local)
        view = self.followup.alert_view(alert)
        self._emit(Event.ALERT_ACKNOWLEDGED, alert=view)
        return {"alert": view}

    def _list_cases(self, cmd: dict, local: datetime) -> dict:
        today = local.date()
        return {"cases": [self.followup.case_view(c, today) for c in self.followup.cases.values()]}

    def _case_update(self, case: Case, local: datetime) -> dict:
        view = self.followup.case_view(case, local.date())
        self._emit(Event.CASE_UPDATED, case=view)
        return {"case": view}

    def _case_callback(self, cmd: dict, local: datetime) -> dict:
        case = self.followup.call_back(self._arg(cmd, "case", int), self._arg(cmd, "by"),
                                       self._arg(cmd, "note"), local)
        return self._case_update(case, local)

    def _case_rectify(self, cmd: dict, local: datetime) -> dict:
        case = self.followup.rectify(self._arg(cmd, "case", int), self._arg(cmd, "by"),
                                     self._arg(cmd, "cause"), self._arg(cmd, "fix"), local)
        return self._case_update(case, local)

    def _case_close(self, cmd: dict, local: datetime) -> dict:
        case = self.followup.close(self._arg(cmd, "case", int), self._arg(cmd, "by"),
                                   self._arg(cmd, "outcome"), local)
        return self._case_update(case, local)

    # --- appeals of bad ratings (申诉复核) and the no-rating policy

    def _ticket_state(self, cmd: dict, local: datetime) -> dict:
        """A scanned ticket's public state for the kiosk: where it stands, no holder."""
        code, number = cmd.get("code"), cmd.get("number")
        if (code is None) == (number is None):
            raise Refused("bad_request", "ticket_state 需要 number（可带 day）或 code，二者取其一")
        t = self.ticket_asked(cmd)
        if t is None:
            lang = self._lang(cmd)
            if code is not None:
                raise Refused("no_such_ticket", message=say("no_such_ticket_code", lang))
            raise Refused("no_such_ticket", message=say("no_such_ticket", lang, number=number))
        names = {wid: w.name for wid, w in self.config.windows.items()}
        service = self.config.services.get(t.service)
        return {"ticket": {
            "number": t.number, "service": t.service,
            "service_name": service.name if service else t.service, "state": t.state,
            "ahead": self._ahead(t) if t.state == "waiting" else None,
            "window_name": names.get(t.window or "") if t.state == "called" else None,
            "transferred": t.transfers > 0, "day": t.day}}

    def ticket_asked(self, cmd: dict) -> Ticket | None:
        """The ticket a ``ticket_state`` names, if the engine holds it: by its page ``code``
        (as stored with it, never derived), or by ``number`` on ``day`` (default today).
        The hub loads an ended one from the store first."""
        code = cmd.get("code")
        if code is not None:
            return next((t for t in self.tickets.values() if t.code == code), None) \
                if looks_like_code(code) else None
        number, day = cmd.get("number"), cmd.get("day") or self.meta.day
        return next((t for t in self.tickets.values() if t.number == number and t.day == day),
                    None)

    def tickets_needed(self, cmd: dict) -> list[int]:
        """Ended tickets a command acts on that the engine no longer holds: the hub loads
        them from the store and hands them to `adopt` before `handle`."""
        kind = cmd.get("type")
        wanted = cmd.get("ticket") if kind == "appeal_file" else (
            self.appeals.ticket_of(cmd.get("appeal")) if kind == "appeal_decide" else None)
        if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted not in self.tickets:
            return [wanted]
        return []

    def adopt(self, tickets: list[Ticket]) -> None:
        """Hold ended tickets from the store for the next command; `take_changes` writes
        them back and forgets them again."""
        for t in tickets:
            if t.id not in self.tickets and t.state not in ACTIVE_STATES:
                self.tickets[t.id] = t
                self._dirty_tickets.add(t.id)

    def _appeal_file(self, cmd: dict, local: datetime) -> dict:
        tid = self._arg(cmd, "ticket", int)
        by, reason = self._arg(cmd, "by").strip(), self._arg(cmd, "reason").strip()
        if not by or not reason:
            raise Refused("bad_request", "申诉需要申诉人和理由")
        t = self.tickets.get(tid)
        if t is None:
            raise Refused("unknown_ticket", str(tid))
        if t.rating_status != "rated" or t.rating not in BAD_LEVELS:
            raise Refused("not_appealable", t.number)
        if t.appeal is not None:
            raise Refused("already_appealed", t.number)
        appeal = self.appeals.file(ticket_id=t.id, number=t.number, service=t.service,
                                   window=t.window, staff=t.staff, level=t.rating, day=t.day,
                                   at=local, by=by, reason=reason)
        t.appeal = appeal.state
        self._touch(t)
        view = self.appeals.view(appeal)
        self._emit(Event.APPEAL_FILED, appeal=view)
        return {"appeal": view}

    def _appeal_decide(self, cmd: dict, local: datetime) -> dict:
        appeal_id = self._arg(cmd, "appeal", int)
        tid = self.appeals.ticket_of(appeal_id)
        appeal = self.appeals.decide(appeal_id, self._arg(cmd, "by"), self._arg(cmd, "decision"),
                                     self._arg(cmd, "note").strip(), local)
        t = self.tickets.get(tid) if tid is not None else None
        if t is not None:
            t.appeal = appeal.state
            self._touch(t)
        view = self.appeals.view(appeal)
        self._emit(Event.APPEAL_DECIDED, appeal=view)
        return {"appeal": view}

    def _list_appeals(self, cmd: dict, local: datetime) -> dict:
        return {"appeals": [self.appeals.view(a) for a in self.appeals.pending.values()]}

    def default_cutoff(self, now: datetime) -> str | None:
        """The last business day whose unrated tickets take the default rating at `now`;
        None when the hall keeps them unrated."""
        policy = self.config.rating
        if policy.unrated != "default":
            return None
        today = max(business_day(self.config.hall, now.astimezone(self.tz)).isoformat(),
                    self.meta.day)
        return (date.fromisoformat(today) - timedelta(days=policy.default_after_days)).isoformat()

    def _apply_default_ratings(self, cmd: dict, local: datetime) -> dict:
        """The hall's no-rating policy: finished tickets of days up to `default_cutoff`
        that nobody rated take the default level, marked as a default (`rating_defaulted`)."""
        cutoff = self.default_cutoff(local)
        if cutoff is None:
            return {"defaulted": 0}
        pending = {ws.rating_ticket for ws in self.windows.values()}
        level = self.config.rating.default_level
        due = [t for t in self.tickets.values()
               if t.state == "done" and t.rating_status in (None, "timeout") and t.day <= cutoff
               and t.id not in pending]
        for t in due[:DEFAULTS_PER_RUN]:
            t.rating, t.rating_status, t.rated_at = level, "default", local
            self._touch(t)
            self._emit(Event.RATING_DEFAULTED, window=t.window, ticket=self.ticket_view(t),
                       staff=t.staff, level=level)
        return {"defaulted": min(len(due), DEFAULTS_PER_RUN)}

    # --- the staff roster (人员名册)

    def _staff_changed(self, member: StaffMember) -> dict:
        view = staff_view(member)
        self._emit(Event.STAFF_CHANGED, staff=view)
        return {"staff": view}

    def _staff_save(self, cmd: dict, local: datetime) -> dict:
        stars = self._arg(cmd, "stars", int, required=False)
        windows = cmd.get("windows") or []
        member = self.roster.save(self._arg(cmd, "staff_no"), self._arg(cmd, "name"),
                                  self._arg(cmd, "title", required=False) or "",
                                  0 if stars is None else stars, windows, set(self.windows), local)
        return self._staff_changed(member)

    def _staff_disable(self, cmd: dict, local: datetime) -> dict:
        return self._staff_changed(self.roster.set_active(self._arg(cmd, "staff_no"), False, local))

    def _staff_enable(self, cmd: dict, local: datetime) -> dict:
        return self._staff_changed(self.roster.set_active(self._arg(cmd, "staff_no"), True, local))

    def _staff_photo(self, cmd: dict, local: datetime) -> dict:
        return self._staff_changed(self.roster.set_photo(self._arg(cmd, "staff_no"),
                                                         self._arg(cmd, "photo"), local))

    def _staff_list(self, cmd: dict, local: datetime) -> dict:
        return {"staff": [staff_view(m) for _, m in sorted(self.roster.members.items())]}

    def _set_notice(self, cmd: dict, local: datetime) -> dict:
        """The TV wall's rolling notice; an empty text goes back to the config's."""
        text = self._arg(cmd, "text").strip()[:500]
        self.meta.notice = text or None
        self._dirty_meta = True
        self._emit(Event.NOTICE_CHANGED, text=self.notice)
        return {"text": self.notice}


def _place(t: Ticket) -> tuple:
    """A waiting ticket's place in its queue: smallest first; its id settles a tie."""
    return (not t.priority, not t.transferred, t.order, t.id)


TICKET_FIELDS = tuple(f.name for f in fields(Ticket))
WINDOW_FIELDS = tuple(f.name for f in fields(WindowState))
