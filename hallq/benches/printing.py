"""How long a citizen waits for the ticket: from tapping 确认取号 to the last byte of the
raster ticket reaching the printer (80 mm), median over `n` tickets.

It runs the real programs, headless: a hub on loopback (hall clock Monday 09:00) and the
kiosk with the virtual printer `image://DIR`, driven by a script that takes `n` numbers
one after another. The tap time is taken in the kiosk when the button fires; the last
byte is when the virtual printer has the whole job (its `.bin` file's modification time,
kernel clock granularity, a few ms at most). The time until the kiosk learns the result
(`PrintResult`) is reported too; it includes the virtual printer drawing its PNG.

    .venv/bin/python -m hallq.benches.printing --n 50
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from caller.core.config import default_config_path
from hallq.harness.hub import HubProcess
from hallq.harness.kiosk import KioskProcess

SERVICE = "family"  # 计生服务: no daily cap in the demo hall
HALL_MONDAY_9AM = "2026-11-23T09:00:00+08:00"


def _steps(n: int) -> list[str]:
    steps = ["wait connected"]
    for i in range(1, n + 1):
        steps += [f"tap service:{SERVICE}", "wait screen confirm", "tap confirm",
                  f"wait printed {i}", "tap done", "wait screen home"]
    return steps


def _ms(ns: list[int]) -> dict:
    ms = sorted(v / 1e6 for v in ns)
    return {"median": round(statistics.median(ms), 1),
            "p90": round(ms[max(0, round(0.9 * len(ms)) - 1)], 1),
            "min": round(ms[0], 1), "max": round(ms[-1], 1)}


def measure(n: int = 50) -> dict:
    """Take `n` numbers on a headless kiosk; return the tap-to-printed times in ms."""
    with tempfile.TemporaryDirectory(prefix="hallq-bench-print-") as tmp:
        work = Path(tmp)
        printer = work / "tickets"
        with HubProcess(default_config_path(), work / "hall.db", HALL_MONDAY_9AM,
                        extra=["--log-level", "WARNING"]) as hub, \
                KioskProcess(hub.url, work / "shots", _steps(n),
                             printer=f"image://{printer}") as kiosk:
            code, run = kiosk.finish(timeout=60 + 10 * n)
            if code != 0 or not run["ok"]:
                raise RuntimeError(f"the kiosk script failed: {run['error']}\n{kiosk.log()}")
        to_reply, to_last_byte, to_result, sizes = [], [], [], []
        for timing in run["timings"]:
            [job] = printer.glob(f"*-{timing['number']}.bin")
            to_reply.append(timing["reply_ns"] - timing["tap_ns"])
            to_last_byte.append(job.stat().st_mtime_ns - timing["tap_ns"])
            to_result.append(timing["done_ns"] - timing["tap_ns"])
            sizes.append(job.stat().st_size)
    if len(to_last_byte) != n:
        raise RuntimeError(f"{len(to_last_byte)} of {n} tickets printed")
    return {"tickets": n, "paper_mm": 80, "mode": "raster", "printer": "image:// (virtual)",
            "ticket_bytes": int(statistics.median(sizes)), "tap_to_hub_reply_ms": _ms(to_reply),
            "tap_to_last_byte_ms": _ms(to_last_byte), "tap_to_print_result_ms": _ms(to_result)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hallq.benches.printing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50, help="tickets to take (default 50)")
    args = parser.parse_args(argv)
    result = measure(args.n)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    last = result["tap_to_last_byte_ms"]
    print(f"tap -> last printer byte, raster 80 mm: median {last['median']} ms "
          f"(p90 {last['p90']} ms) over {result['tickets']} tickets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
