"""`hallq bench`: measure the hub against the hall's goals, with real processes.

A generated hall (200 windows, 30 services) runs in a real hub process on loopback;
the load comes from real websocket connections in this process, speaking the protocol
only. Throughput and latency are here, the misbehaving-client figures in
`hallq.benches.hub`, the hub's CPU cost and its profiles in `hallq.benches.cpu`. Figures
print as a table beside their goals and, with --json, go to a file. Nothing here asserts.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hallq.benches import central as bench_central
from hallq.benches import county as bench_county
from hallq.benches import cpu as bench_cpu
from hallq.benches import hub as bench_hub
from hallq.benches import record as bench_record
from hallq.benches import ship as bench_ship
from hallq.benches.hall import SERVICES, WINDOWS, fill_store, generated_hall
from hallq.benches.wire import CallLoad, close_all, device, devices, issue_tickets, kiosk_names, percentile
from hallq.harness.hub import HubProcess

CALL_DISPLAYS = 50


def _within(key: str, margin: float) -> Callable[[float, dict], bool]:
    return lambda v, results: results.get(key) is not None and v <= results[key] + margin


# figure -> (goal as printed, whether a value meets it given all the figures)
GOALS: dict[str, tuple[str, Callable[[Any, dict], bool] | None]] = {
    "issue_per_s": ("≥ 1000 tickets/s", lambda v, _: v >= 1000),
    "call_p50_ms": ("", None),
    "call_p99_ms": ("< 20 ms", lambda v, _: v < 20),
    "rss_mb": ("< 150 MB", lambda v, _: v < 150),
    "restart_s": ("< 2 s", lambda v, _: v < 2),
    "slow_client_rss_growth_mb": ("< 20 MB", lambda v, _: v < 20),
    "replay_baseline_call_p99_ms": ("no replay", None),
    "replay_others_call_p99_ms": ("≤ baseline + 2 ms", _within("replay_baseline_call_p99_ms", 2)),
    "replay_hello_welcome_ms": ("replaying client", None),
    "reconnect_storm_s": ("≤ 2 s", lambda v, _: v <= 2),
    "cpu_ms_per_ticket": ("< 0.25 ms of hub CPU", lambda v, _: v < 0.25),
    "cpu_ms_per_ticket_loop": ("its event loop's", None),
    "cpu_ms_per_call": ("< 0.1 ms, 50 walls", lambda v, _: v < 0.1),
    "cpu_ms_per_call_loop": ("its event loop's", None),
    "cpu_ms_per_hello": ("hub CPU", None),
    "cpu_ms_per_idle_conn_min": ("hub CPU", None),
    "keypad_ms": ("pty, no wire time", None),
    "voice_cached_ms": ("call → 1st sample", None),
    "voice_uncached_ms": ("same, no cache", None),
    "kiosk_print_ms": ("tap → last byte", None),
    "console_update_p50_ms": ("call → 20 consoles", None),
    "console_update_p99_ms": ("< 200 ms", lambda v, _: v < 200),
    "web_rss_mb": ("hallq web, 20 open", None),
    "status_page_p50_ms": ("call → 1000 phones", None),
    "status_page_p99_ms": ("< 200 ms", lambda v, _: v < 200),
    "status_pages_rss_mb": ("hallq web, 1000 open", None),
    "wait_estimate_mae_min": ("demo's busy hour", None),
    "wait_estimate_p90_err_min": ("estimate at issue", None),
    "swipe_to_print_ms": ("card → last byte", None),
    "defaults_batch_ms": ("writer busy", None),
    "record_xlsx_s": ("rating record", None),
    "ship_events_per_s": ("≥ 50000 events/s", lambda v, _: v >= 50_000),
    "ship_events_per_s_10": ("≥ 50000, ten at once", lambda v, _: v >= 50_000),
    "catchup_week_s": ("< 10 s", lambda v, _: v < 10),
    "ship_down_baseline_call_p99_ms": ("no shipper", None),
    "ship_down_call_p99_ms": ("≤ baseline + 2 ms", _within("ship_down_baseline_call_p99_ms", 2)),
    "county_halls": ("p99 < 50 ms", None),
    "county_call_p99_ms": ("< 50 ms", lambda v, _: v < 50),
    "central_report_s": ("< 5 s (10M events)", lambda v, _: v < 5),
    "central_events": ("city report's size", None),
}


async def measure_issue(url: str, seconds: float) -> dict:
    """Tickets/s issued with durable commits from the kiosk connections, one request at a
    time per kiosk (as a real kiosk does)."""
    kiosks = await devices(url, kiosk_names())
    issued, elapsed = await issue_tickets(kiosks, seconds=seconds)
    await close_all(kiosks)
    return {"issue_per_s": round(issued / elapsed, 1), "issued": issued}


async def measure_calls(url: str, seconds: float, rate: float = 100.0) -> dict:
    """call_next at a steady rate; latency until each display receives ticket_called."""
    load = await CallLoad(url, CALL_DISPLAYS).open()
    latencies = await load.run(seconds, rate)
    await load.close()
    return {"call_p50_ms": percentile(latencies, 50), "call_p99_ms": percentile(latencies, 99),
            "calls_seen": len(latencies), "calls_expected": int(seconds * rate) * CALL_DISPLAYS}


def measure_restart(workdir: Path, config: Path, tickets: int) -> dict:
    db = workdir / "big.db"
    started = time.perf_counter()
    fill_store(db, tickets)
    fill_s = time.perf_counter() - started
    hub = HubProcess(config, db, extra=["--log-level", "WARNING"]).start()
    try:
        asyncio.run(_touch(hub.url))
        rss = hub.rss_mb()
    finally:
        hub.stop()
    return {"restart_s": round(hub.ready_s, 3), "rss_mb": round(rss, 1),
            "store_tickets": tickets, "fill_s": round(fill_s, 1)}


async def _touch(url: str) -> None:
    conn = await device(url, "admin")
    await conn.close()


def measure_voice_uncached(calls: int, press_to_event_ms: float | None) -> dict:
    """Without the phrase cache a call waits for the whole sentence to be synthesised
    before its first sample: press → event (measured with the wall) + synthesis."""
    from display.voice.reading import spoken_text
    from drivers.audio.tts import TtsEngine

    engine = TtsEngine(voice="cmn")
    times = []
    with tempfile.TemporaryDirectory(prefix="hallq-bench-tts-") as tmp:
        for n in range(calls):
            sentence = spoken_text(f"请A{n:03d}号到{n % 8 + 1}号窗口办理")
            started = time.perf_counter()
            engine.synthesize(sentence, Path(tmp) / f"{n}.wav")
            times.append((time.perf_counter() - started) * 1000)
    synth = statistics.median(times)
    return {"voice_synth_ms": round(synth, 1),
            "voice_uncached_ms": round(synth + (press_to_event_ms or 0.0), 1)}


def measure_devices(quick: bool) -> dict:
    """The figures that involve a device program: keypad, voice, kiosk printing, ID-card
    swipe, the web console."""
    from hallq.benches.citizen import measure as status_pages
    from hallq.benches.console import measure as console
    from hallq.benches.counter import measure as keypad
    from hallq.benches.printing import measure as kiosk
    from hallq.benches.swipe import measure as swipe
    from hallq.benches.voice import measure as voice
    from hallq.benches.waits import measure as waits

    results: dict[str, Any] = {}
    results["keypad_ms"] = keypad(10 if quick else 30)["median_ms"]
    spoken = voice(5 if quick else 20)["median_ms"]
    results["voice_cached_ms"] = spoken.get("press_to_first_sample")
    results.update(measure_voice_uncached(3 if quick else 10, spoken.get("press_to_event")))
    results["kiosk_print_ms"] = kiosk(5 if quick else 50)["tap_to_last_byte_ms"]["median"]
    results.update(console(*((5, 5) if quick else (20, 30))))
    results.update(status_pages(quick))
    results.update(waits(quick))
    results["swipe_to_print_ms"] = swipe(5 if quick else 30)["median_ms"]
    return results


def run_all(quick: bool, out: Path, profile: bool = True) -> dict:
    results: dict[str, Any] = {"cores": os.cpu_count(), "quick": quick,
                               "hall": f"{WINDOWS} windows, {SERVICES} services"}
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hallq-bench-") as tmp:
        work = Path(tmp)
        config = work / "hall.toml"
        config.write_text(generated_hall(), encoding="utf-8")
        hub = HubProcess(config, work / "load.db", extra=["--log-level", "WARNING"]).start()
        try:
            results.update(asyncio.run(measure_issue(hub.url, 2.0 if quick else 10.0)))
            results.update(asyncio.run(measure_calls(hub.url, 2.0 if quick else 10.0)))
        finally:
            hub.stop()
        results.update(measure_restart(work, config, 20_000 if quick else 1_000_000))
        results.update(bench_hub.measure_reconnect_storm(work, config, work / "big.db", quick))
        results.update(bench_hub.measure_slow_client(work, config, quick))
        results.update(bench_hub.measure_replay(work, config, quick))
        results.update(bench_cpu.measure(work, config, out, quick, profile))
        results.update(bench_record.measure(work, quick))
        results.update(bench_ship.measure(work, config, quick))
    if profile:
        results["profiles"] = str(out)
    results.update(measure_devices(quick))
    results.update(bench_county.measure(quick))
    results.update(bench_central.measure(quick))
    return results


def format_table(results: dict) -> str:
    width = max(len(k) for k in results) + 2
    lines = [f"hallq bench — {results['hall']}, {results['cores']} cores"
             f"{' (quick)' if results['quick'] else ''}", "",
             f"{'figure':<{width}}{'value':>10}  {'goal':<20}met"]
    for key, (goal, ok) in GOALS.items():
        value = results.get(key)
        met = "" if ok is None or value is None else ("yes" if ok(value, results) else "NO")
        shown = value if value is not None else "n/a"
        lines.append(f"{key:<{width}}{shown:>10}  {goal:<20}{met}")
    extra = {k: v for k, v in results.items() if k not in GOALS and k not in ("hall", "cores",
                                                                              "quick")}
    lines.append("")
    lines += [f"{k:<{width}}{v}" for k, v in extra.items()]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="short runs, smaller stores (20k tickets), fewer devices")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--out", default="out/bench",
                        help="folder for the hub's profiles (profile-*.prof and .txt)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the profiled passes of the CPU workloads")


def _check_paths(args: argparse.Namespace) -> str | None:
    """Refuse unusable --out and --json before a long run, not after it."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return f"--out {out}：已存在且不是文件夹"
    if args.json:
        folder = Path(args.json).resolve().parent
        if not folder.is_dir():
            return f"--json {args.json}：文件夹 {folder} 不存在"
        if Path(args.json).is_dir():
            return f"--json {args.json}：是文件夹，需要文件路径"
    return None


def run(args: argparse.Namespace) -> int:
    problem = _check_paths(args)
    if problem:
        print(f"hallq bench: {problem}", file=sys.stderr)
        return 2
    results = run_all(args.quick, Path(args.out), profile=not args.no_profile)
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0
