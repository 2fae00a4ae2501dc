"""The client every kiosk, terminal, display and bridge uses to talk to the hub.

`HubClient` connects, says hello, reconnects with backoff forever, resumes from the
last event `seq` it saw, and resends requests still waiting for a reply with the
same id (the hub answers a repeated id with the first reply, so nothing acts twice).

`ThreadedHubClient` runs one in a background thread for programs whose main thread
is a UI loop (Kivy): callbacks are handed to a `dispatch` function, e.g. Kivy's
`Clock.schedule_once`, so they run on the UI thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import ssl
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from caller.core import protocol
from caller.core.errors import HallqError

log = logging.getLogger("hallq.client")

EventCallback = Callable[[dict], None]


def tls_context(url: str) -> ssl.SSLContext | None:
    """For wss:// URLs: the system's trusted CAs, plus the hall's own CA (or the hub's
    self-signed certificate) when HALLQ_CA_FILE names it."""
    if not url.startswith("wss://"):
        return None
    return ssl.create_default_context(cafile=os.environ.get("HALLQ_CA_FILE") or None)


class HubTime:
    """The hall's one clock, as the hub tells it in welcomes (`now`) and events (`at`):
    screens show it even when their PC's clock is off, or a demo runs the hall faster."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def follow(self, stamp: str | None) -> None:
        if stamp:
            self._offset = datetime.fromisoformat(stamp) - datetime.now(UTC)

    def now(self, tz: tzinfo) -> datetime:
        return datetime.now(tz) + self._offset


class HubUnavailable(HallqError):
    """The hub refused this device (wrong token, unknown device): retrying will not help."""


class HubClient:
    def __init__(self, url: str, device: str, token: str, *, since: int | None = None,
                 on_event: EventCallback | None = None,
                 on_welcome: EventCallback | None = None,
                 on_connection: Callable[[bool], None] | None = None,
                 backoff: tuple[float, float] = (0.2, 5.0)) -> None:
        self.url = url
        self.device = device
        self.token = token
        self.last_seq = since
        self.snapshot: dict | None = None
        self.welcome: dict | None = None
        self.connected = False
        self.on_event = on_event
        self.on_welcome = on_welcome
        self.on_connection = on_connection
        self.backoff = backoff
        self.gaps = 0  # events that arrived after a hole in seq (never expected)
        self._ids = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:8]
        self._pending: dict[str, tuple[str, asyncio.Future]] = {}
        self._conn: ClientConnection | None = None
        self._events: asyncio.Queue[dict] = asyncio.Queue()
        self._ready = asyncio.Event()
        self._stopped = False
        self._task: asyncio.Task | None = None
        self.fatal: Exception | None = None
        self._ssl = tls_context(url)

    # ------------------------------------------------------------------ lifecycle

    async def start(self, wait: bool = True, timeout: float = 10.0) -> HubClient:
        self._task = asyncio.create_task(self._run(), name=f"hub-client-{self.device}")
        if wait:
            await self.wait_connected(timeout)
        return self

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)
        if self.fatal:
            raise self.fatal

    async def close(self) -> None:
        self._stopped = True
        if self._conn is not None:
            await self._conn.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for _, fut in self._pending.values():
            if not fut.done():
                fut.cancel()

    async def __aenter__(self) -> HubClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ requests

    def new_id(self) -> str:
        return f"{self.device}-{self._prefix}-{next(self._ids)}"

    async def request(self, kind: str, /, *, request_id: str | None = None,
                      timeout: float | None = None, **args: Any) -> dict:
        """Send a command; return its reply (ok or not). Survives reconnects."""
        rid = request_id or self.new_id()
        frame = protocol.encode({"type": kind, "id": rid, **args})
        fut = asyncio.get_running_loop().create_future()
        self._pending[rid] = (frame, fut)
        if self._conn is not None and self.connected:
            with contextlib.suppress(ConnectionClosed):
                await self._conn.send(frame)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        finally:
            if fut.done():
                self._pending.pop(rid, None)

    async def send_raw(self, text: str) -> None:
        """Send a frame as is (tests of malformed input)."""
        if self._conn is None:
            raise ConnectionError("not connected")
        await self._conn.send(text)

    async def events(self) -> AsyncIterator[dict]:
        """Every event, in seq order, as it arrives."""
        while True:
            yield await self._events.get()

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        delay = self.backoff[0]
        while not self._stopped:
            try:
                async with connect(self.url, max_size=None, open_timeout=5, ssl=self._ssl,
                                   ping_interval=10, ping_timeout=20,
                                   compression=None) as conn:
                    self._conn = conn
                    await conn.send(protocol.encode({
                        "type": "hello", "device": self.device, "token": self.token,
                        **({"since": self.last_seq} if self.last_seq is not None else {})}))
                    delay = self.backoff[0]
                    await self._receive(conn)
            except ConnectionClosed as e:
                if e.rcvd and e.rcvd.code in (protocol.CLOSE_UNAUTHORISED,
                                              protocol.CLOSE_BAD_HELLO):
                    self.fatal = HubUnavailable(f"hub refused device {self.device!r}: "
                                                f"{e.rcvd.reason or e.rcvd.code}")
                    log.error(str(self.fatal))
                    self._ready.set()
                    return
            except ssl.SSLError as e:
                log.warning("TLS to %s failed (set HALLQ_CA_FILE to the hall's CA?): %s",
                            self.url, e)
            except (OSError, InvalidHandshake, InvalidStatus, TimeoutError) as e:
                log.debug("hub unreachable: %s", e)
            finally:
                self._set_connected(False)
                self._conn = None
            if self._stopped:
                return
            await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
            delay = min(delay * 2, self.backoff[1])

    async def _receive(self, conn: ClientConnection) -> None:
        async for frame in conn:
            message = json.loads(frame)
            kind = message.get("type")
            if kind == "welcome":
                self._on_welcome(message)
                for frame_text, _ in list(self._pending.values()):
                    await conn.send(frame_text)  # same ids: the hub never acts twice
            elif kind == "event":
                self._on_event(message)
            elif kind == "reply":
                pending = self._pending.get(message.get("id"))
                if pending and not pending[1].done():
                    pending[1].set_result(message)

    def _on_welcome(self, message: dict) -> None:
        self.welcome = message
        self.snapshot = message["snapshot"]
        if not message.get("replay"):
            self.last_seq = message["seq"]
        self._set_connected(True)
        self._callback(self.on_welcome, message)
        self._ready.set()

    def _on_event(self, message: dict) -> None:
        seq = message["seq"]
        if self.last_seq is not None:
            if seq <= self.last_seq:
                return  # already seen
            if seq != self.last_seq + 1:
                self.gaps += 1
                log.warning("event gap: %s -> %s", self.last_seq, seq)
        self.last_seq = seq
        self._events.put_nowait(message)
        self._callback(self.on_event, message)

    @staticmethod
    def _callback(fn: Callable[[Any], None] | None, arg: Any) -> None:
        """Run a program's callback; its bug must not take the connection down."""
        if fn is None:
            return
        try:
            fn(arg)
        except Exception:
            log.exception("callback %s failed", getattr(fn, "__qualname__", fn))

    def _set_connected(self, value: bool) -> None:
        if value != self.connected:
            self.connected = value
            self._callback(self.on_connection, value)


