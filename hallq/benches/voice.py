"""How long from a clerk pressing call to the wall's first audio sample.

    python -m hallq.benches.voice --calls 20

Starts a real hub and the real wall (`hallq display --headless --voice-out DIR`) on loopback,
presses call_next `n` times as terminal term-1 (each time after the previous call was spoken,
so no call waits behind another), and takes from the wall the moments it handled each
`ticket_called` event, handed the call's first audio sample to the sink, and finished writing
the WAV. Both processes read the same monotonic clock, so the spans are comparable. Reported:
medians and maxima in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from caller.core.cli import add_config_option
from caller.core.client import HubClient
from caller.core.config import default_config_path, load_config
from hallq.harness.hub import HubProcess
from hallq.harness.wall import WallProcess

START_TIME = "2026-11-23T09:00:00+08:00"  # a Monday morning: every service is open
WAIT_S = 120.0  # hang guard for each wait; each ends as soon as its condition holds
SPANS = {"press_to_event": "event_at", "press_to_first_sample": "first_sample_at",
         "press_to_written": "written_at"}


async def _press(hub_url: str, config: str, n: int, voice_dir: Path) -> dict[str, float]:
    """Issue n tickets, then call them one by one; return press time per ticket number."""
    cfg = load_config(config)
    pressed: dict[str, float] = {}
    async with HubClient(hub_url, "kiosk-1", cfg.devices["kiosk-1"].token) as kiosk, \
            HubClient(hub_url, "term-1", cfg.devices["term-1"].token) as term:
        for _ in range(n):
            await kiosk.request("issue_ticket", service="civil", timeout=10)
        await term.request("login", window="1", staff="9001", timeout=10)
        for _ in range(n):
            started = time.monotonic()
            reply = await term.request("call_next", window="1", timeout=10)
            number = reply["ticket"]["number"]
            pressed[number] = started
            deadline = time.monotonic() + WAIT_S
            while not any(voice_dir.glob(f"*-{number}-0.wav")):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{number} was never spoken")
                await asyncio.sleep(0.01)
    return pressed


def measure(n: int = 20, config: str | None = None) -> dict:
    """Press call n times; return the spans (ms) from press to event, first sample, WAV written."""
    config = config or str(default_config_path())
    with tempfile.TemporaryDirectory(prefix="hallq-bench-voice-") as tmp:
        work = Path(tmp)
        hub = HubProcess(Path(config), work / "hall.db", START_TIME,
                         extra=["--log-level", "WARNING"]).start()
        url = hub.url
        wall = None
        try:
            wall = WallProcess(url, work / "wall", "--size", "960x540", "--voice-out",
                               str(work / "voice"), config=config)
            wall.step("ready", {"connected": True, "voice.ready": True}, timeout=WAIT_S)
            pressed = asyncio.run(_press(url, config, n, work / "voice"))
            done = wall.step("done", {"voice.spoken": n, "voice.idle": True}, timeout=WAIT_S)
        finally:
            if wall is not None:
                wall.close()
            hub.stop()
    spans: dict[str, list[float]] = {name: [] for name in SPANS}
    for timing in done["timings"]:
        start = pressed.get(timing["number"])
        if start is None or timing["recalls"]:
            continue
        for name, key in SPANS.items():
            spans[name].append((timing[key] - start) * 1000)
    return {
        "calls": n,
        "measured": len(spans["press_to_written"]),
        "median_ms": {k: round(statistics.median(v), 1) for k, v in spans.items() if v},
        "max_ms": {k: round(max(v), 1) for k, v in spans.items() if v},
        "voice": done["status"]["voice"],
        "cpus": os.cpu_count(),
        "command": f"python -m hallq.benches.voice --calls {n}",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hallq.benches.voice", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20)
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = measure(args.calls, args.config)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    med, top = result["median_ms"], result["max_ms"]
    print(f"{result['measured']} calls, {result['cpus']} CPUs ({result['command']})")
    print(f"  call pressed -> ticket_called on the wall:  median {med['press_to_event']:7.1f} ms"
          f"  max {top['press_to_event']:7.1f} ms")
    print(f"  call pressed -> first audio sample:         median "
          f"{med['press_to_first_sample']:7.1f} ms  max {top['press_to_first_sample']:7.1f} ms")
    print(f"  call pressed -> WAV written:                median {med['press_to_written']:7.1f} ms"
          f"  max {top['press_to_written']:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
