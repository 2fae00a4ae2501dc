"""A clerk's login at a keypad checked against the hall's roster (`[staff] roster_required`),
end to end: a real hub process, the simulated RS-485 line on a real pty, the real bridge.
A refused 工号 shows ``00000N`` on the keypad's digits (1: unknown, 2: disabled, 3: not
allowed at this window) with two beeps, and stays there, calling nothing, until a 工号 the
roster allows logs in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.caller.counter import test_counter as counter
from tests.caller.counter.test_counter import sim  # noqa: F401 - the fixture
from tests.hubproc import DEMO_CONFIG, HubProcess

pytestmark = pytest.mark.e2e


@pytest.fixture
def roster_hub(tmp_path: Path):
    config = tmp_path / "hall.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8")
                      + "\n[staff]\nroster_required = true\n", encoding="utf-8")
    with HubProcess(config, tmp_path / "hall.db") as hub:
        yield hub


async def seed_roster(admin) -> None:
    for staff_no, name, windows in (("1001", "王小红", []), ("1002", "李明", []),
                                    ("1003", "赵文静", ["1"])):
        reply = await admin.request("staff_save", timeout=counter.WAIT, staff_no=staff_no, name=name,
                                    windows=windows)
        assert reply["ok"], reply
    assert (await admin.request("staff_disable", timeout=counter.WAIT, staff_no="1002"))["ok"]


def test_a_keypad_login_the_roster_refuses_shows_why_until_an_allowed_one(roster_hub, sim):  # noqa: F811
    async def run() -> None:
        async with (counter.client(roster_hub, "kiosk-1") as kiosk,
                    counter.client(roster_hub, "admin") as admin):
            await seed_roster(admin)
            await counter.issue(kiosk, "labour")  # window 3 could call it
            async with counter.running_bridge(roster_hub, str(sim.link)):
                # the bridge's own login (K3 … K7) is on no roster: every keypad says so
                await counter.shows(sim, lambda: all(sim.display(a) == "000001" for a in (3, 4, 5, 6, 7)))
                assert sim.beeps(3) >= 2

                for staff_no, shown in (("1002", "000002"), ("9999", "000001"), ("1003", "000003")):
                    beeps = sim.beeps(3)
                    sim.press(3, "login", staff_no)
                    await counter.shows(sim, lambda shown=shown, beeps=beeps: (
                        sim.display(3) == shown and sim.beeps(3) >= beeps + 2))

                beeps = sim.beeps(3)
                sim.press(3, "call_next")  # nobody logged in: the bridge's own K3 is refused again
                await counter.shows(sim, lambda: sim.beeps(3) >= beeps + 2)
                await counter.shows(sim, lambda: sim.display(3) == "000001")
                windows = (await admin.request("snapshot", timeout=counter.WAIT))["snapshot"]["windows"]
                three = next(w for w in windows if w["id"] == "3")
                assert three["staff"] is None and three["ticket"] is None

                sim.press(3, "login", "1001")
                login = await counter.next_event(admin, "window_login", window="3")
                assert login["staff"] == "1001"
                await counter.shows(sim, lambda: sim.display(3) == "     1")  # the keypad's normal display
                assert sim.display(4) == "000001"  # the other windows still refused
                sim.press(3, "call_next")
                called = await counter.next_event(admin, "ticket_called", window="3")
                assert called["ticket"]["number"] == "B001"
                await counter.shows(sim, lambda: sim.display(3) == "001  0")
    asyncio.run(run())