class ThreadedHubClient:
    """A HubClient on its own event loop thread, for UI programs.

    Every callback runs through `dispatch(fn)`; pass Kivy's scheduler so they run on
    the UI thread (default: called directly on the client thread)."""

    def __init__(self, url: str, device: str, token: str, *,
                 on_event: EventCallback | None = None,
                 on_welcome: EventCallback | None = None,
                 on_connection: Callable[[bool], None] | None = None,
                 dispatch: Callable[[Callable[[], None]], None] | None = None) -> None:
        self._dispatch = dispatch or (lambda fn: fn())
        self._loop = asyncio.new_event_loop()
        wrap = self._wrap
        self.client = HubClient(url, device, token,
                                on_event=wrap(on_event), on_welcome=wrap(on_welcome),
                                on_connection=wrap(on_connection))
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name=f"hub-client-{device}", daemon=True)

    def _wrap(self, fn: Callable | None) -> Callable | None:
        if fn is None:
            return None
        return lambda arg: self._dispatch(lambda: fn(arg))

    def start(self) -> ThreadedHubClient:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.client.start(wait=False), self._loop).result(5)
        return self

    def request(self, kind: str, /, callback: Callable[[dict], None] | None = None,
                **args: Any) -> Future:
        """Send without blocking; `callback(reply)` runs through dispatch."""
        future = asyncio.run_coroutine_threadsafe(self.client.request(kind, **args), self._loop)
        if callback is not None:
            def done(f: Future) -> None:
                if not f.cancelled() and f.exception() is None:
                    self._dispatch(lambda: callback(f.result()))
            future.add_done_callback(done)
        return future

    @property
    def connected(self) -> bool:
        return self.client.connected

    def stop(self) -> None:
        if not self._loop.is_running():
            return
        asyncio.run_coroutine_threadsafe(self.client.close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
