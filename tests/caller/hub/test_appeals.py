"""Appeals of a bad rating (申诉复核) and the no-rating policy, through a real hub on
loopback over a real SQLite file: an appeal filed long after the engine forgot the ticket,
decided by a manager, its effect on the staff member's figures and the rating record; a
restart in between; and the daily run that gives unrated tickets the default level."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, datetime

from websockets.asyncio.client import ClientConnection, connect

from caller.core.config import HallConfig, parse_config
from caller.hub.server import HallClock, Hub
from caller.hub.store import Store
from caller.manager import record
from caller.manager.stats import compute_report, open_readonly
from tests.caller.halls import BASE, TZ, raw
from tests.caller.manager.test_stats_data import MONDAY, StoreDriver

ADMIN_TOKEN = "admin-token-for-tests"
DAY = date(2026, 11, 23)
WAIT = 10.0


def hall(**rating) -> HallConfig:
    devices = [*BASE["devices"], {"id": "admin", "role": "admin", "token": ADMIN_TOKEN}]
    return parse_config(raw(devices=devices, rating=rating))


def served_day(db, cfg: HallConfig) -> None:
    """Monday: S2 at window 2 gets 不满意 for B001 and 满意 for B002; S1 serves A001, which
    nobody rates. Every ticket is finished and forgotten by the engine."""
    d = StoreDriver(Store(db, synchronous="OFF"), cfg)
    d.at(MONDAY, 9, 0).login_all()
    d.issue("b")
    d.issue("b")
    d.issue("a")
    d.at(MONDAY, 9, 1).call("2")
    d.at(MONDAY, 9, 5).ok("finish", window="2")
    d.at(MONDAY, 9, 5, 5).ok("rate", window="2", level="dissatisfied")
    d.at(MONDAY, 9, 6).call("2")
    d.at(MONDAY, 9, 10).ok("finish", window="2")
    d.at(MONDAY, 9, 10, 5).ok("rate", window="2", level="satisfied")
    d.at(MONDAY, 9, 11).call("1")
    d.at(MONDAY, 9, 12).ok("finish", window="1")
    d.at(MONDAY, 9, 13).ok("tick")
    for wid in ("1", "2"):  # the next clerk's first call forgets the last finished ticket
        d.ok("logout", window=wid)
    d.store.close()


@contextlib.asynccontextmanager
async def hub_at(db, cfg: HallConfig, when: str) -> AsyncIterator[tuple[Hub, ClientConnection]]:
    hub = Hub(cfg, Store(db), HallClock(datetime.fromisoformat(when).replace(tzinfo=TZ)))
    port = await hub.start("127.0.0.1", 0)
    conn = await connect(f"ws://127.0.0.1:{port}/", open_timeout=WAIT)
    try:
        await conn.send(json.dumps({"type": "hello", "device": "admin", "token": ADMIN_TOKEN}))
        while json.loads(await conn.recv())["type"] != "welcome":
            pass
        yield hub, conn
    finally:
        await conn.close()
        await hub.stop()


async def ask(conn: ClientConnection, command: str, **args) -> dict:
    rid = f"{command}-{id(args)}-{len(args)}-{sorted(args.items())!r}"[:100]
    await conn.send(json.dumps({"type": command, "id": rid, **args}))
    async with asyncio.timeout(WAIT):
        while True:
            message = json.loads(await conn.recv())
            if message.get("type") == "reply" and message["id"] == rid:
                return message


def ticket_id(db, number: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id FROM tickets WHERE number = ?", (number,)).fetchone()[0]
    finally:
        conn.close()


def staff_row(db, cfg: HallConfig, staff: str) -> dict:
    conn = open_readonly(db)
    try:
        rep = compute_report(conn, DAY, DAY, config=cfg)
    finally:
        conn.close()
    return next(r for r in rep.groups["staff"] if r["key"] == staff) | {
        "window_bad": next(r for r in rep.groups["window"] if r["key"] == "2")["bad_ratings"],
        "ranking": {r["window"]: r for r in rep.ranking}}


def test_an_upheld_appeal_leaves_the_staff_figures_and_stays_in_the_record(tmp_path):
    db, cfg = tmp_path / "hall.db", hall()
    served_day(db, cfg)
    bad, good = ticket_id(db, "B001"), ticket_id(db, "B002")
    before = staff_row(db, cfg, "S2")
    assert (before["rated"], before["bad_ratings"], before["bad_rate"]) == (2, 1, 0.5)

    async def scenario() -> None:
        async with hub_at(db, cfg, "2026-11-24T10:00:00") as (hub, conn):
            assert bad not in hub.engine.tickets
            filed = await ask(conn, "appeal_file", ticket=bad, by="s2-account", reason="群众要求超出政策")
            assert filed["ok"], filed
            assert filed["appeal"]["state"] == "pending" and filed["appeal"]["staff"] == "S2"
            # refusals change nothing and say why
            again = await ask(conn, "appeal_file", ticket=bad, by="s2-account", reason="再次申诉")
            assert again["error"]["code"] == "already_appealed" and "B001" in again["error"]["message"]
            assert (await ask(conn, "appeal_file", ticket=good, by="x", reason="y"))["error"]["code"] \
                == "not_appealable"
            assert (await ask(conn, "appeal_file", ticket=99999, by="x", reason="y"))["error"]["code"] \
                == "unknown_ticket"
            assert (await ask(conn, "appeal_file", ticket=bad, by="x", reason="\x07"))["error"]["code"] \
                == "bad_request"
        async with hub_at(db, cfg, "2026-11-25T10:00:00") as (hub, conn):  # a restart between
            listed = await ask(conn, "list_appeals")
            assert [a["ticket_id"] for a in listed["appeals"]] == [bad]
            appeal = listed["appeals"][0]["id"]
            assert (await ask(conn, "appeal_decide", appeal=appeal, by="manager", decision="maybe",
                              note="-"))["error"]["code"] == "bad_request"
            decided = await ask(conn, "appeal_decide", appeal=appeal, by="manager", decision="uphold",
                                note="经核实，非工作人员原因")
            assert decided["ok"] and decided["appeal"]["state"] == "upheld", decided
            assert (await ask(conn, "appeal_decide", appeal=appeal, by="manager", decision="reject",
                              note="-"))["error"]["code"] == "unknown_appeal"
            assert (await ask(conn, "list_appeals"))["appeals"] == []

    asyncio.run(scenario())
    after = staff_row(db, cfg, "S2")
    assert (after["rated"], after["bad_ratings"], after["bad_rate"]) == (1, 0, 0.0)
    assert after["satisfaction_rate"] == 1.0
    assert (after["appeals"], after["appeals_upheld"]) == (1, 1)
    assert after["window_bad"] == 1  # the window's own row still shows what the citizen said
    assert after["ranking"]["2"]["satisfaction_rate"] == 1.0  # the ranking leaves it out
    conn = open_readonly(db)
    rows = {r.number: r for r in record.load_record(conn, DAY, DAY, cfg)}
    events = [json.loads(b)["event"] for (b,) in conn.execute("SELECT body FROM events ORDER BY seq")]
    conn.close()
    assert (rows["B001"].level, rows["B001"].appeal) == ("不满意", "申诉成立")
    assert rows["B002"].appeal == ""
    assert events.count("appeal_filed") == 1 and events.count("appeal_decided") == 1


def test_a_rejected_appeal_keeps_the_rating_in_the_staff_figures(tmp_path):
    db, cfg = tmp_path / "hall.db", hall()
    served_day(db, cfg)

    async def scenario() -> None:
        async with hub_at(db, cfg, "2026-11-24T10:00:00") as (_, conn):
            filed = await ask(conn, "appeal_file", ticket=ticket_id(db, "B001"), by="s2", reason="理由")
            decided = await ask(conn, "appeal_decide", appeal=filed["appeal"]["id"], by="manager",
                                decision="reject", note="证据不足")
            assert decided["appeal"]["state"] == "rejected"

    asyncio.run(scenario())
    row = staff_row(db, cfg, "S2")
    assert (row["bad_ratings"], row["appeals"], row["appeals_upheld"], row["appeal_rate"]) == (1, 1, 0, 1.0)


def unrated(db) -> dict[str, tuple]:
    conn = sqlite3.connect(db)
    try:
        return {n: (s, r, a) for n, s, r, a in conn.execute(
            "SELECT number, rating_status, rating, rated_at FROM tickets WHERE state = 'done'")}
    finally:
        conn.close()


async def settled(hub: Hub) -> None:
    await hub.settle_unrated()
    async with asyncio.timeout(WAIT):
        await hub._queue.join()  # the job went through the writer like any command


def test_the_daily_run_defaults_unrated_tickets_after_the_configured_days(tmp_path):
    db, cfg = tmp_path / "hall.db", hall(unrated="default", default_level="basic", default_after_days=7)
    served_day(db, cfg)

    async def scenario() -> None:
        async with hub_at(db, cfg, "2026-11-29T09:00:00") as (hub, _):  # six days on: not yet
            await settled(hub)
            assert unrated(db)["A001"] == ("timeout", None, None)
        async with hub_at(db, cfg, "2026-11-30T09:00:00") as (hub, _):
            await settled(hub)
            assert unrated(db)["A001"][:2] == ("default", "basic")
            await settled(hub)  # once a day: nothing more to do
            assert hub._defaults_done == "2026-11-30"

    asyncio.run(scenario())
    tickets = unrated(db)
    assert tickets["B001"] == ("rated", "dissatisfied", tickets["B001"][2])  # citizens' stay
    assert datetime.fromisoformat(tickets["A001"][2]).date() == date(2026, 11, 30)
    conn = sqlite3.connect(db)
    names = [n for (n,) in conn.execute("SELECT name FROM events WHERE name = 'rating_defaulted'")]
    conn.close()
    assert names == ["rating_defaulted"]
    row = staff_row(db, cfg, "S1")
    assert (row["rated"], row["defaulted"], row["rating_rate"], row["basic"]) == (0, 1, 0.0, 0)


def test_a_hall_that_keeps_unrated_tickets_never_defaults(tmp_path):
    db, cfg = tmp_path / "hall.db", hall()
    served_day(db, cfg)

    async def scenario() -> None:
        async with hub_at(db, cfg, "2026-12-30T09:00:00") as (hub, _):
            await settled(hub)

    asyncio.run(scenario())
    assert unrated(db)["A001"] == ("timeout", None, None)
