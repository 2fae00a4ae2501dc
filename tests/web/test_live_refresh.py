"""After a console action the page drawn next shows it done, even when a refresh woken by
the action's own events is already running (a manager acknowledged an alert and still
saw it open: the running refresh had taken the alerts' flag, its answer not yet back)."""

from __future__ import annotations

import asyncio

from caller.core.config import load_config
from tests.hubproc import DEMO_CONFIG
from web.live import Hall

OPEN = {"id": 1, "kind": "bad_rating", "at": "2026-12-03T09:00:00+08:00", "message": "非常不满意",
        "window": "1", "ticket_number": "A001", "device": None, "acknowledged_at": None,
        "acknowledged_by": None}


class SlowFirstAnswerHub:
    """Answers `list_alerts` from the hub's state when asked, the first answer late."""

    connected = True
    fatal = None

    def __init__(self) -> None:
        self.alerts = [OPEN]
        self.asked = 0

    async def request(self, kind: str, timeout: float | None = None, **_: object) -> dict:
        if kind == "snapshot":
            await asyncio.sleep(0)
            return {"ok": False, "error": {"code": "busy", "message": ""}}
        self.asked += 1
        alerts = list(self.alerts)  # as the hub had them when it was asked
        await asyncio.sleep(0.3 if self.asked == 1 else 0)
        return {"ok": True, "alerts": alerts}


def test_the_refresh_after_an_action_waits_for_the_alerts_as_they_are_now() -> None:
    async def scenario() -> None:
        hall = Hall(load_config(DEMO_CONFIG), "web-1", "ws://127.0.0.1:9/", "demo-web-1", None)
        hub = SlowFirstAnswerHub()
        hall.client = hub
        hall.alerts = [OPEN]
        hub.alerts = []  # the manager acknowledged it: the hub committed, its event arrived
        hall._alerts_dirty = True
        running = asyncio.create_task(hall._refresh())  # the refresh the event woke
        await asyncio.sleep(0)
        await hall.refresh()  # the action's own, before the page is drawn again
        assert [a["id"] for a in hall.view()["alerts"]] == []
        await running
        assert hall.alerts == []
    asyncio.run(scenario())
