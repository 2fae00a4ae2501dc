"""`hallq bench`: measure the hub against the hall's goals, with real processes.

A generated hall (200 windows, 30 services) runs in a real hub process on loopback;
the load comes from real websocket connections in this process. Figures print as a
table beside their goals and, with --json, go to a file. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from caller.hub.engine import TICKET_FIELDS
from caller.hub.store import Store
from hallq.harness.hub import HubProcess

SERVICES = 30
WINDOWS = 200
KIOSKS = 20
DISPLAYS = 50
TOKEN = "bench"

GOALS = {
    "issue_per_s": ("≥ 1000 tickets/s", lambda v: v >= 1000),
    "call_p50_ms": ("", None),
    "call_p99_ms": ("< 20 ms", lambda v: v < 20),
    "rss_mb": ("< 150 MB", lambda v: v < 150),
    "restart_s": ("< 2 s", lambda v: v < 2),
    "keypad_ms": ("pty, no wire time", None),
    "voice_cached_ms": ("call → 1st sample", None),
    "voice_uncached_ms": ("same, no cache", None),
    "kiosk_print_ms": ("tap → last byte", None),
    "console_update_p50_ms": ("call → 20 consoles", None),
    "console_update_p99_ms": ("< 200 ms", lambda v: v < 200),
    "web_rss_mb": ("hallq web, 20 open", None),
}


def _prefix(i: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[i] if i < 26 else "Z" + letters[i - 26]


def generated_hall() -> str:
    """TOML for a big hall: open all day, no caps."""
    parts = ['[hall]\nname = "基准测试大厅"\ndemo = true\n']  # one shared token, loopback
    for i in range(SERVICES):
        parts.append(f'[[services]]\nid = "s{i:02d}"\nname = "业务{i:02d}"\nprefix = "{_prefix(i)}"\n'
                     'numbers = [1, 9999]\nmaterials = ["身份证"]\n')
    for w in range(1, WINDOWS + 1):
        served = {f"s{(w + k) % SERVICES:02d}": 2 - k for k in range(3)}
        weights = ", ".join(f"{s} = {v}" for s, v in served.items())
        parts.append(f'[[windows]]\nid = "{w}"\nname = "{w}号窗口"\nservices = {{ {weights} }}\n')
    for k in range(KIOSKS):
        parts.append(f'[[devices]]\nid = "kiosk-{k}"\nrole = "kiosk"\ntoken = "{TOKEN}"\n')
    for d in range(DISPLAYS):
        parts.append(f'[[devices]]\nid = "wall-{d}"\nrole = "display"\ntoken = "{TOKEN}"\n')
    parts.append(f'[[devices]]\nid = "admin"\nrole = "admin"\ntoken = "{TOKEN}"\n')
    return "\n".join(parts)


async def _device(url: str, device: str):
    conn = await connect(url, max_size=None, compression=None)
    await conn.send(json.dumps({"type": "hello", "device": device, "token": TOKEN}))
    while json.loads(await conn.recv())["type"] != "welcome":
        pass
    return conn


async def _request(conn, pending: dict, rid: str, **message: Any) -> dict:
    fut = asyncio.get_running_loop().create_future()
    pending[rid] = fut
    await conn.send(json.dumps({"id": rid, **message}))
    return await fut


async def _reader(conn, pending: dict, on_event: Callable[[dict], None] | None = None) -> None:
    async for frame in conn:
        message = json.loads(frame)
        if message["type"] == "reply":
            fut = pending.pop(message["id"], None)
            if fut and not fut.done():
                fut.set_result(message)
        elif message["type"] == "event" and on_event:
            on_event(message)


async def measure_issue(url: str, seconds: float) -> dict:
    """Tickets/s issued with durable commits from KIOSKS connections, one request at a time
    per kiosk (as a real kiosk does)."""
    conns = [await _device(url, f"kiosk-{k}") for k in range(KIOSKS)]
    issued = 0
    stop_at = time.perf_counter() + seconds

    async def kiosk(k: int, conn) -> None:
        nonlocal issued
        pending: dict = {}
        reader = asyncio.create_task(_reader(conn, pending))
        n = 0
        while time.perf_counter() < stop_at:
            n += 1
            reply = await _request(conn, pending, f"i{k}-{n}", type="issue_ticket",
                                   service=f"s{(k + n) % SERVICES:02d}")
            issued += reply["ok"]
        reader.cancel()

    started = time.perf_counter()
    await asyncio.gather(*(kiosk(k, c) for k, c in enumerate(conns)))
    elapsed = time.perf_counter() - started
    for c in conns:
        await c.close()
    return {"issue_per_s": round(issued / elapsed, 1), "issued": issued}


async def measure_calls(url: str, seconds: float, rate: float = 100.0) -> dict:
    """call_next at a steady rate; latency until each display receives ticket_called."""
    admin = await _device(url, "admin")
    pending: dict = {}
    admin_reader = asyncio.create_task(_reader(admin, pending))
    for w in range(1, WINDOWS + 1):
        await _request(admin, pending, f"login-{w}", type="login", window=str(w), staff=f"{w}")
    sent: dict[str, float] = {}
    latencies: list[float] = []
    displays = [await _device(url, f"wall-{d}") for d in range(DISPLAYS)]

    def on_event(event: dict) -> None:
        if event["event"] == "ticket_called":
            t0 = sent.get(event["window"])
            if t0 is not None:
                latencies.append((time.perf_counter() - t0) * 1000)

    readers = [asyncio.create_task(_reader(d, {}, on_event)) for d in displays]
    total = int(seconds * rate)
    started = time.perf_counter()
    for n in range(total):
        window = str(n % WINDOWS + 1)
        target = started + n / rate
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
        sent[window] = time.perf_counter()
        await admin.send(json.dumps({"id": f"c{n}", "type": "call_next", "window": window}))
    await asyncio.sleep(1.0)
    for r in (admin_reader, *readers):
        r.cancel()
    for c in (admin, *displays):
        await c.close()
    latencies.sort()
    if not latencies:
        return {"call_p50_ms": None, "call_p99_ms": None, "calls_seen": 0}
    return {"call_p50_ms": round(statistics.median(latencies), 2),
            "call_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "calls_seen": len(latencies), "calls_expected": total * DISPLAYS}


def fill_store(db: Path, tickets: int) -> None:
    """A store holding `tickets` finished tickets of past days, written directly."""
    Store(db).close()  # the schema
    conn = sqlite3.connect(db)
    now = datetime.now(UTC).isoformat()
    rows = ((i, f"{_prefix(i % SERVICES)}{i % 9999 + 1:04d}", f"s{i % SERVICES:02d}",
             f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}", now, float(i), 0, "zh", "done",
             str(i % WINDOWS + 1), None, 0, now, now, None, now, None, 300.0, 0.0, 0, 0, 0, 0,
             "1001", "satisfied", "rated", now) for i in range(1, tickets + 1))
    columns = ", ".join(f'"{f}"' for f in TICKET_FIELDS)
    conn.executemany(f"INSERT INTO tickets ({columns}) VALUES ({', '.join('?' * 27)})", rows)
    meta = {"day": "2025-12-31", "next_ticket_id": tickets + 1, "next_order": tickets + 1.0}
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                     [(k, json.dumps(v)) for k, v in meta.items()])
    conn.commit()
    conn.close()


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
    conn = await _device(url, "admin")
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
    """The figures that involve a device program: keypad, voice, kiosk printing."""
    from hallq.benches.console import measure as console
    from hallq.benches.counter import measure as keypad
    from hallq.benches.printing import measure as kiosk
    from hallq.benches.voice import measure as voice

    results: dict[str, Any] = {}
    results["keypad_ms"] = keypad(10 if quick else 30)["median_ms"]
    spoken = voice(5 if quick else 20)["median_ms"]
    results["voice_cached_ms"] = spoken.get("press_to_first_sample")
    results.update(measure_voice_uncached(3 if quick else 10, spoken.get("press_to_event")))
    results["kiosk_print_ms"] = kiosk(5 if quick else 50)["tap_to_last_byte_ms"]["median"]
    results.update(console(*((5, 5) if quick else (20, 30))))
    return results


def run_all(quick: bool) -> dict:
    results: dict[str, Any] = {"cores": os.cpu_count(), "quick": quick,
                               "hall": f"{WINDOWS} windows, {SERVICES} services"}
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
    results.update(measure_devices(quick))
    return results


def format_table(results: dict) -> str:
    lines = [f"hallq bench — {results['hall']}, {results['cores']} cores"
             f"{' (quick)' if results['quick'] else ''}", "",
             f"{'figure':<16}{'value':>12}  {'goal':<18}met"]
    for key, (goal, ok) in GOALS.items():
        value = results.get(key)
        met = "" if ok is None or value is None else ("yes" if ok(value) else "NO")
        lines.append(f"{key:<16}{value if value is not None else 'n/a':>12}  {goal:<18}{met}")
    extra = {k: v for k, v in results.items() if k not in GOALS and k not in ("hall", "cores",
                                                                              "quick")}
    lines.append("")
    lines += [f"{k:<16}{v}" for k, v in extra.items()]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="short runs, 20k tickets in store")
    parser.add_argument("--json", help="also write the figures to this file")


def run(args: argparse.Namespace) -> int:
    results = run_all(args.quick)
    print(format_table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0
