"""The hall's websocket hub: owns the engine and the store, routes every call.

One asyncio task, the writer, is the only one that touches the engine and the
store. Connections hand it commands; it applies a batch, commits it in one SQLite
transaction (in a worker thread, so the loop keeps serving sockets), and only then
sends the replies and broadcasts the numbered events. Nothing is visible before
it is durable, and every client sees events in `seq` order.

Two small reads stay on the event loop on purpose: the request-id lookup (one indexed
row) and the replay sent with a welcome, which must go out before any newer event to
keep the order. Commits, live figures and pruning run in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from caller.core import protocol
from caller.core.config import Device, HallConfig
from caller.core.messages import say
from caller.hub.engine import Engine
from caller.hub.store import StorageError, Store
from caller.manager.stats import live_figures

log = logging.getLogger("hallq.hub")

BATCH_MAX = 512
PRUNE_EVERY_S = 3600.0
TICK_S = 1.0
LIVE_FIGURES_S = 30.0
ERROR_CACHE_PER_DEVICE = 256


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


@dataclass(eq=False)
class _Item:
    kind: str  # "command" | "hello" | "tick"
    session: Session | None
    payload: dict
    future: asyncio.Future | None = None
    waiters: list[Session] = field(default_factory=list)  # who gets the reply


class Hub:
    def __init__(self, config: HallConfig, store: Store, clock: HallClock | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or HallClock()
        self.engine: Engine = store.load_engine(config, self.clock.now())
        self.sessions: set[Session] = set()
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._inflight: dict[tuple[str, str], _Item] = {}
        self._errors: dict[str, OrderedDict[str, dict]] = {}  # device -> refused replies
        self._server: Server | None = None
        self._tasks: list[asyncio.Task] = []
        self.started = time.monotonic()
        self.stats = {"commands": 0, "batches": 0, "storage_errors": 0}
        self.today: dict = {}  # live figures for the day, refreshed in the background

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 8765,
                    ssl_context: ssl.SSLContext | None = None) -> int:
        """Start serving; return the port (useful with port 0)."""
        self._tasks = [asyncio.create_task(self._writer(), name="hub-writer"),
                       asyncio.create_task(self._ticker(), name="hub-ticker"),
                       asyncio.create_task(self._live_figures(), name="hub-figures")]
        self._server = await serve(
            self._handle, host, port, max_size=protocol.MAX_FRAME, ssl=ssl_context,
            process_request=self._http, ping_interval=10, ping_timeout=20, compression=None)
        bound = next(iter(self._server.sockets)).getsockname()[1]
        log.info("hub listening", extra={"fields": {"host": host, "port": bound,
                                                    "seq": self.store.last_seq}})
        return bound

    async def stop(self) -> None:
        """Close every connection (code 1001), let queued commands commit, then stop."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._queue.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.store.close()
        log.info("hub stopped")

    # ------------------------------------------------------------------ HTTP health

    def _http(self, conn: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?")[0] == "/healthz":
            body = json.dumps({
                "status": "ok", "hall": self.config.hall.name, "seq": self.store.last_seq,
                "connections": len(self.sessions),
                "devices": sorted({s.device.id for s in self.sessions}),
                "uptime_s": round(time.monotonic() - self.started, 1),
            }, ensure_ascii=False)
            response = conn.respond(HTTPStatus.OK, body + "\n")
            response.headers["Content-Type"] = "application/json; charset=utf-8"
            return response
        return None

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
        try:
            first = await asyncio.wait_for(conn.recv(), protocol.HELLO_TIMEOUT_S)
            hello = protocol.parse_hello(protocol.decode(first))
        except (TimeoutError, protocol.ProtocolError) as e:
            await conn.close(protocol.CLOSE_BAD_HELLO, "bad hello")
            log.warning("bad hello", extra={"fields": {"error": str(e) or "timeout"}})
            return None
        except ConnectionClosed:
            return None
        device = self.config.devices.get(hello.device)
        expected = device.token.encode() if device else b"\0" * 32
        if not hmac.compare_digest(expected, hello.token.encode()) or device is None:
            await conn.close(protocol.CLOSE_UNAUTHORISED, "unauthorised")
            log.warning("refused device", extra={"fields": {"device": hello.device}})
            return None
        session = Session(conn, device)
        done = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item("hello", session, {"since": hello.since}, done))
        await done
        log.info("device connected", extra={"fields": {"device": device.id, "role": device.role,
                                                       "since": hello.since}})
        return session

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
        if request["type"] == "stats":
            await self._send(session, protocol.reply_ok(rid, {"stats": await self._figures()}))
            return
        key = (session.device.id, rid)
        earlier = self._errors.get(key[0], {}).get(rid) or self.store.lookup_reply(*key)
        if earlier is not None:
            await self._send(session, earlier)
            return
        pending = self._inflight.get(key)
        if pending is not None:  # a retry (maybe on a new connection) of a queued request
            pending.waiters.append(session)
            return
        item = _Item("command", session, request, waiters=[session])
        self._inflight[key] = item
        await self._queue.put(item)

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
        if device.role not in protocol.ALL_WINDOW_ROLES and "window" in protocol.SCHEMAS[kind]:
            window = request.get("window")
            if window is not None and window not in device.windows:
                return say("forbidden", detail=f"本设备不属于 {window} 号窗口")
        return None

    async def _send(self, session: Session, message: dict) -> None:
        with contextlib.suppress(ConnectionClosed):
            await session.conn.send(protocol.encode(message))

    # ------------------------------------------------------------------ the writer

    async def _figures(self) -> dict:
        """Today's figures (waiting, average waits, ratings), read from the store in a thread."""
        try:
            self.today = await asyncio.to_thread(live_figures, self.store.path,
                                                 self.engine.meta.day)
        except Exception:
            log.exception("live figures failed")
        return self.today

    async def _live_figures(self) -> None:
        while True:
            await self._figures()
            await asyncio.sleep(LIVE_FIGURES_S)

    def _snapshot(self, now: datetime) -> dict:
        snapshot = self.engine.snapshot(now)
        snapshot["manager"]["today"] = self.today
        return snapshot

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            await self._queue.put(_Item("tick", None, {"type": "tick"}, None))

    async def _writer(self) -> None:
        pruned = time.monotonic()
        while True:
            if time.monotonic() - pruned > PRUNE_EVERY_S:
                pruned = time.monotonic()
                await asyncio.to_thread(self.store.prune)
            batch = [await self._queue.get()]
            while len(batch) < BATCH_MAX and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._apply(batch)
            except Exception:
                log.exception("writer failed on a batch")
                for item in batch:
                    if item.future is not None and not item.future.done():
                        item.future.set_exception(RuntimeError("internal error"))
            finally:
                for item in batch:
                    if item.kind == "command":
                        self._inflight.pop((item.session.device.id, item.payload["id"]), None)
                    self._queue.task_done()

    async def _apply(self, batch: list[_Item]) -> None:
        now = self.clock.now().astimezone(self.engine.tz)
        commands = [i for i in batch if i.kind in ("command", "tick")]
        replies: list[tuple[_Item, dict]] = []
        events: list[dict] = []
        for item in commands:
            command = dict(item.payload)
            if item.session is not None:
                command["device"] = item.session.device.id
            reply, produced = self.engine.handle(command, now, self.clock.monotonic())
            if "snapshot" in reply:
                reply["snapshot"]["manager"]["today"] = self.today
            events.extend(produced)
            if item.kind == "command":
                replies.append((item, reply))
        changes = self.engine.take_changes()
        durable = [(i.session.device.id, i.payload["id"], protocol.reply_ok(i.payload["id"], r))
                   for i, r in replies if r["ok"] and i.payload["type"] != "snapshot"]
        numbered: list[dict] = []
        if events or durable or changes.tickets or changes.windows or changes.meta:
            try:
                numbered = await asyncio.to_thread(self.store.commit, changes, events, now, durable)
            except StorageError as e:
                self.stats["storage_errors"] += 1
                log.error("commit refused; state reloaded", extra={"fields": {"error": str(e)}})
                self.engine = self.store.load_engine(self.config, now)
                replies = [(i, {"ok": False, "error": {"code": "storage_error",
                                                       "message": say("storage_error")}})
                           for i, _ in replies]
                numbered = []
        self.stats["batches"] += 1
        self.stats["commands"] += len(replies)
        for item, reply in replies:
            self._deliver(item, reply)
            self._log_command(item, reply)
        if numbered:
            connections = [s.conn for s in self.sessions]
            for event in numbered:
                broadcast(connections, protocol.encode(event))
        for item in batch:
            if item.kind == "hello":
                self._welcome(item, now)

    def _deliver(self, item: _Item, reply: dict) -> None:
        rid = item.payload["id"]
        message = (protocol.reply_ok(rid, reply) if reply["ok"]
                   else protocol.reply_error(rid, reply["error"]["code"], reply["error"]["message"]))
        if not reply["ok"]:
            errors = self._errors.setdefault(item.session.device.id, OrderedDict())
            errors[rid] = message
            while len(errors) > ERROR_CACHE_PER_DEVICE:
                errors.popitem(last=False)
        broadcast([w.conn for w in item.waiters], protocol.encode(message))

    def _welcome(self, item: _Item, now: datetime) -> None:
        """Send welcome and the replay synchronously, then subscribe: no event can slip
        between them or arrive twice."""
        session = item.session
        since = item.payload.get("since")
        replay = self.store.events_since(since) if since is not None else None
        device = session.device
        welcome = {"type": "welcome", "protocol": protocol.VERSION, "device": device.id,
                   "role": device.role, "windows": list(device.windows),
                   "options": device.options, "seq": self.store.last_seq,
                   "now": now.isoformat(timespec="milliseconds"),
                   "replay": replay is not None, "snapshot": self._snapshot(now)}
        broadcast([session.conn], protocol.encode(welcome))
        for event in replay or []:
            broadcast([session.conn], protocol.encode(event))
        self.sessions.add(session)
        item.future.set_result(None)

    def _log_command(self, item: _Item, reply: dict) -> None:
        """One line per command, written once its outcome is durable."""
        fields: dict[str, Any] = {"device": item.session.device.id, "id": item.payload["id"],
                                  "command": item.payload["type"], "ok": reply["ok"]}
        if not reply["ok"]:
            fields["error"] = reply["error"]["code"]
        elif "ticket" in reply:
            fields["ticket"] = reply["ticket"]["number"]
        log.info("command", extra={"fields": fields})


def ssl_context(certfile: str, keyfile: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"t": datetime.fromtimestamp(record.created, UTC).isoformat(
                     timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name,
                 "msg": record.getMessage(), **getattr(record, "fields", {})}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger("hallq")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


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
