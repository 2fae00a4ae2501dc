"""Finding 1 and the door: a lone UTF-16 surrogate (valid ASCII JSON: "\\ud800"), control
characters, decomposed text, oversize fields, huge numbers and deep nesting are refused
with `bad_request` naming the field, nothing of them is stored, and the hall keeps working."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from caller.core.client import HubClient
from tests.faults.inproc import WAIT, raw_session, reply_to
from tests.hubproc import HubProcess


def refused(reply: dict, field: str) -> bool:
    error = reply.get("error") or {}
    return reply["ok"] is False and error.get("code") == "bad_request" and field in error["message"]


def test_a_lone_surrogate_is_refused_and_the_hall_keeps_working(hub_process: HubProcess):
    seen: list[int] = []

    async def scenario() -> None:
        term = await raw_session(hub_process.url, "term-1")
        kiosk = await raw_session(hub_process.url, "kiosk-1")
        async with HubClient(hub_process.url, "admin", "demo-admin",
                             on_event=lambda e: seen.append(e["seq"])) as admin:
            login = '{"type":"login","id":"x","window":"1","staff":"\\ud800"}'
            assert refused(await reply_to(term, login), "staff")
            issue = '{"type":"issue_ticket","id":"y","service":"civil","lang":"\\ud800"}'
            assert refused(await reply_to(kiosk, issue), "lang")
            assert refused(await reply_to(kiosk, '{"type":"snapshot","id":"\\udfff"}'), "id")
            # The hall goes on: a new connection is welcomed, commands commit and broadcast.
            async with HubClient(hub_process.url, "term-1", "demo-term-1") as t:
                assert (await t.request("login", timeout=WAIT, staff="1001"))["ok"]
            ticket = await reply_to(kiosk, '{"type":"issue_ticket","id":"z","service":"civil"}')
            assert ticket["ok"] and ticket["ticket"]["number"] == "A001"
            while (admin.last_seq or 0) < 3:
                await asyncio.sleep(0.05)
            assert admin.gaps == 0
        await term.close()
        await kiosk.close()

    asyncio.run(scenario())
    with sqlite3.connect(hub_process.db) as db:
        assert db.execute("SELECT number, lang FROM tickets").fetchall() == [("A001", "zh")]
        assert db.execute("SELECT staff FROM windows WHERE id = '1'").fetchone() == ("1001",)
    db.close()


def test_text_is_checked_normalised_and_bounded_per_field(hub_process: HubProcess):
    async def scenario() -> None:
        term = await raw_session(hub_process.url, "term-1")
        admin = await raw_session(hub_process.url, "admin")

        async def send(conn, **message: object) -> dict:
            return await reply_to(conn, json.dumps(message))

        assert refused(await send(term, type="login", id="a", staff="10\x0701"), "staff")
        assert refused(await send(term, type="login", id="b", staff="1" * 33), "staff")
        assert refused(await send(admin, type="set_notice", id="c", text="\x1b[2J停电"), "text")
        assert refused(await send(admin, type="ack_alert", id="d", alert=-1, by="值班长"), "alert")
        digits = '{"type":"ack_alert","id":"e","by":"x","alert":' + "9" * 5000 + "}"
        reply = await reply_to(admin, digits)
        assert reply["error"]["code"] == "bad_request"
        # Decomposed text is stored composed (NFC); a line break is fine in free text.
        assert (await send(term, type="login", id="f", staff="Jose\u0301"))["staff"] == "José"
        notice = await send(admin, type="set_notice", id="g", text="今日\n下午停电")
        assert notice["ok"] and notice["text"] == "今日\n下午停电"
        await term.close()
        await admin.close()

    asyncio.run(scenario())


def test_pre_auth_garbage_closes_with_4400_and_one_short_log_line(hub_process: HubProcess):
    async def close_code(first: str) -> int | None:
        async with connect(hub_process.url, max_size=None, open_timeout=WAIT) as conn:
            await conn.send(first)
            try:
                await asyncio.wait_for(conn.recv(), WAIT)
            except ConnectionClosed as e:
                return e.rcvd.code if e.rcvd else None
        return None

    before = hub_process.log_path.read_text()
    assert asyncio.run(close_code("[" * 60_000)) == 4400
    long_id = json.dumps({"type": "hello", "device": "k" * 60_000, "token": "x"})
    assert asyncio.run(close_code(long_id)) == 4400
    for _ in range(100):  # the hub logs just after closing
        lines = hub_process.log_path.read_text()[len(before):].splitlines()
        if len(lines) >= 2:
            break
        time.sleep(0.05)
    assert len(lines) == 2 and all(len(line) < 400 for line in lines), lines
    assert "Traceback" not in "".join(lines)
