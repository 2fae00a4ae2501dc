"""10,000 malformed or unauthorised websocket messages from several connections at once:
the hub answers each with the refusal the protocol promises, in Chinese, and nothing in
the hall changes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from caller.core.client import HubClient
from tests.faults.bad_messages import SESSIONS, UNHASHABLE, BadMessages, Case
from tests.hubproc import HubProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

COUNT = 10_000
SEED = 9
WAIT = 20.0  # only reached when the hub hangs


def hello(role: str) -> str:
    device, token, _ = SESSIONS[role]
    return json.dumps({"type": "hello", "device": device, "token": token})


async def open_session(url: str, role: str) -> ClientConnection:
    conn = await connect(url, max_size=None, compression=None, open_timeout=WAIT)
    await conn.send(hello(role))
    welcome = json.loads(await asyncio.wait_for(conn.recv(), WAIT))
    assert welcome["type"] == "welcome", welcome
    return conn


async def answer(conn: ClientConnection, frame: str | bytes, events: list[dict]) -> dict:
    """Send ``frame``; the reply to it (events arriving meanwhile go to ``events``)."""
    await conn.send(frame)
    while True:
        message = json.loads(await asyncio.wait_for(conn.recv(), WAIT))
        if message.get("type") == "reply":
            return message
        events.append(message)


async def close_code(url: str, case: Case) -> int | None:
    """The code the hub closes a connection of its own with, after ``case``'s frames."""
    async with connect(url, max_size=None, compression=None, open_timeout=WAIT) as conn:
        try:
            await conn.send(case.hello if case.hello is not None else hello(case.role))
            if case.hello is None:
                assert json.loads(await asyncio.wait_for(conn.recv(), WAIT))["type"] == "welcome"
                await conn.send(case.frame)
            while True:
                await asyncio.wait_for(conn.recv(), WAIT)
        except ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None


def chinese(text: object) -> bool:
    return isinstance(text, str) and any("\u4e00" <= c <= "\u9fff" for c in text)


def describe(case: Case, got: object) -> str:
    frame = case.hello if case.own_connection and case.hello is not None else case.frame
    return f"{case.kind} ({case.role}): expected {case.code}, got {got}; frame {frame[:100]!r}"


def stored(db: Path) -> tuple[int, int, int]:
    """Tickets, events and remembered replies in the hub's database."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        counts = tuple(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                       for table in ("tickets", "events", "requests"))
    conn.close()
    return counts


def hub_seq(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=WAIT) as r:
        return json.loads(r.read())["seq"]


def test_ten_thousand_bad_messages_are_refused_and_change_nothing(hub_process: HubProcess):
    cases = BadMessages(SEED).cases(COUNT)
    url = hub_process.url
    wrong: list[str] = []
    events: list[dict] = []

    async def on_session(role: str, mine: list[Case]) -> None:
        conn = await open_session(url, role)
        try:
            for case in mine:
                try:
                    reply = await answer(conn, case.frame, events)
                except ConnectionClosed as e:
                    wrong.append(describe(case, f"connection closed ({e.rcvd.code if e.rcvd else None})"))
                    conn = await open_session(url, role)
                    continue
                error = reply.get("error") or {}
                if (reply.get("ok") is not False or error.get("code") != case.code
                        or reply.get("id") != case.reply_id or not chinese(error.get("message"))):
                    wrong.append(describe(case, reply))
        finally:
            await conn.close()

    async def on_own_connections(mine: list[Case]) -> None:
        for case in mine:
            code = await close_code(url, case)
            if code != case.code:
                wrong.append(describe(case, f"close code {code}"))

    async def scenario() -> tuple[dict, dict, int, tuple[int, int, int]]:
        # Some state worth keeping: waiting tickets, and window 8 serving one.
        async with (HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk,
                    HubClient(url, "term-8", "demo-term-8") as term):
            for service in ("civil", "labour", "family", "civil", "green"):
                assert (await kiosk.request("issue_ticket", timeout=WAIT, service=service))["ok"]
            assert (await term.request("login", timeout=WAIT, staff="1008"))["ok"]
            assert (await term.request("call_next", timeout=WAIT))["ok"]
        seq = await asyncio.to_thread(hub_seq, hub_process.port)
        counts = await asyncio.to_thread(stored, hub_process.db)
        admin = await open_session(url, "admin")
        before = await answer(admin, json.dumps({"type": "snapshot", "id": "before"}), events)
        by_role = {role: [c for c in cases if c.role == role and not c.own_connection] for role in SESSIONS}
        own = [c for c in cases if c.own_connection]
        halves = own[::2], own[1::2]
        await asyncio.gather(*(on_session(role, mine) for role, mine in by_role.items()),
                             *(on_own_connections(half) for half in halves))
        after = await answer(admin, json.dumps({"type": "snapshot", "id": "after"}), events)
        await admin.close()
        return before, after, seq, counts

    before, after, seq, counts = asyncio.run(scenario())
    assert not wrong, f"{len(wrong)} of {COUNT} messages got the wrong answer:\n" + "\n".join(wrong[:15])
    assert events == [], "something happened in the hall"
    assert before["ok"] and after["snapshot"] == before["snapshot"]
    assert hub_process.proc.poll() is None, "the hub died"
    assert hub_seq(hub_process.port) == seq
    assert stored(hub_process.db) == counts


def test_a_type_that_is_a_list_or_an_object_is_refused_and_the_connection_stays(hub_process: HubProcess):
    cases = [c for c in BadMessages(SEED, types=UNHASHABLE).cases(2_000) if c.kind == "no type"]
    assert cases

    async def scenario() -> list[dict]:
        sessions = {role: await open_session(hub_process.url, role) for role in SESSIONS}
        try:
            return [await answer(sessions[c.role], c.frame, []) for c in cases]
        finally:
            for conn in sessions.values():
                await conn.close()

    replies = asyncio.run(scenario())
    assert [(r["id"], r["error"]["code"]) for r in replies] == [(c.reply_id, "bad_request") for c in cases]
