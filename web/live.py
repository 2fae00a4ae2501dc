"""The console's view of the hall: one hub connection shared by every open browser.

Each hub event (or a burst of them) leads to one fresh `snapshot` from the hub and (at
most once a second) a read of the hall database (the longest wait of each service,
today's figures); the result goes to every subscriber (a browser's event stream) at once. The devices come
from the hub's `/healthz`, polled every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from caller.core.client import HubClient, HubTime
from caller.core.config import WEB_LIMITS, HallConfig
from caller.core.protocol import arrival
from caller.manager.stats import StatsError, figures, load_tickets, open_readonly
from web import strings

log = logging.getLogger("hallq.web")

HEALTH_EVERY_S = 1.0
FIGURES_EVERY_S = 1.0
FIGURES_KEYS = ("issued", "served", "waiting", "wait_avg_s", "wait_p90_s", "rated",
                "rating_rate", "satisfaction_rate", "bad_ratings")
HARDWARE_KINDS = {"printer_fault": ("printer", False), "printer_ok": ("printer", True),
                  "device_offline": ("line", False), "device_online": ("line", True)}


def health_url(hub_url: str) -> str:
    """The hub's health page beside its websocket URL."""
    scheme, rest = hub_url.split("://", 1)
    host = rest.split("/", 1)[0]
    return f"{'https' if scheme == 'wss' else 'http'}://{host}/healthz"


@dataclass
class DeviceState:
    online: bool = False
    seen: bool = False  # online at least once since the console started
    since: str | None = None  # when it came online or went away (server clock)
    last_seen: str | None = None
    printer_ok: bool | None = None  # None: never reported
    line_ok: bool | None = None  # every part's line (reader, scanner, serial line) is up
    lines_down: set[str] = field(default_factory=set)  # the parts reported down


