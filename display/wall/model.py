"""What the TV wall shows, kept up to date from the hub's snapshot and events (no I/O, no Kivy).

`WallModel.load(snapshot)` and `WallModel.apply(event)` return a `Changes` naming the parts of
the screen that differ afterwards, so the UI redraws only those: one window tile, the waiting
count of one service, the recent list, the newest call.

With an `area` set, only that area's windows exist for the wall: their calls, their tiles, and
the services they serve.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from caller.core.protocol import arrival, holder_name

# Row statuses, in the words of `wall_strings` ("status_<name>").
CALLING, SERVING, DONE, SKIPPED, REQUEUED = "calling", "serving", "done", "skipped", "requeued"
HELD, TRANSFERRED, CANCELLED, CALLED = "held", "transferred", "cancelled", "called"


@dataclass(frozen=True)
class CallView:
    """The newest call, shown large."""

    ticket_id: Any
    number: str
    window: str
    window_name: str
    service_name: str
    recalls: int
    holder_name: str = ""  # masked (张*三), only when the hall enables names on the wall
    arrival: str = ""  # "booking" (预约) or "remote" (线上取号), when the wall marks them


@dataclass(frozen=True)
class RecentRow:
    ticket_id: Any
    number: str
    window: str
    window_name: str
    status: str = CALLING
    target: str = ""  # where a transferred ticket went (a window or service name)


@dataclass(frozen=True)
class WindowView:
    id: str
    name: str
    staffed: bool = False
    paused: bool = False
    reason: str = ""
    number: str = ""  # the ticket at the window, if any
    serving: bool = False  # the clerk started serving it (else it is being called)

    @property
    def state(self) -> str:
        """As the hub names it: closed, paused, calling, serving or idle."""
        if not self.staffed:
            return "closed"
        if self.paused:
            return "paused"
        if self.number:
            return "serving" if self.serving else "calling"
        return "idle"


@dataclass(frozen=True)
class ServiceView:
    id: str
    name: str
    waiting: int = 0
    open: bool = True


@dataclass
class Changes:
    """The parts of the wall that changed."""

    hall: bool = False
    notice: bool = False
    newest: bool = False  # a new call (or a recall) arrived: flash it and speak it
    recent: bool = False
    windows: set[str] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    # The event does not say everything: read the window states from a snapshot
    # (`sync_windows`). A clerk logging in over another keeps the window's pause, a fresh login
    # after a logout does not, and window_login looks the same in both cases.
    needs_snapshot: bool = False

    def __bool__(self) -> bool:
        return bool(self.hall or self.notice or self.newest or self.recent or self.windows
                    or self.services)


class WallModel:
    def __init__(self, rows: int = 8, area: str = "", marks: bool = True) -> None:
        if rows < 1:
            raise ValueError("the recent list needs at least one row")
        self.rows = rows
        self.area = area
        self.marks = marks  # say which call is an appointment or a remote ticket
        self.hall_name = ""
        self.notice = ""
        self.newest: CallView | None = None
        self.recent: list[RecentRow] = []
        self.windows: dict[str, WindowView] = {}
        self.services: dict[str, ServiceView] = {}
        self._window_names: dict[str, str] = {}
        self._service_names: dict[str, str] = {}

    # ------------------------------------------------------------------ snapshot

    def load(self, snapshot: dict) -> Changes:
        """Replace everything with the hub's snapshot."""
        hall = snapshot.get("hall") or {}
        self.hall_name = hall.get("name", "")
        self.notice = hall.get("notice") or ""
        all_windows = snapshot.get("windows", [])
        self._window_names = {w["id"]: w["name"] for w in all_windows}
        self._service_names = {s["id"]: s["name"] for s in snapshot.get("services", [])}
        shown = [w for w in all_windows if not self.area or w.get("area", "") == self.area]
        self.windows = {w["id"]: _window_from_snapshot(w) for w in shown}
        served = {sid for w in shown for sid in w.get("services", {})}
        self.services = {
            s["id"]: ServiceView(s["id"], s["name"], s.get("waiting", 0), s.get("open", True))
            for s in snapshot.get("services", [])
            if not self.area or s["id"] in served}
        statuses = _statuses_from_snapshot(shown)
        # After a reconnect, what this wall saw happen to tickets no longer at a window still holds.
        for row in self.recent:
            if row.status not in (CALLING, SERVING, HELD):
                statuses.setdefault(row.ticket_id, row.status)
        targets = {row.ticket_id: row.target for row in self.recent}
        calls = [c for c in snapshot.get("recent_calls", []) if c.get("window") in self.windows]
        self.recent = []
        for call in calls[: self.rows]:
            tid = call["ticket"]["id"]
            status = statuses.get(tid, CALLED)
            self.recent.append(replace(_row(call), status=status,
                                       target=targets.get(tid, "") if status == TRANSFERRED else ""))
        self.newest = self._call_view(calls[0]) if calls else None
        return Changes(hall=True, notice=True, recent=True, windows=set(self.windows),
                       services=set(self.services))

    def sync_windows(self, snapshot: dict) -> Changes:
        """Take the window states from a snapshot; name the windows that differ."""
        changed = set()
        for w in snapshot.get("windows", []):
            if w["id"] in self.windows:
                view = _window_from_snapshot(w)
                if view != self.windows[w["id"]]:
                    self.windows[w["id"]] = view
                    changed.add(w["id"])
        return Changes(windows=changed)

    # ------------------------------------------------------------------ events

    def apply(self, event: dict) -> Changes:
        """Fold one hub event in; unknown events change nothing."""
        handler = getattr(self, "_on_" + str(event.get("event")), None)
        return handler(event) if handler is not None else Changes()

    def _on_ticket_called(self, e: dict) -> Changes:
        wid = e.get("window")
        if wid not in self.windows:
            return Changes()
        self.newest = self._call_view(e)
        window = self.windows[wid]
        # A recall after the clerk started serving leaves the ticket being served, as the hub has it.
        serving = window.serving and window.number == e["ticket"]["number"] and e.get("recalls", 0) > 0
        row = replace(_row(e), status=SERVING if serving else CALLING)
        self.recent = [row, *(r for r in self.recent if r.ticket_id != row.ticket_id)][: self.rows]
        self.windows[wid] = replace(window, staffed=True, number=row.number, serving=serving)
        return Changes(newest=True, recent=True, windows={wid})

    def _on_ticket_started(self, e: dict) -> Changes:
        changes = self._set_status(e["ticket"]["id"], SERVING)
        wid = e.get("window")
        if wid in self.windows and self.windows[wid].number == e["ticket"]["number"]:
            self.windows[wid] = replace(self.windows[wid], serving=True)
            changes.windows.add(wid)
        return changes

    def _on_ticket_finished(self, e: dict) -> Changes:
        return self._left_window(e, e.get("window"), DONE)

    def _on_ticket_skipped(self, e: dict) -> Changes:
        return self._left_window(e, e.get("window"), REQUEUED if e.get("requeued") else SKIPPED)

    def _on_ticket_held(self, e: dict) -> Changes:
        return self._left_window(e, e.get("window"), HELD)

    def _on_ticket_transferred(self, e: dict) -> Changes:
        to = e.get("to") or {}
        if "window" in to:
            target = self._window_names.get(to["window"], to["window"])
        else:
            target = self._service_names.get(to.get("service", ""), to.get("service", ""))
        return self._left_window(e, e.get("from_window"), TRANSFERRED, target)

    def _on_ticket_cancelled(self, e: dict) -> Changes:
        return self._set_status(e["ticket"]["id"], CANCELLED)

    def _on_window_paused(self, e: dict) -> Changes:
        return self._window(e.get("window"), paused=True, reason=e.get("reason") or "")

    def _on_window_resumed(self, e: dict) -> Changes:
        return self._window(e.get("window"), paused=False, reason="")

    def _on_window_login(self, e: dict) -> Changes:
        changes = self._window(e.get("window"), staffed=True)
        changes.needs_snapshot = e.get("window") in self.windows
        return changes

    def _on_window_logout(self, e: dict) -> Changes:
        return self._window(e.get("window"), staffed=False, paused=False, reason="")

    def _on_queue_changed(self, e: dict) -> Changes:
        changed = set()
        for sid, count in (e.get("waiting") or {}).items():
            view = self.services.get(sid)
            if view is not None and view.waiting != count:
                self.services[sid] = replace(view, waiting=count)
                changed.add(sid)
        return Changes(services=changed)

    def _on_service_status(self, e: dict) -> Changes:
        view = self.services.get(e.get("service"))
        if view is None or view.open == bool(e.get("open")):
            return Changes()
        self.services[view.id] = replace(view, open=bool(e.get("open")))
        return Changes(services={view.id})

    def _on_notice_changed(self, e: dict) -> Changes:
        text = e.get("text") or ""
        if text == self.notice:
            return Changes()
        self.notice = text
        return Changes(notice=True)

    # ------------------------------------------------------------------ helpers

    def _call_view(self, payload: dict) -> CallView:
        ticket = payload["ticket"]
        return CallView(ticket["id"], ticket["number"], payload["window"], payload["window_name"],
                        ticket.get("service_name", ""), int(payload.get("recalls", 0)),
                        holder_name(ticket), arrival(ticket) if self.marks else "")

    def _set_status(self, ticket_id: Any, status: str, target: str = "") -> Changes:
        for i, row in enumerate(self.recent):
            if row.ticket_id == ticket_id:
                if (row.status, row.target) == (status, target):
                    return Changes()
                self.recent[i] = replace(row, status=status, target=target)
                return Changes(recent=True)
        return Changes()

    def _left_window(self, e: dict, wid: str | None, status: str, target: str = "") -> Changes:
        """The ticket is no longer at window `wid`: finished, passed, held or transferred."""
        changes = self._set_status(e["ticket"]["id"], status, target)
        view = self.windows.get(wid or "")
        if view is not None and view.number == e["ticket"]["number"]:
            self.windows[view.id] = replace(view, number="", serving=False)
            changes.windows.add(view.id)
        return changes

    def _window(self, wid: str | None, **fields: Any) -> Changes:
        view = self.windows.get(wid or "")
        if view is None:
            return Changes()
        updated = replace(view, **fields)
        if updated == view:
            return Changes()
        self.windows[view.id] = updated
        return Changes(windows={view.id})




def _row(payload: dict) -> RecentRow:
    ticket = payload["ticket"]
    return RecentRow(ticket["id"], ticket["number"], payload["window"], payload["window_name"])


def _window_from_snapshot(w: dict) -> WindowView:
    state = w.get("state", "closed")
    ticket = w.get("ticket") or {}
    return WindowView(w["id"], w["name"], staffed=state != "closed", paused=state == "paused",
                      reason=w.get("pause_reason") or "", number=ticket.get("number", ""),
                      serving=state == "serving")


def _statuses_from_snapshot(windows: list[dict]) -> dict[Any, str]:
    """What the snapshot still tells about recently called tickets."""
    statuses: dict[Any, str] = {}
    for w in windows:
        for held in w.get("held") or []:
            statuses[held["id"]] = HELD
        if w.get("ticket"):
            statuses[w["ticket"]["id"]] = SERVING if w.get("state") == "serving" else CALLING
    return statuses
