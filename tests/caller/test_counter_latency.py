"""How long a clerk waits after pressing call: keypad frame in (through the pty) → bridge →
hub → reply and events → keypad display frame out, as the simulated keypad sees it.

    .venv/bin/python -m tests.caller.test_counter_latency [PRESSES]

starts a hub and a simulated line, presses call PRESSES times (default 30) and prints the
median and the spread. A pty does not slow bytes down to 9600 baud: a real line adds the
wire time of the press (10 bytes), its echo (10) and the display frame (15), about 37 ms.
Under pytest the same run only checks that every press was shown (no test fails on a timing).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

from drivers.sim.bus import BusSimulator
from tests.caller.test_counter import ADDRESSES, WAIT, client, issue, running_bridge, shows
from tests.hubproc import DEMO_CONFIG, HubProcess


async def press_to_display(hub: HubProcess, sim: BusSimulator, presses: int) -> list[float]:
    """Seconds from each call press at window 3 to its keypad showing the called ticket."""
    async with client(hub, "kiosk-1") as kiosk, running_bridge(hub, str(sim.link)):
        await issue(kiosk, "labour", presses)
        await shows(sim, lambda: sim.display(3) == f"{presses:>6}")

        def one_press(shown: str) -> float:
            started = time.perf_counter()
            sim.press(3, "call_next")
            assert sim.wait_for(lambda: sim.display(3) == shown, WAIT), sim.display(3)
            return time.perf_counter() - started

        return [await asyncio.to_thread(one_press, f"{n:03d}{presses - n:>3}")
                for n in range(1, presses + 1)]


@pytest.mark.e2e
@pytest.mark.slow
def test_every_call_press_is_shown(hub_process, tmp_path):
    with BusSimulator(tmp_path / "bus", keypads=ADDRESSES, evaluators=ADDRESSES) as sim:
        seconds = asyncio.run(press_to_display(hub_process, sim, 30))
    assert len(seconds) == 30
    print(f"keypad press → display: median {statistics.median(seconds) * 1000:.1f} ms")


def main(argv: list[str]) -> int:
    presses = int(argv[0]) if argv else 30
    with (tempfile.TemporaryDirectory() as tmp,
          HubProcess(DEMO_CONFIG, Path(tmp) / "hall.db") as hub,
          BusSimulator(Path(tmp) / "bus", keypads=ADDRESSES, evaluators=ADDRESSES) as sim):
        seconds = sorted(asyncio.run(press_to_display(hub, sim, presses)))
    ms = [s * 1000 for s in seconds]
    print(f"keypad press → hub → display, {presses} presses through a pty: "
          f"median {statistics.median(ms):.1f} ms, min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
