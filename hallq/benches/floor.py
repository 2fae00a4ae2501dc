"""The floor under the hub's CPU per call: what its two unavoidable parts cost alone.

A call the hub delivers is one durable SQLite transaction (commit before reply) and
one websocket frame written to every display. `python -m hallq.benches.floor` measures
each with nothing else around it:

- the CPU of one transaction of the rows a `call_next` writes (two tickets, a window,
  its events, the reply), through the hub's own `Store`, and of the barest durable
  transaction (one row), both with `synchronous=FULL` as the hub commits (the bare one
  also with `synchronous=NORMAL`, to show what the `fsync` of each commit costs);
- what awaiting each commit in a thread costs the process over making it on the loop
  (`floor_handoff_ms`: the thread's wake-up, the loop's, and the interpreter lock passed
  back and forth);
- the CPU of a server process (same event loop as the hub) that writes one already
  framed event to each of N loopback websocket connections, 100 rounds a second, as
  the hub's writer does (`transport.write`), and the same through websockets'
  `broadcast()`; the difference between 1 and 50 connections is the cost per display.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import multiprocessing
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.frames import Frame, Opcode

from caller.core import protocol
from caller.core.config import load_config
from caller.core.loops import loop_factory
from caller.hub.server import _last_queue_changed
from caller.hub.store import Store
from hallq.benches.cpu import cpu_seconds
from hallq.benches.hall import SERVICES, WINDOWS, generated_hall

RATE = 100.0  # rounds per second, as the call workload calls
DISPLAY = "display"  # what a receiving connection says first


# ------------------------------------------------------------------ the commit


def _bare_store(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, body TEXT)")
    return conn


def _bare_commit(conn: sqlite3.Connection, n: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO events VALUES (?, ?)", (n, '{"event":"ticket_called"}'))
    conn.execute("COMMIT")


def bare_commit_ms(path: Path, commits: int, synchronous: str = "FULL") -> float:
    """CPU ms of this thread per durable transaction of one small row (with
    `synchronous=NORMAL`, for comparison: not durable at its commit in WAL mode)."""
    conn = _bare_store(path, synchronous)
    started = time.thread_time()
    for n in range(commits):
        _bare_commit(conn, n)
    cost = time.thread_time() - started
    conn.close()
    return cost * 1000 / commits


def handoff_ms(path: Path, commits: int) -> float:
    """CPU ms of the process that keeping a commit off the event loop costs (the hub
    awaits each in a thread, as it does every blocking disk call): bare durable commits at
    the call workload's pace on the hub's loop, through `asyncio.to_thread` against made
    on the loop itself."""
    conn = _bare_store(path)

    async def paced(first: int, through_thread: bool) -> float:
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(first, first + commits):
            await asyncio.sleep(max(0.0, started + (n - first) / RATE - time.perf_counter()))
            if through_thread:
                await asyncio.to_thread(_bare_commit, conn, n)
            else:
                _bare_commit(conn, n)
        return time.process_time() - cpu

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(paced(0, True))  # the WAL file grown to its size, the thread started
        on_loop = runner.run(paced(commits, False))
        in_thread = runner.run(paced(2 * commits, True))
    conn.close()
    return (in_thread - on_loop) * 1000 / commits


def call_commit_ms(folder: Path, commits: int) -> float:
    """CPU ms of this thread per `Store.commit` of one call's rows, in the bench's hall
    with every window staffed and a queue waiting."""
    config_path = folder / "hall.toml"
    config_path.write_text(generated_hall(), encoding="utf-8")
    store = Store(folder / "floor.db")
    engine = store.load_engine(load_config(config_path), datetime.now(UTC))

    def batch(n: int, device: str, **command: object) -> tuple:
        now = datetime.now(UTC)
        reply, events = engine.handle({**command, "device": device}, now)
        # a copy: the rows as this command left them, as the hub commits them (the engine's
        # own objects would hold the state after every call built below)
        return (copy.deepcopy(engine.take_changes()), _last_queue_changed(events), now,
                [(device, f"r{n}", protocol.encode(protocol.reply_ok(f"r{n}", reply)))])

    for w in range(1, WINDOWS + 1):
        store.commit(*batch(w, "admin", type="login", window=str(w), staff=str(w)))
    for n in range(commits + WINDOWS):
        store.commit(*batch(WINDOWS + n, "kiosk-0", type="issue_ticket",
                            service=f"s{n % SERVICES:02d}"))
    calls = [batch(-n - 1, "admin", type="call_next", window=str(n % WINDOWS + 1))
             for n in range(commits)]
    started = time.thread_time()
    for call in calls:
        store.commit(*call)
    cost = time.thread_time() - started
    store.close()
    return cost * 1000 / commits


# ------------------------------------------------------------------ the writes


def sample_frame() -> str:
    """A `ticket_called` event as the hub sends it to a wall (about 560 bytes)."""
    ticket = {"id": 1234, "number": "A0234", "service": "s01", "service_name": "业务01",
              "priority": "normal", "state": "called", "window": "17", "target_window": None,
              "transferred": False, "issued_at": "2026-12-02T09:14:05+08:00",
              "called_at": "2026-12-02T09:41:10+08:00", "finished_at": None, "recalls": 0,
              "source": "kiosk"}
    return protocol.encode({"type": "event", "seq": 45678, "at": "2026-12-02T09:41:10.125+08:00",
                            "event": protocol.Event.TICKET_CALLED, "window": "17", "window_name": "17号窗口",
                            "ticket": ticket, "recall": False})


async def _writing_server(pipe: Connection) -> None:
    displays: list[ServerConnection] = []

    async def handler(conn: ServerConnection) -> None:
        first = await conn.recv()
        if first == DISPLAY:
            displays.append(conn)
            await conn.wait_closed()
            return
        how, rounds, frame = json.loads(first)
        wire = Frame(Opcode.TEXT, frame.encode()).serialize(mask=False)
        started = time.perf_counter()
        for n in range(rounds):
            await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            if how == "write":
                for display in displays:
                    display.transport.write(wire)
            else:
                broadcast(displays, frame)
        await conn.send("done")
        await conn.wait_closed()

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        pipe.send(next(iter(server.sockets)).getsockname()[1])
        await server.serve_forever()


def _serve(pipe: Connection) -> None:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_writing_server(pipe))


async def _count(conn: ClientConnection, seen: list[int], index: int) -> None:
    with contextlib.suppress(Exception):
        async for _ in conn:
            seen[index] += 1


async def _write_rounds(url: str, pid: int, seen: list[int], count: int, how: str,
                        rounds: int, frame: str) -> float:
    """CPU ms of the server process per round of one frame to each of the first `count`
    displays (`seen`: the frames each has read so far)."""
    want = [n + rounds for n in seen[:count]]
    control = await connect(url, compression=None)
    before = cpu_seconds(pid)
    await control.send(json.dumps([how, rounds, frame]))
    await control.recv()
    cost = cpu_seconds(pid) - before
    await control.close()
    def behind() -> bool:
        return any(s < w for s, w in zip(seen[:count], want, strict=True))

    deadline = time.monotonic() + 30
    while behind() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if behind():
        raise RuntimeError(f"the displays missed frames: {seen[:count]} of {want}")
    return cost * 1000 / rounds


async def write_floor(url: str, pid: int, displays: int, rounds: int) -> dict:
    frame = sample_frame()
    conns: list[ClientConnection] = []
    seen = [0] * displays
    tasks = []
    results = {}
    try:
        for count in (1, displays):
            while len(conns) < count:
                conn = await connect(url, compression=None, max_queue=None)
                await conn.send(DISPLAY)
                tasks.append(asyncio.create_task(_count(conn, seen, len(conns))))
                conns.append(conn)
            await asyncio.sleep(0.2)  # the server has registered them
            for how in ("write", "broadcast"):
                results[f"floor_{how}_ms_{count}"] = round(
                    await _write_rounds(url, pid, seen, count, how, rounds, frame), 4)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(c.close() for c in conns))
    for how in ("write", "broadcast"):
        results[f"floor_{how}_us_per_display"] = round(
            (results[f"floor_{how}_ms_{displays}"] - results[f"floor_{how}_ms_1"]) * 1000
            / (displays - 1), 1)
    return results


def measure(rounds: int, displays: int = 50) -> dict:
    with tempfile.TemporaryDirectory(prefix="hallq-bench-floor-") as tmp:
        figures = {"floor_commit_bare_ms": round(bare_commit_ms(Path(tmp) / "bare.db", rounds), 4),
                   "floor_commit_bare_normal_ms": round(
                       bare_commit_ms(Path(tmp) / "normal.db", rounds, "NORMAL"), 4),
                   "floor_commit_call_ms": round(call_commit_ms(Path(tmp), rounds), 4),
                   "floor_handoff_ms": round(handoff_ms(Path(tmp) / "handoff.db", rounds), 4)}
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(child,), daemon=True)
    server.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("the writing server did not start")
        url = f"ws://127.0.0.1:{parent.recv()}/"
        figures |= asyncio.run(write_floor(url, server.pid, displays, rounds))
    finally:
        server.terminate()
        server.join(10)
    figures["frame_bytes"] = len(sample_frame().encode())
    figures["load"] = os.getloadavg()[0]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=500, help="commits, and write rounds")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.runs):
        print(json.dumps(measure(args.rounds)), flush=True)


if __name__ == "__main__":
    main()
