"""Finding 7: replay on hello is bounded and streamed. A device up to `REPLAY_MAX` events
behind gets them all, in order, filtered for its role, followed by live events with no gap;
one further behind gets the snapshot only (`replay: false`)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from caller.core.client import HubClient
from caller.core.config import load_config
from caller.hub.engine import Changes
from caller.hub.store import Store
from tests.faults.inproc import WAIT
from tests.hubproc import DEMO_CONFIG, MONDAY_9AM, HubProcess

REPLAY_MAX = 10_000  # as docs/protocol.md states
STORED = REPLAY_MAX + 2_000
WITHHELD = "withheld"


def stored_history(db) -> None:
    """A store that already holds STORED events: notices (public) and alerts (admins only)."""
    store = Store(db)
    store.load_engine(load_config(DEMO_CONFIG), datetime.fromisoformat(MONDAY_9AM))
    events = [{"event": "notice_changed", "text": f"通知 {n}"} if n % 2 else
              {"event": "alert", "kind": "printer_fault", "message": "缺纸", "alert_id": n}
              for n in range(STORED)]
    store.commit(Changes([], [], [], None), events, datetime.fromisoformat(MONDAY_9AM))
    store.close()


def test_replay_is_bounded_filtered_and_followed_by_live_events(tmp_path):
    db = tmp_path / "hall.db"
    stored_history(db)
    hub = HubProcess(DEMO_CONFIG, db).start()
    got: list[dict] = []

    async def scenario() -> tuple[dict, dict]:
        since = STORED - 1_500
        async with HubClient(hub.url, "kiosk-1", "demo-kiosk-1", since=since,
                             on_event=got.append) as kiosk:
            async with asyncio.timeout(WAIT):
                while (kiosk.last_seq or 0) < STORED:
                    await asyncio.sleep(0.02)
            reply = await kiosk.request("issue_ticket", timeout=WAIT, service="civil")
            assert reply["ok"]
            async with asyncio.timeout(WAIT):
                while (kiosk.last_seq or 0) < STORED + 2:
                    await asyncio.sleep(0.02)
            assert kiosk.gaps == 0
            welcome = kiosk.welcome
        async with HubClient(hub.url, "wall-1", "demo-wall-1", since=1) as far_behind:
            return welcome, far_behind.welcome

    try:
        welcome, far = asyncio.run(scenario())
    finally:
        hub.stop()
    assert welcome["replay"] is True and far["replay"] is False and far["snapshot"]
    assert [e["seq"] for e in got] == list(range(STORED - 1_499, STORED + 3))
    replayed = got[:1_500]
    assert {e["event"] for e in replayed} == {"notice_changed", WITHHELD}
    assert all(e["event"] == WITHHELD for e in replayed if e["seq"] % 2)  # the alerts
