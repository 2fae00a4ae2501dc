"""The hall's websocket hub: owns the engine and the store, routes every call.

One asyncio task, the writer, is the only one that touches the engine and the
store. Connections hand it commands through a bounded queue; it applies a batch,
commits it in one SQLite transaction (in a worker thread, so the loop keeps serving
sockets), and only then sends the replies and the numbered events. While it is busy,
a batch waits up to 10 ms for more commands to share its commit (`GROUP_WAIT_S`).
Nothing is visible before it is durable, and every client sees events in `seq` order.

The writer never dies: a batch that fails in any way is rolled back, the engine is
reloaded from the store and every waiter is answered. A watchdog ends the process
(non-zero, so the service manager restarts it) when the writer stops making progress.

Each role sees only the events it needs (`protocol.visible`); an event it may not
see arrives as a `withheld` marker carrying only its seq, so no connection ever sees
a gap. A batch's `queue_changed` events come as one, its last. Every frame is encoded
and framed once, and each connection gets its replies and events of a batch in one
write. A device that does not read what it is sent is closed (1013) before its unsent
bytes grow past `UNSENT_MAX`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import os
import sqlite3
import ssl
import struct
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from caller.core import protocol
from caller.core.config import Device, HallConfig
from caller.core.messages import say
from caller.core.ticketcode import looks_like_code
from caller.core.validate import for_log
from caller.hub import limits
from caller.hub.engine import DEFAULTS_PER_RUN, READ_ONLY, Engine, Ticket
from caller.hub.notify import Notifier, sender_for
from caller.hub.store import StorageError, Store
from caller.manager.stats import live_figures

log = logging.getLogger("hallq.hub")

BATCH_MAX = 512
GROUP_MIN = 5
GROUP_WAIT_S = 0.010
"""Group commit (issue 14): after a batch of at least `GROUP_MIN` commands, the next batch
is held until it holds as many items as the recent peak (the largest batch since the hub
was last quiet, less one for each batch since) or its first item has waited this long, so
that they share one commit, one `fdatasync`, one hand-off to the commit thread and one
write to each connection. A hub that gets commands one at a time never holds one (as
PostgreSQL's `commit_delay` applies only with `commit_siblings` others at work)."""
QUEUE_MAX = 4096  # commands waiting for the writer; a full queue stops reading sockets
INFLIGHT_MAX = 32  # requests per connection waiting for their reply
UNSENT_MAX = 1 << 20  # bytes a connection may leave unread before it is closed (1013)
STALL_S = 20.0  # a connection whose unsent bytes never drain this long is frozen
CHECK_S = 2.0
CLOSE_GRACE_S = 5.0  # after closing a frozen connection, drop it if it does not answer
REPLAY_MAX = 10_000  # events replayed on a hello; further behind, the snapshot only
REPLAY_CHUNK = 500
PRUNE_EVERY_S = 3600.0
PRUNE_RETRY_S = 60.0
REQUEST_KEEP_S = 24 * 3600.0  # a request id is remembered (for retries) at least this long
REQUEST_INDEX_MAX = 50_000  # stored request ids held in memory, so a new id needs no query
TICK_S = 1.0
LIVE_FIGURES_S = 30.0
DEFAULTS_CHECK_S = 60.0  # how often the hub looks whether a new business day needs the
# no-rating policy applied (once a day; again while a run left some for later)
STATS_FRESH_S = 5.0  # `stats` replies are served from figures at most this old
ERROR_CACHE_PER_DEVICE = 256
WATCHDOG_S = 60.0  # the writer has made no progress this long: exit so the hub restarts
STOP_TIMEOUT_S = 10.0
EXIT_WRITER_STUCK = 70


class HallClock:
    """The hub's idea of now: the real clock, or a hall time that starts at a given
    moment and may run faster (for demos and tests)."""

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        self._real = start is None and speed == 1.0
        self._origin = start or datetime.now(UTC)
        self._origin_real = time.monotonic()
        self._speed = speed

    def now(self) -> datetime:
        if self._real:
            return datetime.now(UTC)
        elapsed = (time.monotonic() - self._origin_real) * self._speed
        return self._origin + timedelta(seconds=elapsed)

    def monotonic(self) -> float:
        """Seconds at the hall clock's speed that no step of the system clock moves."""
        return (time.monotonic() - self._origin_real) * self._speed


@dataclass(eq=False)
class Session:
    """One authenticated connection."""

    conn: ServerConnection
    device: Device
    audience: protocol.Audience = ("kiosk", ())
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(INFLIGHT_MAX))
    backlog: list[str] | None = None  # live frames held back while the replay streams
    stalled_since: float | None = None  # unsent bytes have not gone down since then
    unsent: int = 0  # at the last check
    closing: bool = False


@dataclass(eq=False)
class _Item:
    kind: str  # "command" | "hello" | "tick" | "alert" | "job" (the last two: the hub's own)
    session: Session | None
    payload: dict
    future: asyncio.Future | None = None
    waiters: list[Session] = field(default_factory=list)  # who gets the reply
    device: str | None = None  # for "alert": the device it is about
    arrived: float = field(default_factory=time.monotonic)


