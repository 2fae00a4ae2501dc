"""Every keypad call press comes back on the keypad's display (the figure itself is
measured by `python -m hallq.benches.counter`; no test fails on a timing)."""

import asyncio

import pytest

from drivers.bus.simulator import BusSimulator
from hallq.benches.counter import ADDRESS, press_to_display


@pytest.mark.e2e
@pytest.mark.slow
def test_every_call_press_is_shown(hub_process, tmp_path):
    with BusSimulator(tmp_path / "bus", keypads=[ADDRESS], evaluators=[ADDRESS]) as sim:
        seconds = asyncio.run(press_to_display(hub_process.url, sim, 10))
    assert len(seconds) == 10
