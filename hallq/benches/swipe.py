"""How long a citizen waits from laying the ID card on the reader to the ticket: the
moment the simulated reader has the card, to the last byte of the raster ticket reaching
the virtual printer (80 mm), median over `n` swipes.

It runs the real programs, headless: a hub on loopback (hall clock Monday 09:00) with the
service taking ID cards (`id_required`), the kiosk on its confirm screen with the
simulated SAM reader on a pty at 115200 baud (answers paced at the baud rate: the read
answer alone is 1295 bytes, about 0.11 s) and the virtual printer `image://DIR`. The
figure includes the reader line's polling (every 0.25 s), find/select/read on the wire,
the hub's keyed hash and commit, and printing.

    .venv/bin/python -m hallq.benches.swipe --n 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from caller.core.config import default_config_path
from caller.core.personal import check_character, new_secret
from drivers.idcard.identities import make_card
from drivers.idcard.simulator import IdCardSimulator
from hallq.harness.hub import HubProcess
from hallq.harness.kiosk import KioskProcess

SERVICE = "family"  # 计生服务: no daily cap in the demo hall
HALL_MONDAY_9AM = "2026-11-23T09:00:00+08:00"


def _hall(work: Path, reader: Path, base: Path) -> Path:
    """The demo hall with the service taking ID cards and the kiosk's reader on `reader`."""
    text = base.read_text(encoding="utf-8")
    text = text.replace(f'id = "{SERVICE}"\n', f'id = "{SERVICE}"\nid_required = true\n', 1)
    text = text.replace('token = "demo-kiosk-1"\n', f'token = "demo-kiosk-1"\nidcard = "{reader}"\n', 1)
    new_secret(work / "hall.secret")
    path = work / "hall.toml"
    path.write_text(text + '\n[personal]\nsecret_file = "hall.secret"\n', encoding="utf-8")
    return path


def _steps(n: int) -> list[str]:
    steps = ["wait connected"]
    for i in range(1, n + 1):
        steps += [f"tap service:{SERVICE}", "wait screen confirm", f"shot confirm-{i}",
                  f"wait printed {i}", f"shot printed-{i}", "tap done", "wait screen home"]
    return steps


def measure(n: int = 30, hall: Path | None = None) -> dict:
    """Swipe `n` made-up cards on a headless kiosk (the demo hall, or `hall`); return the
    swipe-to-printed times in ms."""
    swiped: list[int] = []
    with tempfile.TemporaryDirectory(prefix="hallq-bench-swipe-") as tmp:
        work = Path(tmp)
        printer = work / "tickets"
        config = _hall(work, work / "idcard", hall or default_config_path())
        with IdCardSimulator(work / "idcard") as sim, \
                HubProcess(config, work / "hall.db", HALL_MONDAY_9AM,
                           extra=["--log-level", "WARNING"]) as hub, \
                KioskProcess(hub.url, work / "shots", _steps(n), printer=f"image://{printer}",
                             config=config) as kiosk:
            for i in range(1, n + 1):
                kiosk.wait_for_shot(f"confirm-{i}")
                first17 = f"110105198001{i % 28 + 1:02d}{i:03d}"
                swiped.append(time.time_ns())
                sim.present(make_card("测试", first17 + check_character(first17)))
                kiosk.wait_for_shot(f"printed-{i}")
                sim.remove()
                time.sleep(0.3)  # one poll sees the reader empty: the next card is a new swipe
            code, run = kiosk.finish(timeout=60 + 10 * n)
            if code != 0 or not run["ok"]:
                raise RuntimeError(f"the kiosk script failed: {run['error']}\n{kiosk.log()}")
        times = []
        for start, timing in zip(swiped, run["timings"], strict=True):
            [job] = printer.glob(f"*-{timing['number']}.bin")
            times.append((job.stat().st_mtime_ns - start) / 1e6)
    times.sort()
    return {"swipes": n, "baudrate": sim.baudrate, "median_ms": round(statistics.median(times), 1),
            "p90_ms": round(times[max(0, round(0.9 * n) - 1)], 1),
            "real_name": all(r.get("real_name") for r in run["replies"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hallq.benches.swipe",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="swipes (default 30)")
    parser.add_argument("--config", type=Path, help="the hall to start from (default: the demo hall)")
    args = parser.parse_args(argv)
    result = measure(args.n, args.config)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
