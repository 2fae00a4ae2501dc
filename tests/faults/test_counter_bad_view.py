"""One window's odd state from the hub never stops the counter bridge: the other keypads
show theirs, every window is logged in, and the manager hears which keypad could not.

The real bridge drives keypads simulated on a pty; the hub is scripted (tests/faults/
scripted_hub.py) so it can send what the real hub never would."""

from __future__ import annotations

import asyncio
from pathlib import Path

from caller.core.config import load_config
from caller.counter.bridge import CounterBridge
from caller.counter.rules import counter_settings
from drivers.bus.simulator import BusSimulator
from tests.faults.scripted_hub import ScriptedHub
from tests.hubproc import DEMO_CONFIG

CFG = load_config(DEMO_CONFIG)
ADDRESSES = [3, 4, 5, 6, 7]
WAIT = 10.0  # generous: only reached when something is broken


def window(wid: str, staff: str | None = None, waiting: object = 0, number: object = None) -> dict:
    ticket = {"id": int(wid), "number": number} if number is not None else None
    return {"id": wid, "staff": staff, "state": "idle" if staff else "closed", "waiting": waiting,
            "ticket": ticket, "held": []}


def test_a_window_the_keypad_cannot_show_is_reported_and_the_others_go_on(tmp_path: Path) -> None:
    snapshot = {"windows": [window("3", "K3", waiting=-1), window("4", "K4", number=1234),
                            window("5", "K5", waiting=3, number="A042"), window("6"), window("7")]}

    async def run() -> None:
        with BusSimulator(tmp_path / "counter-a", keypads=ADDRESSES) as sim:
            settings = counter_settings(CFG, "counter-a", port=str(sim.link))
            async with ScriptedHub(snapshot) as hub, CounterBridge(CFG, settings, hub.url) as bridge:
                await bridge.wait_ready(WAIT)  # windows 6 and 7 were logged in
                assert await asyncio.to_thread(sim.wait_for, lambda: sim.display(5) == "042  3", WAIT)
                alert = await hub.request("report_alert", WAIT)
                assert alert["kind"] == "device_offline" and "窗口 3" in alert["message"]
                alert = await hub.request("report_alert", WAIT)
                assert alert["kind"] == "device_offline" and "窗口 4" in alert["message"]
                assert sim.display(3) == "     0" and sim.display(4) == "     0"  # the last good view

                snapshot["windows"][0] = window("3", "K3", waiting=2)  # the hub gets it right again
                await hub.event("queue_changed")
                assert await asyncio.to_thread(sim.wait_for, lambda: sim.display(3) == "     2", WAIT)
                back = await hub.request("report_alert", WAIT)
                assert back["kind"] == "device_online" and "窗口 3" in back["message"]

    asyncio.run(run())