def _exit_now(reason: str) -> None:
    log.critical("hub cannot serve; exiting for a restart", extra={"fields": {"reason": reason}})
    logging.shutdown()
    os._exit(EXIT_WRITER_STUCK)


class Hub:
    def __init__(self, config: HallConfig, store: Store, clock: HallClock | None = None, *,
                 on_fatal: Callable[[str], None] = _exit_now) -> None:
        self.config = config
        self.store = store
        self.clock = clock or HallClock()
        self.engine: Engine = store.load_engine(config, self.clock.now())
        self.sessions: set[Session] = set()
        self.on_fatal = on_fatal
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(QUEUE_MAX)
        self._inflight: dict[tuple[str, str], _Item] = {}
        self._gathering: tuple[asyncio.Future, int] | None = None  # a held batch: its size
        # every stored (device, request id), or None past REQUEST_INDEX_MAX: then each
        # request asks the store, until a prune brings the table back under it
        self._request_ids = store.request_keys(REQUEST_INDEX_MAX)
        self._errors: dict[str, OrderedDict[str, dict]] = {}  # device -> refused replies
        self._rates = limits.RateLimiter(configured=config.limits)
        self._hellos = limits.HelloGuard()
        self._request_marks: deque[tuple[float, int]] = deque()
        self._server: Server | None = None
        self._tasks: list[asyncio.Task] = []
        self._writer_task: asyncio.Task | None = None
        self._spawned: set[asyncio.Task] = set()
        self._stopping = False
        self.started = time.monotonic()
        self.progress = time.monotonic()  # the writer's last finished batch
        self.last_commit: float | None = None
        self.stats = {"commands": 0, "batches": 0, "storage_errors": 0, "batch_failures": 0,
                      "slow_closed": 0}
        self.today: dict = {}  # live figures for the day, refreshed in the background
        self._today_at = 0.0
        self._figures_task: asyncio.Task | None = None
        # the welcome's snapshot: (key, snapshot, its frame, frames by audience); None
        # whenever the state may have changed
        self._snapshots: tuple[tuple, dict, str, dict[protocol.Audience, str]] | None = None
        self._defaults_done: str | None = None  # the business day the policy last settled
        # The newest seq the centre holds, as `hallq ship` last reported it: the prune keeps
        # every event after it. None until it reports (after a restart): nothing is pruned.
        self.shipped: int | None = None
        sender = sender_for(config)
        self.notifier = Notifier(config, sender) if sender is not None else None
        self._backlog_alert = any(a.kind == protocol.AlertKind.SHIP_BACKLOG and not a.acknowledged_at
                                  for a in self.engine.followup.alerts.values())

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 8765,
                    ssl_context: ssl.SSLContext | None = None) -> int:
        """Start serving; return the port (useful with port 0)."""
        self._writer_task = asyncio.create_task(self._writer(), name="hub-writer")
        self._tasks = [self._writer_task,
                       asyncio.create_task(self._guarded(self._tick, TICK_S), name="hub-ticker"),
                       asyncio.create_task(self._guarded(self._figures, LIVE_FIGURES_S),
                                           name="hub-figures"),
                       asyncio.create_task(self._guarded(self._check_connections, CHECK_S),
                                           name="hub-connections"),
                       asyncio.create_task(self._guarded(self.settle_unrated, DEFAULTS_CHECK_S),
                                           name="hub-unrated"),
                       asyncio.create_task(self._guarded(self._watchdog, CHECK_S),
                                           name="hub-watchdog")]
        if self.notifier is not None:
            self._tasks.append(asyncio.create_task(self.notifier.run(), name="hub-notify"))
        if self.config.central is not None:
            self._tasks.append(asyncio.create_task(self._guarded(self._check_backlog, CHECK_S),
                                                   name="hub-backlog"))
        self._server = await serve(
            self._handle, host, port, max_size=protocol.MAX_FRAME, ssl=ssl_context,
            process_request=self._http, ping_interval=10, ping_timeout=20, compression=None,
            close_timeout=CLOSE_GRACE_S, write_limit=UNSENT_MAX // 4, max_queue=INFLIGHT_MAX)
        bound = next(iter(self._server.sockets)).getsockname()[1]
        log.info("hub listening", extra={"fields": {"host": host, "port": bound,
                                                    "seq": self.store.last_seq}})
        return bound

    async def stop(self) -> None:
        """Close every connection (code 1001), let queued commands commit, then stop."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        try:
            await asyncio.wait_for(self._queue.join(), STOP_TIMEOUT_S)
        except TimeoutError:
            log.error("queued commands not committed at stop",
                      extra={"fields": {"queued": self._queue.qsize()}})
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.store.close()
        log.info("hub stopped")

    def _spawn(self, work: Any) -> None:
        """Run a coroutine on its own, holding a reference until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    @staticmethod
    async def _guarded(job: Callable[[], Any], every_s: float) -> None:
        """Run a background job forever; one failure is logged, never fatal."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await job()
            except Exception:
                log.exception("background job failed",
                              extra={"fields": {"job": getattr(job, "__name__", str(job))}})

    async def _tick(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # the writer is busy anyway
            self._queue.put_nowait(_Item("tick", None, {"type": "tick"}))

    async def settle_unrated(self) -> None:
        """Queue the daily run of the no-rating policy (`[rating] unrated = "default"`)
        through the writer, like any command: durable, as `rating_defaulted` events."""
        if self.config.rating.unrated != "default" or self._defaults_done == self.engine.meta.day:
            return
        with contextlib.suppress(asyncio.QueueFull):  # the next check tries again
            self._queue.put_nowait(_Item("job", None, {"type": "apply_default_ratings"}))

    async def _watchdog(self) -> None:
        writer = self._writer_task
        if writer is not None and writer.done():
            self.on_fatal("the writer ended")
        elif time.monotonic() - self.progress > WATCHDOG_S:
            self.on_fatal(f"the writer made no progress for {WATCHDOG_S:.0f} s")

    # ------------------------------------------------------------------ HTTP health

    def writer_alive(self) -> bool:
        return (self._writer_task is not None and not self._writer_task.done()
                and time.monotonic() - self.progress < WATCHDOG_S / 2)

    def _http(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?")[0] != "/healthz":
            return None
        now = time.monotonic()
        serving = self.writer_alive() and not self._stopping
        health: dict[str, Any] = {
            "status": "ok" if serving else "unavailable", "hall": self.config.hall.name,
            "seq": self.store.last_seq, "connections": len(self.sessions),
            "writer": {"alive": self.writer_alive(),
                       "last_batch_age_s": round(now - self.progress, 1),
                       "last_commit_age_s": (round(now - self.last_commit, 1)
                                             if self.last_commit is not None else None)},
            "queue": self._queue.qsize(),
            "uptime_s": round(now - self.started, 1),
        }
        if self._is_admin(request.headers.get("Authorization", "")):
            health["devices"] = sorted({s.device.id for s in self.sessions})
        status = HTTPStatus.OK if serving else HTTPStatus.SERVICE_UNAVAILABLE
        response = conn.respond(status, json.dumps(health, ensure_ascii=False) + "\n")
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        return response

    def _is_admin(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        return any(hmac.compare_digest(d.token.encode(), token.strip().encode())
                   for d in self.config.devices.values() if d.role in protocol.MANAGING_ROLES)

    # ------------------------------------------------------------------ connections

    async def _handle(self, conn: ServerConnection) -> None:
        session = await self._authenticate(conn)
        if session is None:
            return
        try:
            async for frame in conn:
                try:
                    await self._on_frame(session, frame)
                except ConnectionClosed:
                    raise
                except Exception:  # one bad frame must never cut a device off
                    log.exception("frame failed", extra={"fields": {"device": session.device.id}})
                    await self._send(session, protocol.reply_error(
                        None, "internal_error", say("internal_error")))
        except ConnectionClosed:
            pass
        finally:
            self.sessions.discard(session)
            log.info("device disconnected", extra={"fields": {"device": session.device.id}})

    async def _authenticate(self, conn: ServerConnection) -> Session | None:
        address = str(conn.remote_address[0]) if conn.remote_address else "?"
        try:
            first = await asyncio.wait_for(conn.recv(), protocol.HELLO_TIMEOUT_S)
            hello = protocol.parse_hello(protocol.decode(first))
        except (TimeoutError, protocol.ProtocolError) as e:
            await conn.close(protocol.CLOSE_BAD_HELLO, "bad hello")
            log.warning("bad hello", extra={"fields": {"address": address,
                                                       "error": for_log(str(e) or "timeout")}})
            return None
        except ConnectionClosed:
            return None
        if self._hellos.busy(address):
            await conn.close(protocol.CLOSE_TOO_SLOW, "too many attempts, try later")
            return None
        device = self.config.devices.get(hello.device)
        expected = device.token.encode() if device else b"\0" * 32
        if not hmac.compare_digest(expected, hello.token.encode()) or device is None:
            await self._refuse(conn, address, hello.device if device else None,
                               for_log(hello.device))
            return None
        session = Session(conn, device, protocol.audience(device.role, device.windows))
        done = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item("hello", session, {"since": hello.since}, done))
        try:
            await done
        except ConnectionError:
            await conn.close(1011, "try again")
            return None
        log.info("device connected", extra={"fields": {"device": device.id, "role": device.role,
                                                       "since": hello.since}})
        return session

    async def _refuse(self, conn: ServerConnection, address: str, device: str | None,
                      shown: str) -> None:
        """Refuse a wrong token, after the backoff it has earned (logged when it starts)."""
        delay = self._hellos.failed(address, device)
        fields = {"device": shown, "address": address}
        if delay:
            if delay == limits.HELLO_DELAY_S[0]:
                log.warning("failed hellos: backing off", extra={"fields": fields})
            self._hellos.hold(address)
            try:
                await asyncio.sleep(delay)
            finally:
                self._hellos.release(address)
        else:
            log.warning("refused device", extra={"fields": fields})
        await conn.close(protocol.CLOSE_UNAUTHORISED, "unauthorised")

    async def _on_frame(self, session: Session, frame: str | bytes) -> None:
        rid = None
        try:
            message = protocol.decode(frame)
            rid = message.get("id") if isinstance(message.get("id"), str) else None
            self._default_window(session.device, message)
            request = protocol.parse_request(message)
        except protocol.ProtocolError as e:
            await self._send(session, protocol.reply_error(
                e.request_id or rid, e.code, say(e.code, detail=e.detail)))
            return
        rid = request["id"]
        refusal = self._check_permission(session, request)
        if refusal is not None:
            await self._send(session, protocol.reply_error(rid, "forbidden", refusal))
            return
        key = (session.device.id, rid)
        earlier = self._errors.get(key[0], {}).get(rid)
        if earlier is None and (self._request_ids is None or key in self._request_ids):
            earlier = self.store.lookup_reply(*key)
        if earlier is not None:
            await self._send(session, earlier)
            return
        pending = self._inflight.get(key)
        if pending is not None:  # a retry (maybe on a new connection) of a queued request
            pending.waiters.append(session)
            return
        wait = self._rates.allow(session.device.id, session.device.role, request["type"])
        if wait:
            await self._send(session, protocol.reply_error(
                rid, "rate_limited", say("rate_limited", detail=str(math.ceil(wait)))))
            return
        if request["type"] == "stats":
            await self._send(session, protocol.reply_ok(rid, {"stats": await self._fresh_figures()}))
            return
        if request["type"] == "shipped":
            await self._send(session, protocol.reply_ok(rid, self._note_shipped(request["seq"])))
            return
        await session.slots.acquire()  # at most INFLIGHT_MAX waiting: stop reading until one ends
        item = _Item("command", session, request, waiters=[session])
        self._inflight[key] = item
        try:
            await self._queue.put(item)
        except BaseException:
            self._inflight.pop(key, None)
            session.slots.release()
            raise
        self._queued()

    @staticmethod
    def _default_window(device: Device, message: dict) -> None:
        """A device bound to one window may leave the window out."""
        kind = message.get("type")
        schema = protocol.SCHEMAS.get(kind, {}) if isinstance(kind, str) else {}
        if "window" in schema and message.get("window") is None and len(device.windows) == 1:
            message["window"] = device.windows[0]

    def _check_permission(self, session: Session, request: dict) -> str | None:
        device, kind = session.device, request["type"]
        if not protocol.allowed(device.role, kind):
            return say("forbidden", detail=f"{device.role} 不能执行 {kind}")
        if device.role not in protocol.MANAGING_ROLES and "window" in protocol.SCHEMAS[kind]:
            window = request.get("window")
            if window is not None and window not in device.windows:
                return say("forbidden", detail=f"本设备不属于 {window} 号窗口")
        return None

    async def _send(self, session: Session, message: dict) -> None:
        """A direct reply: waits while the device's unsent bytes are high (backpressure)."""
        with contextlib.suppress(ConnectionClosed):
            await session.conn.send(protocol.encode(message))

    def _push(self, sessions: list[Session], frame: str) -> None:
        """Queue one frame, the same bytes, to several connections; never raises."""
        wire = _wire(frame)
        for session in sessions:
            self._write(session, [frame], wire)

    def _write(self, session: Session, frames: list[str], wire: bytes) -> None:
        """Queue `frames` (serialized together as `wire`) to one connection in one write;
        into its backlog while its replay streams; never raises."""
        if session.closing:
            return
        if session.backlog is not None:
            session.backlog.extend(frames)
            if len(session.backlog) > REPLAY_MAX:
                self._too_slow(session, "backlog")
            return
        conn = session.conn
        # what broadcast() skips: a closing connection, one sending a fragmented message
        if conn.protocol.state is not State.OPEN or conn.send_in_progress is not None:
            return
        if self._unsent(session) > UNSENT_MAX:
            self._too_slow(session, "unsent")
            return
        try:
            conn.transport.write(wire)
        except Exception:
            log.exception("delivery failed", extra={"fields": {"device": session.device.id}})

    @staticmethod
    def _unsent(session: Session) -> int:
        transport = session.conn.transport
        return transport.get_write_buffer_size() if transport is not None else 0

    def _too_slow(self, session: Session, why: str) -> None:
        """Close a device that does not read (1013), drop it if it cannot even take the
        close frame, and tell the manager."""
        if session.closing:
            return
        session.closing = True
        self.sessions.discard(session)
        self.stats["slow_closed"] += 1
        device = session.device.id
        log.warning("device too slow; closed", extra={"fields": {
            "device": device, "reason": why, "unsent": self._unsent(session)}})
        self._spawn(session.conn.close(protocol.CLOSE_TOO_SLOW, "too slow"))
        transport = session.conn.transport
        if transport is not None:
            asyncio.get_running_loop().call_later(CLOSE_GRACE_S, transport.abort)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_Item("alert", None, {
                "type": "report_alert", "kind": protocol.AlertKind.DEVICE_OFFLINE,
                "message": say("device_too_slow", device=device)}, device=device))

    async def _check_connections(self) -> None:
        """Find devices that stopped reading: keepalive pings cannot, once their
        unsent bytes are high, because a ping waits behind them."""
        now = time.monotonic()
        for session in list(self.sessions):
            unsent, before = self._unsent(session), session.unsent
            session.unsent = unsent
            if unsent > UNSENT_MAX:
                self._too_slow(session, "unsent")
            elif unsent == 0 or unsent < before:  # it reads, if slowly
                session.stalled_since = None
            elif session.stalled_since is None:
                session.stalled_since = now
            elif now - session.stalled_since > STALL_S:
                self._too_slow(session, "stalled")

    # ------------------------------------------------------------------ shipping

    def _note_shipped(self, seq: int) -> dict:
        """`hallq ship` says the centre holds every event up to `seq`. A position past the
        log (the hall was restored from an older backup) counts as the log's end."""
        last = self.store.last_seq
        self.shipped = min(max(seq, 0), last)
        return {"seq": self.shipped, "backlog": last - self.shipped}

    def _backlog(self) -> int:
        """Events kept that the centre may not hold yet."""
        if self.shipped is not None:
            return self.store.last_seq - self.shipped
        first = self.store.reader.execute("SELECT MIN(seq) FROM events").fetchone()[0]
        return 0 if first is None else self.store.last_seq - first + 1

    async def _check_backlog(self) -> None:
        """Alert the manager once the backlog passes [central] backlog_max, and close the
        alert when it is back under it (the events are kept either way)."""
        central = self.config.central
        over = self._backlog() > central.backlog_max
        if over == self._backlog_alert:
            return
        kind = protocol.AlertKind.SHIP_BACKLOG if over else protocol.AlertKind.SHIP_CAUGHT_UP
        with contextlib.suppress(asyncio.QueueFull):  # tried again at the next check
            self._queue.put_nowait(_Item("alert", None, {
                "type": "report_alert", "kind": kind,
                "message": say(kind, limit=central.backlog_max)}, device=central.device))
            self._backlog_alert = over
            log.warning("shipping backlog", extra={"fields": {
                "backlog": self._backlog(), "limit": central.backlog_max, "over": over}})

    # ------------------------------------------------------------------ live figures

    async def _figures(self) -> dict:
        """Today's figures (waiting, average waits, ratings), read from the store in a thread."""
        try:
            self.today = await asyncio.to_thread(live_figures, self.store.path,
                                                 self.engine.meta.day)
            self._today_at = time.monotonic()
        except Exception:
            log.exception("live figures failed")
        return self.today

    async def _fresh_figures(self) -> dict:
        """The figures at most STATS_FRESH_S old; many askers share one read."""
        if time.monotonic() - self._today_at > STATS_FRESH_S:
            if self._figures_task is None or self._figures_task.done():
                self._figures_task = asyncio.create_task(self._figures())
            await asyncio.shield(self._figures_task)
        return self.today

    def _snapshot_frame(self, now: datetime, to: protocol.Audience) -> str:
        """The welcome's snapshot as `to` may see it, encoded. Built once and kept for
        every audience until a batch commits, the minute turns (services open and close
        by the minute, cases fall overdue by the day) or today's figures are refreshed:
        a storm of hellos builds it once."""
        key = (now.astimezone(self.engine.tz).replace(second=0, microsecond=0), self._today_at)
        if self._snapshots is None or self._snapshots[0] != key:
            snapshot = self.engine.snapshot(now)
            snapshot["manager"]["today"] = self.today
            self._snapshots = (key, snapshot, protocol.encode(snapshot), {})
        _, snapshot, own, frames = self._snapshots
        frame = frames.get(to)
        if frame is None:
            frame = frames[to] = protocol.encode_for(snapshot, to, own)
        return frame

    # ------------------------------------------------------------------ the writer

    async def _writer(self) -> None:
        pruned = time.monotonic()
        peak = 0  # the batch size to hold for while busy; 0 when quiet
        while True:
            if time.monotonic() - pruned > PRUNE_EVERY_S:
                pruned = time.monotonic() if await self._prune() else (
                    time.monotonic() - PRUNE_EVERY_S + PRUNE_RETRY_S)
            batch = [await self._queue.get()]
            if peak:
                await self._gather(batch[0].arrived + GROUP_WAIT_S, peak)
            while len(batch) < BATCH_MAX and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            size = sum(item.kind == "command" for item in batch)
            peak = max(size, peak - 1) if size >= GROUP_MIN else 0
            try:
                await self._apply(batch)
            except Exception:  # even reloading the state failed: answer everyone, restart
                log.exception("writer failed on a batch")
                self._answer_all(batch, "internal_error")
                self.on_fatal("the state could not be reloaded from the store")
            finally:
                for item in batch:
                    if item.kind == "command":
                        self._inflight.pop((item.session.device.id, item.payload["id"]), None)
                        item.session.slots.release()
                    if item.future is not None and not item.future.done():
                        item.future.set_exception(ConnectionError("hub could not welcome"))
                    self._queue.task_done()
                self.progress = time.monotonic()

    async def _gather(self, deadline: float, size: int) -> None:
        """Hold the batch whose first item is taken until `size` items are in it or the
        monotonic clock reaches `deadline`."""
        held = deadline - time.monotonic()
        if held <= 0 or self._queue.qsize() + 1 >= size:
            return
        loop = asyncio.get_running_loop()
        gathered = loop.create_future()
        timer = loop.call_later(held, _settle, gathered)
        self._gathering = gathered, size
        try:
            await gathered
        finally:
            timer.cancel()
            self._gathering = None

    def _queued(self) -> None:
        """A command was queued: release a held batch that is now whole."""
        if self._gathering is not None and self._queue.qsize() + 1 >= self._gathering[1]:
            _settle(self._gathering[0])

    async def _prune(self) -> bool:
        """Drop old events and old request ids; False (logged) when the store refused."""
        now = time.monotonic()
        try:
            floor = (self.shipped or 0) if self.config.central is not None else None
            await asyncio.to_thread(self.store.prune, shipped=floor)
            await asyncio.to_thread(self.store.purge, self.engine.meta.day,
                                    self.config.personal.retention_days)
            self._request_marks.append((now, await asyncio.to_thread(self.store.request_mark)))
            up_to = None
            while self._request_marks and now - self._request_marks[0][0] >= REQUEST_KEEP_S:
                up_to = self._request_marks.popleft()[1]
            if up_to is not None:
                await asyncio.to_thread(self.store.prune_requests, up_to)
            if self._request_ids is None:
                self._request_ids = await asyncio.to_thread(self.store.request_keys,
                                                            REQUEST_INDEX_MAX)
        except Exception as e:
            log.warning("prune failed; will retry", extra={"fields": {"error": repr(e)}})
            await asyncio.to_thread(self._rollback)
            return False
        return True

    def _rollback(self) -> None:
        """Leave no transaction open behind a failed job: the next commit begins its own."""
        with contextlib.suppress(sqlite3.Error):
            if self.store.conn.in_transaction:
                self.store.conn.execute("ROLLBACK")

    async def _apply(self, batch: list[_Item]) -> None:
        now = self.clock.now().astimezone(self.engine.tz)
        try:
            replies, numbered = await self._run(batch, now)
        except Exception as e:
            code = "storage_error" if isinstance(e, StorageError) else "internal_error"
            if code == "storage_error":
                self.stats["storage_errors"] += 1
                log.error("commit refused; state reloaded", extra={"fields": {"error": str(e)}})
            else:
                self.stats["batch_failures"] += 1
                log.exception("batch failed; rolled back and state reloaded")
            self._snapshots = None
            self.engine = self.store.load_engine(self.config, now)
            self._defaults_done = None  # what the failed batch settled is undone: run again
            replies = [_answered(i, _error(code)) for i in batch if i.kind == "command"]
            numbered = []
        self.stats["batches"] += 1
        self.stats["commands"] += len(replies)
        direct: dict[Session, list[str]] = {}
        for item, message, own in replies:
            frame = self._frame(item, message, own)
            for waiter in item.waiters:
                direct.setdefault(waiter, []).append(frame)
            self._log_command(item, message)
        self._publish(direct, numbered)
        if self.notifier is not None:  # after the calls are out: texts never delay them
            self.notifier.after_batch(self.engine, numbered)
        for item in batch:
            if item.kind == "hello":
                try:
                    self._welcome(item, now)
                except Exception:
                    log.exception("welcome failed", extra={"fields": {
                        "device": item.session.device.id}})

    async def _run(self, batch: list[_Item], now: datetime) -> tuple[list[_Answer], list[dict]]:
        """Apply the batch to the engine and commit it; raise (having written nothing)
        when anything fails."""
        replies: list[_Answer] = []
        events: list[dict] = []
        mono = self.clock.monotonic()
        for item in batch:
            if item.kind == "hello":
                continue
            command = dict(item.payload)
            if item.session is not None:
                command["device"] = item.session.device.id
            elif item.device is not None:
                command["device"] = item.device
            await self._adopt(command, now)
            reply, produced = self.engine.handle(command, now, mono)
            if item.kind == "job" and reply.get("ok"):
                self._defaults_done = (None if reply["defaulted"] >= DEFAULTS_PER_RUN
                                       else self.engine.meta.day)
            if "snapshot" in reply:
                reply["snapshot"]["manager"]["today"] = self.today
            events.extend(produced)
            if item.kind == "command":
                replies.append(_answered(item, reply))
        events = _last_queue_changed(events)
        changes = self.engine.take_changes()
        durable = [(i.session.device.id, i.payload["id"], own) for i, message, own in replies
                   if message["ok"] and i.payload["type"] not in READ_ONLY]
        numbered: list[dict] = []
        if events or durable or changes.tickets or changes.windows or changes.meta \
                or changes.alerts or changes.cases or changes.counters or changes.appeals \
                or changes.bookings or changes.bans:
            self._snapshots = None
            numbered = await asyncio.to_thread(self.store.commit, changes, events, now, durable)
            self.last_commit = time.monotonic()
            self._index_requests(durable)
        return replies, numbered

    async def _ended_ticket(self, command: dict) -> Ticket | None:
        """The stored ticket a ``ticket_state`` names that the engine no longer holds."""
        if self.engine.ticket_asked(command) is not None:
            return None
        code, number = command.get("code"), command.get("number")
        if isinstance(code, str):
            return await asyncio.to_thread(self.store.ticket_coded, code) \
                if looks_like_code(code) else None
        if not isinstance(number, str):
            return None
        day = command.get("day") if isinstance(command.get("day"), str) else self.engine.meta.day
        return await asyncio.to_thread(self.store.ticket_numbered, day, number)

    async def _adopt(self, command: dict, now: datetime) -> None:
        """Hand the engine the ended tickets the command needs (an appeal's, the no-rating
        policy's candidates), read from the store in a thread; they are written back in
        the same batch. Most commands need none and cost nothing here."""
        if command["type"] == "apply_default_ratings":
            cutoff = self.engine.default_cutoff(now)
            if cutoff is None:
                return
            found = await asyncio.to_thread(self.store.unrated_tickets, cutoff, DEFAULTS_PER_RUN)
        elif command["type"] == "ticket_state":  # a scanned ticket that ended: its row
            one = await self._ended_ticket(command)
            found = [one] if one is not None else []
        else:
            wanted = self.engine.tickets_needed(command)
            if not wanted:
                return
            found = [t for t in await asyncio.to_thread(lambda: [self.store.ticket(i) for i in wanted])
                     if t is not None]
        self.engine.adopt(found)

    def _index_requests(self, stored: list[tuple[str, str, dict]]) -> None:
        if self._request_ids is not None:
            self._request_ids.update((device, rid) for device, rid, _ in stored)
            if len(self._request_ids) > REQUEST_INDEX_MAX:
                self._request_ids = None

    def _answer_all(self, batch: list[_Item], code: str) -> None:
        for item in batch:
            if item.kind == "command":
                with contextlib.suppress(Exception):
                    self._push(item.waiters, self._frame(*_answered(item, _error(code))))

    def _publish(self, direct: dict[Session, list[str]], numbered: list[dict]) -> None:
        """Send each connection, in one write, its replies and then every event: in full
        to the audiences that may see it (a ticket's holder only to those who may see it,
        `protocol.shown`), as a `withheld` marker to the others. Each frame is encoded and
        framed once, however many connections it goes to."""
        streams: dict[protocol.Audience, tuple[list[str], bytes]] = {}
        if numbered:
            audiences = {session.audience for session in self.sessions}
            texts: dict[protocol.Audience, list[str]] = {a: [] for a in audiences}
            wires: dict[protocol.Audience, list[bytes]] = {a: [] for a in audiences}
            for event in numbered:
                own = protocol.encode(event)
                full = marker = None
                for audience in audiences:
                    if protocol.visible(event, audience):
                        seen = protocol.encode_for(event, audience, own)
                        if seen is own:
                            full = full or _framed(own)
                            text, wire = full
                        else:
                            text, wire = _framed(seen)
                    else:
                        marker = marker or _framed(protocol.encode(protocol.withheld(event)))
                        text, wire = marker
                    texts[audience].append(text)
                    wires[audience].append(wire)
            streams = {a: (texts[a], b"".join(wires[a])) for a in audiences}
        for session in tuple(self.sessions):  # a write may drop a slow one from the set
            replies = direct.pop(session, None) if direct else None
            events, wire = streams.get(session.audience, ((), b""))
            if replies:
                self._write(session, [*replies, *events],
                            b"".join([_wire(r) for r in replies]) + wire)
            elif events:
                self._write(session, events, wire)
        for session, replies in direct.items():  # not subscribed (yet, or any longer)
            self._write(session, replies, b"".join([_wire(r) for r in replies]))

    def _frame(self, item: _Item, message: dict, own: str) -> str:
        """The reply frame owed to a request (`message`, encoded as `own`), as its device
        may see it; a refusal is remembered for its retries."""
        if not message["ok"] and message["error"]["code"] not in protocol.TRANSIENT_ERRORS:
            errors = self._errors.setdefault(item.session.device.id, OrderedDict())
            errors[message["id"]] = message
            while len(errors) > ERROR_CACHE_PER_DEVICE:
                errors.popitem(last=False)
        return protocol.encode_for(message, item.session.audience, own)

    def _welcome(self, item: _Item, now: datetime) -> None:
        """Send the welcome, then subscribe; the replay (if any) streams from a task while
        newer events wait in the session's backlog, so none can slip between or repeat."""
        session = item.session
        since = item.payload.get("since")
        last = self.store.last_seq
        replay = self._can_replay(since, last)
        device = session.device
        welcome = {"type": "welcome", "protocol": protocol.VERSION, "device": device.id,
                   "role": device.role, "windows": list(device.windows),
                   "options": device.options, "seq": last,
                   "now": now.isoformat(timespec="milliseconds"), "replay": replay}
        head = protocol.encode_for(welcome, session.audience)
        snapshot = self._snapshot_frame(now, session.audience)
        broadcast([session.conn], f'{head[:-1]},"snapshot":{snapshot}}}')
        if replay and since < last:
            session.backlog = []
            self._spawn(self._replay(session, since, last))
        self.sessions.add(session)
        item.future.set_result(None)

    def _can_replay(self, since: int | None, last: int) -> bool:
        if since is None or since > last or last - since > REPLAY_MAX:
            return False  # since > last: the client saw events this store never had (backup)
        if since == last:
            return True
        first = self.store.reader.execute("SELECT MIN(seq) FROM events").fetchone()[0]
        return first is not None and first <= since + 1

    async def _replay(self, session: Session, since: int, upto: int) -> None:
        """Stream events (since, upto] to one connection, read and encoded in a thread in
        chunks, then the backlog of newer ones; the loop is never blocked."""
        reader = await asyncio.to_thread(_ReplayReader, self.store.path, session.audience)
        try:
            after = since
            while after < upto:
                frames, after = await asyncio.to_thread(reader.chunk, after, upto)
                for frame in frames:
                    await session.conn.send(frame)
            while session.backlog:
                frames, session.backlog = session.backlog, []
                for frame in frames:
                    await session.conn.send(frame)
            session.backlog = None
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("replay failed", extra={"fields": {"device": session.device.id}})
            session.closing = True
            self.sessions.discard(session)
            await session.conn.close(1011, "replay failed")
        finally:
            await asyncio.to_thread(reader.close)

    def _log_command(self, item: _Item, reply: dict) -> None:
        """One line per command, written once its outcome is durable."""
        if not log.isEnabledFor(logging.INFO):
            return
        fields: dict[str, Any] = {"device": item.session.device.id, "id": for_log(item.payload["id"]),
                                  "command": item.payload["type"], "ok": reply["ok"]}
        if not reply["ok"]:
            fields["error"] = reply["error"]["code"]
        elif "ticket" in reply:
            fields["ticket"] = reply["ticket"]["number"]
        log.info("command", extra={"fields": fields})


