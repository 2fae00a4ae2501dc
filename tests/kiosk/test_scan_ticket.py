"""A citizen holds a ticket's QR code to the kiosk's scanner: the real kiosk asks the real
hub and shows where that ticket stands now (people ahead, then the window it is called to);
a number never issued gets a clear sentence; the kiosk goes on taking numbers."""

from __future__ import annotations

import asyncio

from caller.core.client import HubClient
from tests.hubproc import DEMO_CONFIG, MONDAY_9AM, HubProcess
from tests.kiosk.kioskproc import KioskProcess


def steps(day: str) -> list[str]:
    scan = f"keys hallq:ticket:{day}"
    return [
        "wait connected", "tap service:family", "wait screen confirm", "tap confirm",
        "wait screen result", "tap done", "wait screen home",
        f"{scan}:C001", "wait screen ticket_state", "wait text 下一位就是您", "shot scan-waiting",
        "tap home", "wait screen home", "shot cue-call",
        "sleep 1", f"{scan}:C001", "wait text 请到2号窗口办理", "shot scan-called", "tap home",
        "wait screen home", f"{scan}:C999", "wait screen refused", "shot scan-no-such",
        "tap home", "wait screen home", "tap service:family", "wait screen confirm",
    ]


async def call_at_window_2(url: str) -> None:
    admin = HubClient(url, "admin", "demo-admin")
    await admin.start()
    try:
        assert (await admin.request("login", window="2", staff="S2"))["ok"]
        assert (await admin.request("call_next", window="2"))["ticket"]["number"] == "C001"
    finally:
        await admin.close()


def test_a_scanned_ticket_shows_its_live_state(tmp_path) -> None:
    day = MONDAY_9AM[:10]  # the test hub's business day
    with HubProcess(DEMO_CONFIG, tmp_path / "hall.db") as hub, \
            KioskProcess(tmp_path, hub.url, steps(day)) as kiosk:
        kiosk.wait_for_shot("cue-call")
        asyncio.run(call_at_window_2(hub.url))
        run = kiosk.finish()
    waiting = run.shot("scan-waiting")
    assert waiting["widgets"]["state_number"]["text"] == "C001"
    assert "今天没有 C999 号" in repr(run.shot("scan-no-such"))
