"""The welcome's snapshot is built once and kept (encoded, per audience) until the state
changes: a device saying hello always gets the hall as it is now — after a ticket, a
login, a pause, and when a service opens with the minute, with no command in between."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from websockets.asyncio.client import connect

from caller.hub import server
from caller.hub.server import HallClock, Hub
from caller.hub.store import Store
from tests.faults.inproc import CONFIG, WAIT, raw_session, reply_to


async def welcome_of(url: str, device: str) -> dict:
    """The snapshot a device gets when it says hello now."""
    async with connect(url, compression=None, open_timeout=WAIT) as conn:
        await conn.send(json.dumps({"type": "hello", "device": device,
                                    "token": CONFIG.devices[device].token}))
        while True:
            message = json.loads(await asyncio.wait_for(conn.recv(), WAIT))
            if message["type"] == "welcome":
                return message["snapshot"]


def waiting(snapshot: dict, service: str) -> int:
    return next(s["waiting"] for s in snapshot["services"] if s["id"] == service)


def window(snapshot: dict, wid: str) -> dict:
    return next(w for w in snapshot["windows"] if w["id"] == wid)


async def hub_at(tmp_path, start: str) -> tuple[Hub, str]:
    hub = Hub(CONFIG, Store(tmp_path / "hall.db"), HallClock(datetime.fromisoformat(start)))
    port = await hub.start("127.0.0.1", 0)
    return hub, f"ws://127.0.0.1:{port}/"


def test_every_hello_sees_the_state_of_now(tmp_path):
    async def scenario() -> None:
        hub, url = await hub_at(tmp_path, "2026-11-23T09:00:00+08:00")
        try:
            first = await welcome_of(url, "wall-1")
            assert await welcome_of(url, "wall-1") == first  # nothing changed: the same
            kiosk = await raw_session(url, "kiosk-1")
            issued = await reply_to(kiosk, json.dumps({"type": "issue_ticket", "id": "k1",
                                                       "service": "civil"}))
            assert issued["ok"]
            after = await welcome_of(url, "wall-1")
            assert waiting(after, "civil") == waiting(first, "civil") + 1
            assert waiting(await welcome_of(url, "term-1"), "civil") == waiting(after, "civil")
            admin = await raw_session(url, "admin")
            login = await reply_to(admin, json.dumps({"type": "login", "id": "a1", "window": "1",
                                                      "staff": "1001"}))
            assert login["ok"]
            assert window(await welcome_of(url, "wall-1"), "1")["staff"] == "1001"
            paused = await reply_to(admin, json.dumps({"type": "pause", "id": "a2", "window": "1",
                                                       "reason": "休息"}))
            assert paused["ok"], paused
            assert window(await welcome_of(url, "term-1"), "1")["state"] == "paused"
            assert window(await welcome_of(url, "wall-1"), "1")["state"] == "paused"
            await kiosk.close()
            await admin.close()
        finally:
            await hub.stop()

    asyncio.run(scenario())


def test_a_service_opens_in_the_welcome_when_its_minute_comes(tmp_path, monkeypatch):
    # no tick either: only the turn of the minute can tell the kept snapshot is old
    monkeypatch.setattr(server, "TICK_S", 3600.0)

    async def scenario() -> None:
        hub, url = await hub_at(tmp_path, "2026-11-23T08:59:59+08:00")  # party opens at 09:00
        try:
            party = next(s for s in (await welcome_of(url, "wall-1"))["services"]
                         if s["id"] == "party")
            assert not party["open"]
            await asyncio.sleep(1.2)
            party = next(s for s in (await welcome_of(url, "wall-1"))["services"]
                         if s["id"] == "party")
            assert party["open"], party
        finally:
            await hub.stop()

    asyncio.run(scenario())
