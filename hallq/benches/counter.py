"""How long a clerk waits after pressing call on a keypad: the key frame in (through a
pty) → counter bridge → hub → reply and events → the keypad's display frame out, as
the simulated keypad sees it.

    python -m hallq.benches.counter [PRESSES]

A pty does not slow bytes to 9600 baud: a real line adds the wire time of the press
(10 bytes), its echo (10) and the display frame (15), about 37 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from caller.core.client import HubClient
from caller.core.config import default_config_path, load_config
from caller.counter.bridge import CounterBridge
from caller.counter.rules import counter_settings
from drivers.bus.simulator import BusSimulator
from hallq.harness.hub import HubProcess

MONDAY_9AM = "2026-11-23T09:00:00+08:00"
WINDOW, ADDRESS, SERVICE = "3", 3, "labour"  # the demo hall: window 3 serves 劳动保障 first
WAIT_S = 20.0


async def press_to_display(hub_url: str, sim: BusSimulator, presses: int) -> list[float]:
    """Seconds from each call press at window 3 to its keypad showing the called ticket."""
    config = load_config(default_config_path())
    settings = counter_settings(config, "counter-a", port=str(sim.link))
    kiosk_device = config.devices["kiosk-1"]
    async with HubClient(hub_url, kiosk_device.id, kiosk_device.token) as kiosk, \
            CounterBridge(config, settings, hub_url) as bridge:
        await bridge.wait_ready(WAIT_S)
        for _ in range(presses):
            reply = await kiosk.request("issue_ticket", timeout=WAIT_S, service=SERVICE)
            if not reply["ok"]:
                raise RuntimeError(reply["error"]["message"])
        if not await asyncio.to_thread(sim.wait_for, lambda: sim.display(ADDRESS)
                                       == f"{presses:>6}", WAIT_S):
            raise RuntimeError(f"keypad shows {sim.display(ADDRESS)!r}")

        def one_press(shown: str) -> float:
            started = time.perf_counter()
            sim.press(ADDRESS, "call_next")
            if not sim.wait_for(lambda: sim.display(ADDRESS) == shown, WAIT_S):
                raise RuntimeError(f"keypad shows {sim.display(ADDRESS)!r}, not {shown!r}")
            return time.perf_counter() - started

        return [await asyncio.to_thread(one_press, f"{n:03d}{presses - n:>3}")
                for n in range(1, presses + 1)]


def measure(presses: int = 30) -> dict:
    with tempfile.TemporaryDirectory(prefix="hallq-bench-keypad-") as tmp, \
            HubProcess(default_config_path(), Path(tmp) / "hall.db", MONDAY_9AM) as hub, \
            BusSimulator(Path(tmp) / "bus", keypads=[ADDRESS], evaluators=[ADDRESS]) as sim:
        ms = sorted(s * 1000 for s in asyncio.run(press_to_display(hub.url, sim, presses)))
    return {"presses": presses, "median_ms": round(statistics.median(ms), 1),
            "min_ms": round(ms[0], 1), "max_ms": round(ms[-1], 1)}


def main(argv: list[str]) -> int:
    figures = measure(int(argv[0]) if argv else 30)
    print(f"keypad press → hub → display, {figures['presses']} presses through a pty: median "
          f"{figures['median_ms']} ms, min {figures['min_ms']} ms, max {figures['max_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
