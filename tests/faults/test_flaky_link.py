"""A TV wall and a window terminal behind a link that drops every one to two seconds,
while a kiosk on a good link keeps issuing: the wall misses no event, and every request
of the terminal acts exactly once, however often it had to be resent."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from pathlib import Path

import pytest

from caller.core.client import HubClient
from tests.caller.hub.test_hub_crash import wait_until_seen
from tests.faults.flaky_proxy import FlakyProxy
from tests.hubproc import HubProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CUTS = 10  # about 15 s at one cut every 1–2 s
WAIT = 60.0  # a request still unanswered this long after being sent has been lost


def window_events(db: Path, name: str) -> list[int]:
    """Ticket ids of the stored ``name`` events at window 1, in order."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        bodies = [json.loads(r[0]) for r in conn.execute(
            "SELECT body FROM events WHERE name = ? ORDER BY seq", (name,))]
    conn.close()
    return [b["ticket"]["id"] if "ticket" in b else None for b in bodies if b.get("window") == "1"]


def test_a_link_that_keeps_dropping_loses_no_event_and_doubles_no_request(hub_process: HubProcess):
    rng = random.Random(2026)
    seen: list[int] = []
    drops = {"wall-1": 0, "term-1": 0}
    issued: list[int] = []
    called: list[int] = []
    finished: list[int] = []
    resent = [0]

    def count_drops(device: str):
        def on_connection(up: bool) -> None:
            drops[device] += not up
        return on_connection

    async def kiosk_issues(kiosk: HubClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            reply = await kiosk.request("issue_ticket", timeout=WAIT,
                                        service=rng.choice(["civil", "green", "family"]))
            assert reply["ok"], reply
            issued.append(reply["ticket"]["id"])
            await asyncio.sleep(rng.uniform(0.05, 0.2))

    async def ask(term: HubClient, kind: str, **args: object) -> dict:
        """The terminal's request; counted as resent when the link dropped before the answer."""
        drops_before = drops["term-1"]
        reply = await term.request(kind, timeout=WAIT, **args)
        resent[0] += drops["term-1"] != drops_before
        return reply

    async def terminal_serves(term: HubClient, stop: asyncio.Event) -> None:
        assert (await ask(term, "login", staff="1001"))["ok"]
        while not stop.is_set():
            reply = await ask(term, "call_next")
            if not reply["ok"]:
                assert reply["error"]["code"] == "queue_empty", reply
                await asyncio.sleep(0.05)
                continue
            called.append(reply["ticket"]["id"])
            reply = await ask(term, "finish")
            assert reply["ok"], reply
            finished.append(reply["ticket"]["id"])

    async def scenario() -> None:
        proxy = FlakyProxy(hub_process.port, rng)
        flaky_url = f"ws://127.0.0.1:{await proxy.start()}/"
        stop = asyncio.Event()
        try:
            async with (HubClient(hub_process.url, "kiosk-1", "demo-kiosk-1") as kiosk,
                        HubClient(flaky_url, "term-1", "demo-term-1",
                                  on_connection=count_drops("term-1")) as term,
                        HubClient(flaky_url, "wall-1", "demo-wall-1",
                                  on_event=lambda e: seen.append(e["seq"]),
                                  on_connection=count_drops("wall-1")) as wall):
                work = [asyncio.create_task(kiosk_issues(kiosk, stop)),
                        asyncio.create_task(terminal_serves(term, stop))]
                while proxy.cuts < CUTS:
                    done = [t for t in work if t.done()]
                    if done:
                        await done[0]  # a loop that stopped early failed: show why
                    await asyncio.sleep(0.1)
                stop.set()
                await asyncio.gather(*work)
                await wait_until_seen(hub_process.port, wall)
                assert wall.gaps == 0 and term.gaps == 0
        finally:
            await proxy.close()
        assert proxy.severed >= CUTS, "the proxy cut less than one connection a time"
        print(f"cuts {proxy.cuts}, answers lost {proxy.lost_answers}, severed {proxy.severed}, "
              f"drops {drops}, terminal requests resent {resent[0]}, calls {len(called)}, "
              f"tickets {len(issued)}, events seen {len(seen)}")

    asyncio.run(scenario())

    assert drops["wall-1"] >= 3 and drops["term-1"] >= 3, drops
    assert resent[0] >= CUTS // 2, "the cuts did not catch the terminal waiting for answers"
    assert seen == list(range(seen[0], seen[-1] + 1)), "the wall missed or repeated events"
    assert called, "the terminal called nobody"
    # Exactly one effect per acknowledged request: one stored call and one finish each.
    assert window_events(hub_process.db, "ticket_called") == called
    assert window_events(hub_process.db, "ticket_finished") == finished == called
    assert window_events(hub_process.db, "window_login") == [None]
    assert len(set(issued)) == len(issued)