@dataclass
class Hall:
    """The live state, and who listens to it."""

    config: HallConfig
    device: str
    hub_url: str
    token: str
    db: Path | None
    limits: dict[str, int] = field(default_factory=lambda: dict(WEB_LIMITS))
    snapshot: dict | None = field(default=None, init=False)
    alerts: list[dict] = field(default_factory=list, init=False)
    extra: dict[str, Any] = field(default_factory=dict, init=False)  # longest waits, figures
    devices: dict[str, DeviceState] = field(default_factory=dict, init=False)
    hub_health: dict[str, Any] = field(default_factory=dict, init=False)
    seq: int = field(default=0, init=False)
    version: int = field(default=0, init=False)
    news: int = field(default=0, init=False)  # how often the hub said something changed

    def __post_init__(self) -> None:
        self.client = HubClient(self.hub_url, self.device, self.token, on_event=self._on_event,
                                on_welcome=self._on_welcome, on_connection=self._on_connection)
        self.time = HubTime()
        self.clock_rate = ClockRate()
        self.devices = {d: DeviceState() for d in self.config.devices if d != self.device}
        self._since: dict[str, tuple[tuple, str]] = {}  # window -> (its state key, since)
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._dirty = asyncio.Event()
        self._alerts_dirty = True
        self._extra_at = -FIGURES_EVERY_S  # when the database was last read (monotonic)
        self._extra_later = False  # a read is scheduled
        self._refused = False  # the hub refused the device (logged)
        self._tasks: list[asyncio.Task] = []
        # run beside each refresh (the citizen pages' live tickets): coroutine functions
        self.hooks: list[Callable[[], Awaitable[None]]] = []

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._load_hardware()
        await self.client.start(wait=False)
        self._tasks = [asyncio.create_task(self._refresher(), name="web-refresh"),
                       asyncio.create_task(self._health(), name="web-health")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.close()

    # ------------------------------------------------------------------ subscribers

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=8)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._subscribers.discard(queue)

    def view_text(self) -> str:
        return json.dumps(self.view(), ensure_ascii=False, separators=(",", ":"))

    def _publish(self) -> None:
        self.version += 1
        text = self.view_text()
        for queue in self._subscribers:
            if queue.full():  # a slow browser skips to the newest state
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(text)

    # ------------------------------------------------------------------ hub callbacks

    def _on_welcome(self, welcome: dict) -> None:
        self.news += 1
        self.time.follow(welcome.get("now"))
        self.clock_rate.follow(welcome.get("now"), restart=True)
        self._alerts_dirty = True
        self._dirty.set()

    def _on_event(self, event: dict) -> None:
        self.news += 1
        self.time.follow(event.get("at"))
        self.clock_rate.follow(event.get("at"))
        self.seq = event.get("seq", self.seq)
        name = event.get("event")
        if name in ("alert", "alert_acknowledged"):
            self._alerts_dirty = True
            if name == "alert" and event.get("kind") in HARDWARE_KINDS and event.get("device"):
                self._hardware(event["device"], event["kind"], event.get("part"))
        self._dirty.set()

    def _on_connection(self, up: bool) -> None:
        self._dirty.set()

    def _hardware(self, device: str, kind: str, part: str | None) -> None:
        state = self.devices.get(device)
        if state is None:
            return
        what, ok = HARDWARE_KINDS[kind]
        if what == "printer":
            state.printer_ok = ok
            return
        if ok:  # one part back: the device's lines are up only when none is still down
            state.lines_down.discard(part or "")
        else:
            state.lines_down.add(part or "")
        state.line_ok = not state.lines_down

    def _load_hardware(self) -> None:
        """The last printer and line report of each device, from the alert history."""
        if self.db is None:
            return
        try:
            conn = open_readonly(self.db)
        except StatsError:
            return
        try:
            with contextlib.suppress(sqlite3.Error):
                for device, kind, part in conn.execute(
                        "SELECT device, kind, part FROM alerts WHERE device IS NOT NULL "
                        "AND kind IN ('printer_fault', 'printer_ok', 'device_offline', "
                        "'device_online') ORDER BY id"):
                    self._hardware(device, kind, part)
        finally:
            conn.close()

    # ------------------------------------------------------------------ refreshing

    async def _refresher(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            results = await asyncio.gather(self._refresh(), *(hook() for hook in self.hooks),
                                           return_exceptions=True)
            for result in results:  # the console must outlive one bad refresh
                if isinstance(result, Exception):
                    log.error("refresh failed", exc_info=result)
            self._publish()

    async def refresh(self) -> None:
        """Refresh now, alerts too (after a console action: its events may still be on
        their way). It asks for the alerts itself: a refresh already running (woken by
        the action's own events) may have taken the flag while its answer is still on
        the way, and the page drawn next must show the action done."""
        await self._refresh(alerts=True)
        self._publish()

    async def _refresh(self, alerts: bool = False) -> None:
        if not self.client.connected:
            return
        # The database already holds what the events say (the hub commits before it
        # broadcasts), so it is read while the snapshot is on its way.
        day = self.snapshot["day"] if self.snapshot else None
        extra = None
        if self.db is not None and day:
            wait = self._extra_at + FIGURES_EVERY_S - time.monotonic()
            if wait <= 0:  # at most once a second: a busy day's figures take a while
                self._extra_at = time.monotonic()
                extra = asyncio.create_task(asyncio.to_thread(read_extra, self.db, day, self.config))
            elif not self._extra_later:
                self._extra_later = True
                asyncio.get_running_loop().call_later(wait, self._figures_due)
        reply = await self.client.request("snapshot", timeout=5)
        if reply.get("ok"):
            self.snapshot = reply["snapshot"]
        if alerts or self._alerts_dirty:
            self._alerts_dirty = False
            reply = await self.client.request("list_alerts", timeout=5)
            if reply.get("ok"):
                self.alerts = reply["alerts"]
        if extra is not None:
            self.extra = await extra
        if self.db is not None and self.snapshot is not None and self.snapshot["day"] != day:
            self.extra = await asyncio.to_thread(read_extra, self.db, self.snapshot["day"],
                                                 self.config)

    def _figures_due(self) -> None:
        self._extra_later = False
        self._dirty.set()

    async def request(self, kind: str, **args: Any) -> dict:
        """A command on behalf of a console user; a reply (ok or not) even when the hub is away."""
        if not self.client.connected:
            return {"ok": False, "error": {"code": "hub_down", "message": strings.HUB_DOWN}}
        try:
            return await self.client.request(kind, timeout=10, **args)
        except TimeoutError:
            return {"ok": False, "error": {"code": "timeout", "message": strings.HUB_TIMEOUT}}

    async def _health(self) -> None:
        url = health_url(self.hub_url)
        while True:
            try:
                health = await asyncio.to_thread(_get_json, url, self.token)
            except (OSError, ValueError):
                health = None
            refused = self.client.fatal is not None and not self._refused
            if refused:  # the hub will never take this device: say so once, loudly
                self._refused = True
                log.error("the hub refused the console's device %r: check its token in %s",
                          self.device, self.config.path)
            if self._apply_health(health) or refused:
                self._publish()
            await asyncio.sleep(HEALTH_EVERY_S)

    def _apply_health(self, health: dict | None) -> bool:
        """Record who is connected; True when something a console shows changed."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        before = (self.hub_health.get("ok"), {d: s.online for d, s in self.devices.items()})
        self.hub_health = {"ok": health is not None, "checked": stamp,
                           **({k: health.get(k) for k in ("seq", "connections", "uptime_s")}
                              if health else {})}
        online = set(health.get("devices", [])) if health else set()
        for device, state in self.devices.items():
            now_online = device in online
            if now_online != state.online or state.since is None:
                state.online, state.since = now_online, stamp
            if now_online:
                state.last_seen, state.seen = stamp, True
        return before != (self.hub_health["ok"], {d: s.online for d, s in self.devices.items()})

    # ------------------------------------------------------------------ the view

    def view(self) -> dict[str, Any]:
        """What every console page is drawn from (sent to browsers as JSON)."""
        snap = self.snapshot or {"hall": {"name": self.config.hall.name, "notice": ""},
                                 "day": None, "services": [], "windows": [], "manager": {}}
        now = self.time.now(UTC).isoformat(timespec="seconds")
        oldest = self.extra.get("oldest", {})
        return {
            "version": self.version, "seq": self.seq, "connected": self.client.connected,
            "refused": self.client.fatal is not None,  # the hub will not take this device
            "now": now, "rate": self.clock_rate.rate, "tz": str(self.config.hall.tz),
            "day": snap["day"], "hall": snap["hall"]["name"],
            "notice": snap["hall"]["notice"], "limits": self.limits,
            "services": [{"id": s["id"], "name": s["name"], "waiting": s["waiting"],
                          "open": s["open"], "oldest": oldest.get(s["id"])}
                         for s in snap["services"]],
            "windows": [self._window(w, now) for w in snap["windows"]],
            "today": self.extra.get("today", {}),
            "alerts": [{"id": a["id"], "kind": a["kind"],
                        "kind_name": strings.ALERT_KINDS.get(a["kind"], a["kind"]),
                        "message": a["message"], "at": a["at"]} for a in self.alerts],
            "cases_open": snap["manager"].get("cases_open", 0),
            "cases_overdue": snap["manager"].get("cases_overdue", 0),
            "devices": {d: {"online": s.online, "since": s.since, "last_seen": s.last_seen,
                            "printer_ok": s.printer_ok, "line_ok": s.line_ok}
                        for d, s in self.devices.items()},
            "hub": self.hub_health,
            # went away after being connected: a banner on every page, like an alert
            "offline": [d for d, s in self.devices.items() if s.seen and not s.online],
        }

    def _window(self, w: dict, now: str) -> dict[str, Any]:
        ticket = w.get("ticket")
        key = (w["state"], ticket["id"] if ticket else None, w["staff"])
        known = self._since.get(w["id"])
        if known is None or known[0] != key:
            # first seen: the call's time if there is a ticket, else unknown (not "since now")
            start = (ticket["called_at"] if ticket else None) if known is None else now
            self._since[w["id"]] = known = (key, start)
        idle_waiting = w["state"] == "idle" and w["waiting"] >= self.limits["idle_alert_waiting"]
        return {"id": w["id"], "name": w["name"], "state": w["state"],
                "state_name": strings.WINDOW_STATES.get(w["state"], w["state"]),
                "staff": w["staff"], "ticket": ticket["number"] if ticket else None,
                "service": ticket["service_name"] if ticket else None,
                "arrival": strings.ARRIVALS.get(arrival(ticket), ""),
                "since": known[1], "waiting": w["waiting"], "pause_reason": w["pause_reason"],
                "idle_waiting": idle_waiting}


class ClockRate:
    """How fast the hub's clock runs against this machine's: 1 in a hall, 30 in the demo
    (its hall clock runs faster), so a page can count the time in a state between events."""

    MIN_SPAN_S = 5.0

    def __init__(self) -> None:
        self.rate = 1.0
        self._first: tuple[datetime, float] | None = None

    def follow(self, stamp: str | None, restart: bool = False) -> None:
        """A stamp of the hub's clock; `restart`: a new connection (maybe a new hub clock)."""
        if not stamp:
            return
        hub, real = datetime.fromisoformat(stamp), time.monotonic()
        if self._first is None or restart:
            self._first = (hub, real)
            return
        span = real - self._first[1]
        if span >= self.MIN_SPAN_S:
            rate = (hub - self._first[0]).total_seconds() / span
            self.rate = 1.0 if abs(rate - 1.0) < 0.1 else round(min(max(rate, 0.0), 1000.0), 1)


def read_extra(db: Path, day: str, config: HallConfig) -> dict[str, Any]:
    """From the hall database (read only): the oldest waiting ticket of each service and
    today's figures, with the report's definitions."""
    try:
        conn = open_readonly(db)
    except StatsError as e:
        log.warning("hall database unreadable", extra={"fields": {"error": str(e)}})
        return {}
    try:
        oldest = dict(conn.execute("SELECT service, MIN(issued_at) FROM tickets "
                                   "WHERE state = 'waiting' GROUP BY service").fetchall())
        d = date.fromisoformat(day)
        tickets = load_tickets(conn, d, d, config.hall.tz)
        has_cases = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'cases'").fetchone()
    finally:
        conn.close()
    total = figures(tickets, bool(has_cases))
    return {"oldest": oldest, "today": {k: total[k] for k in FIGURES_KEYS}}


def _get_json(url: str, token: str) -> dict:
    """The hub's health, with the device list that only the admin and the console see."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=2) as response:
        data = json.loads(response.read())
    data["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return data
