"""The benchmark's clients: real websocket connections speaking the hub protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from caller.core.protocol import Event
from hallq.benches.hall import KIOSKS, SERVICES, TOKEN, WINDOWS


async def device(url: str, name: str, since: int | None = None,
                 keepalive: bool = False) -> ClientConnection:
    """A connection that said hello as `name` and got its welcome. With `keepalive` it
    pings as the hall's device programs do; without, it never hangs up on a slow hub,
    so that a stall shows as latency rather than as a dropped load."""
    # max_queue=None: a connection whose reader has stopped still reads its close frame
    conn = await connect(url, max_size=None, max_queue=None, compression=None,
                         ping_interval=10 if keepalive else None, ping_timeout=20)
    hello: dict[str, Any] = {"type": "hello", "device": name, "token": TOKEN}
    if since is not None:
        hello["since"] = since
    await conn.send(json.dumps(hello))
    while orjson.loads(await conn.recv())["type"] != "welcome":
        pass
    return conn


async def request(conn: ClientConnection, pending: dict, rid: str, **message: Any) -> dict:
    fut = asyncio.get_running_loop().create_future()
    pending[rid] = fut
    await conn.send(json.dumps({"id": rid, **message}))
    return await fut


async def reader(conn: ClientConnection, pending: dict,
                 on_event: Callable[[dict], None] | None = None) -> None:
    """Route replies to their waiting requests and events to `on_event`, until closed.
    Frames are decoded with orjson: with json's decoder the load's one process, at nine
    tenths of a core, set the pace of the closed loops rather than the hub
    (BENCHMARKS.md, issue 14, fifth round)."""
    async for frame in conn:
        message = orjson.loads(frame)
        if message["type"] == "reply":
            fut = pending.pop(message["id"], None)
            if fut and not fut.done():
                fut.set_result(message)
        elif message["type"] == "event" and on_event:
            on_event(message)


async def devices(url: str, names: list[str], keepalive: bool = False) -> list[ClientConnection]:
    return [await device(url, name, keepalive=keepalive) for name in names]


def kiosk_names() -> list[str]:
    return [f"kiosk-{k}" for k in range(KIOSKS)]


async def issue_tickets(kiosks: list[ClientConnection], *, count: int | None = None,
                        seconds: float | None = None) -> tuple[int, float]:
    """Tickets issued from these kiosk connections, each waiting for its reply before the
    next request (as a real kiosk does), until `count` requests or `seconds` have gone by.
    Returns the tickets issued and the seconds it took."""
    issued = 0
    stop_at = time.perf_counter() + seconds if seconds is not None else float("inf")
    total = count or 0
    share = [total // len(kiosks) + (k < total % len(kiosks)) for k in range(len(kiosks))]
    tag = time.monotonic_ns()  # request ids never repeat on one hub

    async def kiosk(k: int, conn: ClientConnection) -> None:
        nonlocal issued
        pending: dict = {}
        task = asyncio.create_task(reader(conn, pending))
        n = 0
        while (count is None or n < share[k]) and time.perf_counter() < stop_at:
            n += 1
            reply = await request(conn, pending, f"i{tag}-{k}-{n}", type="issue_ticket",
                                  service=f"s{(k + n) % SERVICES:02d}")
            issued += reply["ok"]
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    started = time.perf_counter()
    await asyncio.gather(*(kiosk(k, c) for k, c in enumerate(kiosks)))
    return issued, time.perf_counter() - started


async def fill_queue(url: str, tickets: int) -> int:
    """Issue `tickets` tickets from the kiosks; the number issued."""
    kiosks = await devices(url, kiosk_names())
    issued, _ = await issue_tickets(kiosks, count=tickets)
    await close_all(kiosks)
    return issued


async def close_all(conns: list[ClientConnection]) -> None:
    await asyncio.gather(*(c.close() for c in conns))


class CallLoad:
    """An admin that has logged in every window and sends `call_next` at a steady rate,
    round-robin over the windows, and displays that time each `ticket_called` from the
    moment its call was sent."""

    def __init__(self, url: str, displays: int) -> None:
        self.url = url
        self.displays = displays
        self.latencies: list[float] = []
        self.sent = 0
        self.seq = 0  # the newest event seen
        self._tag = time.monotonic_ns()  # request ids never repeat on one hub
        self._sent_at: dict[str, float] = {}
        self._conns: list[ClientConnection] = []
        self._tasks: list[asyncio.Task] = []

    async def open(self) -> CallLoad:
        admin = await device(self.url, "admin")
        pending: dict = {}
        self._conns.append(admin)
        self._tasks.append(asyncio.create_task(reader(admin, pending)))
        for w in range(1, WINDOWS + 1):
            await request(admin, pending, f"login-{w}", type="login", window=str(w), staff=f"{w}")
        for d in range(self.displays):
            conn = await device(self.url, f"wall-{d}")
            self._conns.append(conn)
            self._tasks.append(asyncio.create_task(reader(conn, {}, self._on_event)))
        return self

    def _on_event(self, event: dict) -> None:
        self.seq = max(self.seq, event["seq"])
        if event["event"] == Event.TICKET_CALLED:
            t0 = self._sent_at.get(event["window"])
            if t0 is not None:
                self.latencies.append((time.perf_counter() - t0) * 1000)

    async def run(self, seconds: float, rate: float = 100.0, settle_s: float = 1.0) -> list[float]:
        """Call for `seconds`; the latencies (ms) of these calls, at every display."""
        self.latencies = []
        admin = self._conns[0]
        started = time.perf_counter()
        for n in range(int(seconds * rate)):
            window = str((self.sent + n) % WINDOWS + 1)
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            self._sent_at[window] = time.perf_counter()
            await admin.send(json.dumps({"id": f"c{self._tag}-{self.sent + n}", "type": "call_next",
                                         "window": window}))
        self.sent += int(seconds * rate)
        await asyncio.sleep(settle_s)
        return self.latencies

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for conn in self._conns:
            await conn.close()


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) of `values`, rounded to 0.01; None when empty."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 2)
