"""Kill the hub with SIGKILL in the middle of a stream of requests, restart it, and
check the promises: every acknowledged ticket exists with its number, no number is
issued twice, no retried request is applied twice, every client sees every seq."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import urllib.request
from collections import Counter

import pytest

from caller.core.client import HubClient
from tests.hubproc import DEMO_CONFIG, HubProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

KIOSKS = [f"crash-kiosk-{i}" for i in range(4)]
EXTRA_DEVICES = "".join(
    f'\n[[devices]]\nid = "{k}"\nrole = "kiosk"\ntoken = "t-{k}"\n' for k in KIOSKS)


def crash_config(tmp_path):
    path = tmp_path / "hall.toml"
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8") + EXTRA_DEVICES, encoding="utf-8")
    return path


async def kiosk_loop(c: HubClient, acked: list, stop: asyncio.Event) -> None:
    services = ["civil", "labour", "family", "build", "finance"]
    while not stop.is_set():
        reply = await c.request("issue_ticket", service=random.choice(services))
        if reply["ok"]:
            acked.append((reply["ticket"]["id"], reply["ticket"]["number"]))


async def terminal_loop(c: HubClient, window: str, calls: list, stop: asyncio.Event) -> None:
    await c.request("login", window=window, staff=f"9{window}")
    while not stop.is_set():
        reply = await c.request("call_next", window=window)
        if reply["ok"]:
            calls.append(reply["ticket"]["id"])
        else:
            await asyncio.sleep(0.01)


async def wait_until_seen(port: int, wall: HubClient, timeout: float = 20.0) -> None:
    """Wait until the wall has received the hub's latest event."""
    def hub_seq() -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return json.loads(r.read())["seq"]
    deadline = asyncio.get_running_loop().time() + timeout
    while (wall.last_seq or 0) < await asyncio.to_thread(hub_seq):
        assert asyncio.get_running_loop().time() < deadline, "the wall fell behind"
        await asyncio.sleep(0.05)


def run_crash_cycles(tmp_path, cycles: int) -> None:
    hub = HubProcess(crash_config(tmp_path), tmp_path / "hall.db").start()
    port = hub.port
    acked: list[tuple[int, str]] = []
    calls: list[int] = []
    seen: list[int] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        kiosks = [await HubClient(hub.url, k, f"t-{k}").start() for k in KIOSKS]
        terms = [await HubClient(hub.url, t, f"demo-{t}").start() for t in ("term-1", "term-2")]
        wall = await HubClient(hub.url, "wall-1", "demo-wall-1",
                               on_event=lambda e: seen.append(e["seq"])).start()
        tasks = [asyncio.create_task(kiosk_loop(k, acked, stop)) for k in kiosks]
        tasks += [asyncio.create_task(terminal_loop(t, w, calls, stop))
                  for t, w in zip(terms, ("1", "2"), strict=True)]
        for _ in range(cycles):
            await asyncio.sleep(random.uniform(0.3, 0.8))
            await asyncio.to_thread(hub.kill)
            await asyncio.sleep(random.uniform(0.0, 0.3))
            hub.port = port
            await asyncio.to_thread(hub.start)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        await wait_until_seen(hub.port, wall)
        for c in [*kiosks, *terms, wall]:
            assert c.gaps == 0, c.device
            await c.close()

    try:
        asyncio.run(scenario())
    finally:
        hub.stop()
    db = sqlite3.connect(tmp_path / "hall.db")
    stored = dict(db.execute("SELECT id, number FROM tickets").fetchall())
    assert acked, "no ticket was acknowledged"
    for tid, number in acked:
        assert stored.get(tid) == number, f"acknowledged ticket {number} was lost"
    per_day = Counter(db.execute("SELECT day || number FROM tickets").fetchall())
    assert all(n == 1 for n in per_day.values()), "a number was issued twice"
    assert len(acked) == len(set(acked)), "a request was applied twice"
    assert len(calls) == len(set(calls)), "a ticket was called twice"
    last = db.execute("SELECT MAX(seq) FROM events").fetchone()[0]
    seqs = [r[0] for r in db.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, last + 1)), "gap in the stored event sequence"
    assert sorted(set(seen)) == list(range(seen[0], last + 1)), "the wall missed events"
    db.close()


def test_sigkill_under_load_loses_nothing(tmp_path):
    run_crash_cycles(tmp_path, cycles=4)