class _ReplayReader:
    """Reads stored events for one audience through a read-only connection of its own."""

    def __init__(self, path: str, audience: protocol.Audience) -> None:
        self.audience = audience
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def chunk(self, after: int, upto: int) -> tuple[list[str], int]:
        rows = self.conn.execute(
            "SELECT seq, body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (after, upto, REPLAY_CHUNK)).fetchall()
        if not rows:
            raise RuntimeError(f"events {after + 1}..{upto} are missing")
        frames = []
        for _seq, body in rows:
            event = json.loads(body)
            frames.append(protocol.encode_for(event, self.audience)
                          if protocol.visible(event, self.audience)
                          else protocol.encode(protocol.withheld(event)))
        return frames, rows[-1][0]

    def close(self) -> None:
        self.conn.close()


def _wire(frame: str) -> bytes:
    """A text frame as the hub puts it on the wire: final, unmasked and, since the hub
    never compresses, the same bytes for every connection (RFC 6455 5.2: the length in
    7 bits, or 126 and 16 bits, or 127 and 64 bits)."""
    data = frame.encode()
    n = len(data)
    if n < 126:
        return bytes((_FIN_TEXT, n)) + data
    if n < 65536:
        return struct.pack("!BBH", _FIN_TEXT, 126, n) + data
    return struct.pack("!BBQ", _FIN_TEXT, 127, n) + data


_FIN_TEXT = 0x81  # FIN bit and the text opcode


def _framed(frame: str) -> tuple[str, bytes]:
    return frame, _wire(frame)


def _last_queue_changed(events: list[dict]) -> list[dict]:
    """Each `queue_changed` carries the whole counts, so of a batch's only the last one
    is news: the others are dropped before they are numbered."""
    last = max((n for n, e in enumerate(events) if e["event"] == protocol.Event.QUEUE_CHANGED),
               default=None)
    return [e for n, e in enumerate(events)
            if n == last or e["event"] != protocol.Event.QUEUE_CHANGED]


_Answer = tuple[_Item, dict, str]
"""A request, its reply message and that message's frame."""


def _settle(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def _answered(item: _Item, reply: dict) -> _Answer:
    rid = item.payload["id"]
    message = (protocol.reply_ok(rid, reply) if reply["ok"]
               else protocol.reply_error(rid, reply["error"]["code"], reply["error"]["message"]))
    return item, message, protocol.encode(message)


def _error(code: str) -> dict:
    return {"ok": False, "error": {"code": code, "message": say(code)}}


def ssl_context(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


async def run_hub(config: HallConfig, db_path: str, host: str, port: int, *,
                  clock: HallClock | None = None, synchronous: str = "FULL",
                  ssl_ctx: ssl.SSLContext | None = None,
                  on_ready: Callable[[int], None] | None = None) -> None:
    """Run until SIGTERM/SIGINT, then stop gracefully."""
    import signal

    hub = Hub(config, Store(db_path, synchronous=synchronous), clock)
    bound = await hub.start(host, port, ssl_ctx)
    if on_ready:
        on_ready(bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await hub.stop()
