"""Can one device stop the hall? A client that never reads, a client replaying a long
log, and every device of the hall reconnecting at once after a restart, each against a
real hub process on loopback, through the protocol only."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import statistics
import time
from pathlib import Path
from urllib.parse import urlparse

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from hallq.benches.hall import TOKEN, fill_events, hall_devices
from hallq.benches.wire import CallLoad, fill_queue, percentile
from hallq.harness.hub import HubProcess

LOG = ["--log-level", "WARNING"]
REPLAY_MARGIN = 5000  # events


def _masked_frame(text: str) -> bytes:
    """One text frame as a client must send it (masked, RFC 6455 §5.2)."""
    payload = text.encode("utf-8")
    mask = os.urandom(4)
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return bytes([0x81]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def _never_reading_client(url: str, device: str, snapshot_rate: float) -> None:
    """Open a websocket by hand, say hello, then ask for snapshots at `snapshot_rate` and
    never read a byte after the handshake. Its receive buffer is made as small as the
    kernel allows, so the hub's frames pile up on the hub's side. Runs until cancelled."""
    address = urlparse(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    sock.setblocking(False)
    # a 1 KiB limit: the stream stops taking bytes from the socket after about 2 KiB
    rx, tx = await asyncio.open_connection(sock=sock, limit=1024)
    key = base64.b64encode(os.urandom(16)).decode()
    tx.write((f"GET / HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\n"
              f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
              "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    await rx.readuntil(b"\r\n\r\n")
    tx.write(_masked_frame(json.dumps({"type": "hello", "device": device, "token": TOKEN})))
    try:
        n = 0
        while True:
            await asyncio.sleep(1 / snapshot_rate)
            n += 1
            tx.write(_masked_frame(json.dumps({"id": f"slow-{n}", "type": "snapshot"})))
            await tx.drain()  # blocks for good once the hub stops reading this socket
    finally:
        tx.close()


async def _slow_client(hub: HubProcess, seconds: float) -> dict:
    await fill_queue(hub.url, int(seconds * 100 * 1.5) + 200)
    load = await CallLoad(hub.url, displays=10).open()
    await load.run(1.0, settle_s=0.5)  # warm up: the hub's own buffers at their working size
    baseline = hub.rss_mb()
    peak = baseline
    slow = asyncio.create_task(_never_reading_client(hub.url, "wall-99", snapshot_rate=10))

    async def sample() -> None:
        nonlocal peak
        while True:
            await asyncio.sleep(0.5)
            peak = max(peak, hub.rss_mb())

    sampler = asyncio.create_task(sample())
    try:
        latencies = await asyncio.wait_for(load.run(seconds, settle_s=0.5), seconds + 30)
        stalled = False
    except TimeoutError:  # the hub stopped taking the calls
        latencies, stalled = load.latencies, True
    peak = max(peak, hub.rss_mb())
    closed = slow.done()  # the hub hung up on it
    for task in (sampler, slow):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await task
    await load.close()
    return {"slow_client_rss_growth_mb": round(peak - baseline, 1),
            "slow_client_rss_base_mb": round(baseline, 1),
            "slow_client_others_call_p99_ms": percentile(latencies, 99),
            "slow_client_closed_by_hub": closed, "slow_client_hub_stalled": stalled}


def measure_slow_client(work: Path, config: Path, quick: bool) -> dict:
    """RSS growth while one display never reads and 100 calls/s go to the others."""
    with HubProcess(config, work / "slow.db", extra=LOG) as hub:
        return asyncio.run(_slow_client(hub, 8.0 if quick else 60.0))


async def _replay_once(url: str, since: int) -> tuple[float, float, int, bool]:
    """hello with `since` → (ms to welcome, s from welcome to the last replayed event,
    events replayed, whether the hub replayed at all)."""
    async with connect(url, max_size=None, max_queue=None, compression=None,
                       ping_interval=None) as conn:
        started = time.perf_counter()
        await conn.send(json.dumps({"type": "hello", "device": "wall-98", "token": TOKEN,
                                    "since": since}))
        welcome = json.loads(await conn.recv())
        welcomed = time.perf_counter()
        replayed = 0
        if welcome.get("replay"):
            last = since
            while last < welcome["seq"]:
                message = json.loads(await conn.recv())
                if message.get("type") == "event":
                    last = message["seq"]
                    replayed += 1
        return ((welcomed - started) * 1000, time.perf_counter() - welcomed, replayed,
                bool(welcome.get("replay")))


async def _replay(url: str, seconds: float, events: int) -> dict:
    await fill_queue(url, int(seconds * 2 * 100 * 1.2) + 300)
    load = await CallLoad(url, displays=10).open()
    baseline = await load.run(seconds, settle_s=0.5)
    runs: list[tuple[float, float, int, bool]] = []

    async def replay_again_and_again() -> None:
        while True:
            # about `events` back, less what the calls add before the hub reads the hello:
            # within the 100,000 events a hub replays
            since = max(load.seq - events + REPLAY_MARGIN, 1)
            runs.append(await _replay_once(url, since))

    replayer = asyncio.create_task(replay_again_and_again())
    during = await load.run(seconds, settle_s=0.5)
    replayer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await replayer
    await load.close()
    if not runs:  # not one welcome in the whole run: the hub never answered the hello
        runs.append((seconds * 1000, seconds, 0, False))
    return {"replay_baseline_call_p99_ms": percentile(baseline, 99),
            "replay_others_call_p99_ms": percentile(during, 99),
            "replay_hello_welcome_ms": round(statistics.median(r[0] for r in runs), 1),
            "replay_s": round(statistics.median(r[1] for r in runs), 3),
            "replay_events": max(r[2] for r in runs),
            "replays": len(runs), "replayed": all(r[3] for r in runs)}


def measure_replay(work: Path, config: Path, quick: bool) -> dict:
    """Others' call → event p99 while one client replays a log of `events` events (hello
    with an old `since`), back to back, against the same figure with no replay."""
    db = work / "replay.db"
    events = 20_000 if quick else 100_000
    fill_events(db, events)
    with HubProcess(config, db, extra=LOG) as hub:
        results = asyncio.run(_replay(hub.url, 4.0 if quick else 10.0, events))
    return {**results, "replay_store_events": events}


async def _resync(url: str, device: str, since: int | None) -> float:
    """Reconnect until welcomed (and replayed up to the welcome's seq); the time it was done."""
    hello: dict = {"type": "hello", "device": device, "token": TOKEN}
    if since is not None:
        hello["since"] = since
    for _ in range(100):
        try:
            async with connect(url, max_size=None, max_queue=None, compression=None,
                               open_timeout=10, ping_interval=None) as conn:
                await conn.send(json.dumps(hello))
                welcome = json.loads(await conn.recv())
                last = since or 0
                while welcome.get("replay") and last < welcome["seq"]:
                    message = json.loads(await conn.recv())
                    if message.get("type") == "event":
                        last = message["seq"]
                return time.perf_counter()
        except (OSError, TimeoutError, WebSocketException):  # refused, reset, closed: retry
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{device} never resynced")


async def _storm(url: str, devices: list[str], seq: int) -> list[float]:
    started = time.perf_counter()
    done = await asyncio.gather(*(
        _resync(url, d, None if d.startswith("kiosk") else max(seq - i % 50, 0))
        for i, d in enumerate(devices)))
    return [t - started for t in done]


def measure_reconnect_storm(work: Path, config: Path, db: Path, quick: bool) -> dict:
    """Every device reconnects at once when a restarted hub is up: time until the last
    one has its welcome (and its replay, for those that send `since`). The store is the
    restart figure's, with an event log added."""
    events = 10_000 if quick else 100_000
    fill_events(db, events)
    count = 50 if quick else 300
    hub = HubProcess(config, db, extra=LOG).start()  # a restart: the hall ran on this store
    try:
        times = asyncio.run(_storm(hub.url, hall_devices()[:count], events))
    finally:
        hub.stop()
    return {"reconnect_storm_s": round(max(times), 3),
            "reconnect_storm_p50_s": round(statistics.median(times), 3),
            "reconnect_devices": count, "reconnect_hub_ready_s": round(hub.ready_s, 3)}
