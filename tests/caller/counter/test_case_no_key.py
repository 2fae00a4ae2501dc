"""The 办件编号 keyed on a keypad: digits before the finish key reach the hub as the
finished ticket's case number (a real hub, the simulated line on a pty, the real bridge)."""

from __future__ import annotations

import asyncio

import pytest

from caller.counter.rules import WindowView, plan_key
from drivers.bus.ft12 import FrameParser
from drivers.bus.models import DEFAULT_KEYPAD, KeypadAction, decode_keypad, keypad_press
from tests.caller.counter.test_counter import (
    CFG,
    client,
    issue,
    next_event,
    running_bridge,
    shows,
    sim,  # noqa: F401 - the fixture
)


def test_digits_before_finish_decode_and_plan_as_the_case_number():
    frame = next(iter(FrameParser().feed(keypad_press(5, "finish", "20261123007"))))
    action = decode_keypad(frame, DEFAULT_KEYPAD)
    assert action == KeypadAction(5, "finish", "20261123007")
    plan = plan_key(action, "5", WindowView(), CFG)
    assert plan is not None and plan.commands == (("finish", {"case_no": "20261123007"}),)
    plain = plan_key(KeypadAction(5, "finish"), "5", WindowView(), CFG)
    assert plain is not None and plain.commands == (("finish", {}),)


@pytest.mark.e2e
def test_a_case_number_keyed_on_the_keypad_is_kept_with_the_ticket(hub_process, sim):  # noqa: F811
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link))):
            await issue(kiosk, "labour")
            sim.press(3, "call_next")
            await shows(sim, lambda: sim.display(3) == "001  0")
            sim.press(3, "finish", "330106001")
            done = await next_event(admin, "ticket_finished")
            assert done["ticket"]["number"] == "B001" and done["ticket"]["case_no"] == "330106001"
            await shows(sim, lambda: sim.evaluator_lit(3))
    asyncio.run(run())
