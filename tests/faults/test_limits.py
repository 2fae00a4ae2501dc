"""Finding 9: limits per device and per address. Failed hellos earn a backoff (and a flood
of them one log line, not thousands); commands are rate-limited per device; open alerts
are de-duplicated per (kind, device, window); old request ids are pruned by age; `stats`
is served from a cache."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import replace

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from caller.core.client import HubClient
from caller.core.config import RateLimit
from caller.hub import limits
from caller.hub import server as hub_module
from tests.faults.inproc import CONFIG, WAIT, running_hub


async def hello_close_code(url: str, token: str) -> int | None:
    async with connect(url, open_timeout=WAIT) as conn:
        await conn.send(json.dumps({"type": "hello", "device": "admin", "token": token}))
        try:
            while True:
                if json.loads(await asyncio.wait_for(conn.recv(), WAIT))["type"] == "welcome":
                    return None
        except ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None


def test_wrong_tokens_earn_a_backoff_but_the_right_one_gets_in(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(limits, "HELLO_DELAY_S", (3.0, 5.0))
    caplog.set_level(logging.WARNING, "hallq.hub")

    async def scenario() -> None:
        async with running_hub(tmp_path / "hall.db") as (_, url):
            for _ in range(limits.HELLO_FREE_FAILURES):
                assert await hello_close_code(url, "guess") == 4401
            held = [asyncio.create_task(hello_close_code(url, "guess"))
                    for _ in range(limits.HELLO_DELAYED_MAX)]
            await asyncio.sleep(0.5)  # let them reach the backoff
            assert await hello_close_code(url, "guess") == 1013  # turned away unchecked
            assert not any(t.done() for t in held)
            assert await hello_close_code(url, "demo-admin") == 1013  # even the right one, now
            assert await asyncio.gather(*held) == [4401] * limits.HELLO_DELAYED_MAX
            assert await hello_close_code(url, "demo-admin") is None  # welcome
    asyncio.run(scenario())
    refusals = [r for r in caplog.records if "refused" in r.getMessage() or "backing" in r.getMessage()]
    assert len(refusals) == limits.HELLO_FREE_FAILURES + 1


def test_commands_are_rate_limited_per_device(tmp_path, monkeypatch):
    monkeypatch.setitem(limits.COMMAND_RATES, ("kiosk", "issue_ticket"), limits.Rate(0.01, 5))

    async def scenario() -> None:
        async with (running_hub(tmp_path / "hall.db") as (_, url),
                    HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk):
            replies = [await kiosk.request("issue_ticket", timeout=WAIT, service="civil")
                       for _ in range(8)]
            assert [r["ok"] for r in replies] == [True] * 5 + [False] * 3
            assert replies[-1]["error"]["code"] == "rate_limited"
            assert "频繁" in replies[-1]["error"]["message"]
            assert (await kiosk.request("snapshot", timeout=WAIT))["ok"]  # other commands go on
    asyncio.run(scenario())
    with sqlite3.connect(tmp_path / "hall.db") as db:
        assert db.execute("SELECT COUNT(*) FROM tickets").fetchone() == (5,)
    db.close()


def test_a_halls_limits_table_overrides_the_defaults(tmp_path):
    config = replace(CONFIG, limits={"kiosk.issue_ticket": RateLimit(0.01, 3)})

    async def scenario() -> None:
        async with (running_hub(tmp_path / "hall.db", config=config) as (_, url),
                    HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk):
            replies = [await kiosk.request("issue_ticket", timeout=WAIT, service="civil")
                       for _ in range(4)]
            assert [r["ok"] for r in replies] == [True] * 3 + [False]
            assert replies[-1]["error"]["code"] == "rate_limited"
    asyncio.run(scenario())


def test_repeated_device_alerts_stay_one_open_alert(tmp_path):
    async def scenario() -> None:
        async with (running_hub(tmp_path / "hall.db") as (_, url),
                    HubClient(url, "counter-a", "demo-counter-a") as counter,
                    HubClient(url, "admin", "demo-admin") as admin):
            ids = {(await counter.request("report_alert", timeout=WAIT, kind="device_offline",
                                      message="串口断开", window="3"))["alert"] for _ in range(8)}
            other = await counter.request("report_alert", timeout=WAIT, kind="device_offline",
                                      message="串口断开", window="4")
            assert len(ids) == 1 and other["alert"] not in ids
            alerts = (await admin.request("list_alerts", timeout=WAIT))["alerts"]
            assert len(alerts) == 2
    asyncio.run(scenario())


def test_request_ids_are_pruned_by_age(tmp_path, monkeypatch):
    monkeypatch.setattr(hub_module, "PRUNE_EVERY_S", 0.0)
    monkeypatch.setattr(hub_module, "REQUEST_KEEP_S", 0.0)

    async def scenario() -> None:
        async with (running_hub(tmp_path / "hall.db") as (_, url),
                    HubClient(url, "term-1", "demo-term-1") as term):
            for _ in range(50):  # no-op logins: each remembered under its request id
                assert (await term.request("login", timeout=WAIT, staff="1001"))["ok"]
            await asyncio.sleep(2.5)  # a few ticks: the writer prunes between batches
    asyncio.run(scenario())
    with sqlite3.connect(tmp_path / "hall.db") as db:
        assert db.execute("SELECT COUNT(*) FROM requests").fetchone()[0] <= 2
    db.close()


def test_stats_are_served_from_a_cache(tmp_path, monkeypatch):
    reads = [0]
    real = hub_module.live_figures

    def counted(*args):
        reads[0] += 1
        return real(*args)
    monkeypatch.setattr(hub_module, "live_figures", counted)

    async def scenario() -> None:
        async with (running_hub(tmp_path / "hall.db") as (_, url),
                    HubClient(url, "term-1", "demo-term-1") as term):
            await asyncio.gather(*(term.request("stats", timeout=WAIT) for _ in range(30)))
    asyncio.run(scenario())
    assert reads[0] <= 2
