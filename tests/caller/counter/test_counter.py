"""The counter bridge end to end: a real hub process, the simulated RS-485 line on a real
pty (keypads and evaluators at addresses 3–7, windows 3–7 of the demo hall), the real
bridge in this process, and clients watching the hub as a kiosk and a manager would."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from caller.core.client import HubClient
from caller.core.config import load_config
from caller.counter.bridge import CounterBridge
from caller.counter.rules import classify, counter_settings
from drivers.bus.ft12 import FrameParser
from drivers.bus.models import decode_display, keypad_display, keypad_press
from drivers.bus.simulator import BusSimulator
from tests.hubproc import DEMO_CONFIG, REPO, HubProcess

pytestmark = pytest.mark.e2e
CFG = load_config(DEMO_CONFIG)
ADDRESSES = [3, 4, 5, 6, 7]
WAIT = 10.0  # generous: only reached when something is broken
BLANK = " " * 6


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[BusSimulator]:
    with BusSimulator(tmp_path / "counter-a", keypads=ADDRESSES, evaluators=ADDRESSES) as line:
        yield line


def client(hub: HubProcess, device: str) -> HubClient:
    return HubClient(hub.url, device, CFG.devices[device].token)


@contextlib.asynccontextmanager
async def running_bridge(hub: HubProcess, port: str, **staff: str) -> AsyncIterator[CounterBridge]:
    """The bridge on ``port``, ready: snapshot shown and windows 3–7 logged in."""
    settings = counter_settings(CFG, "counter-a", port=port, staff=staff)
    async with CounterBridge(CFG, settings, hub.url) as bridge:
        await bridge.wait_ready(WAIT)
        yield bridge


async def shows(sim: BusSimulator, predicate: Callable[[], bool]) -> None:
    """Wait (off the event loop) until the line's devices show what ``predicate`` expects."""
    assert await asyncio.to_thread(sim.wait_for, predicate, WAIT), [
        (a, sim.display(a), sim.evaluator_lit(a)) for a in ADDRESSES]


async def next_event(c: HubClient, name: str, **fields: object) -> dict:
    async def find() -> dict:
        async for e in c.events():
            if e["event"] == name and all(e.get(k) == v for k, v in fields.items()):
                return e
    return await asyncio.wait_for(find(), WAIT)


async def issue(kiosk: HubClient, service: str, count: int = 1) -> None:
    for _ in range(count):
        reply = await kiosk.request("issue_ticket", timeout=WAIT, service=service)
        assert reply["ok"], reply


def counter_commands(hub: HubProcess) -> list[str]:
    """The commands the hub carried out for the bridge, from its log, bookkeeping left out."""
    assert hub.log_path is not None
    entries = [json.loads(line) for line in hub.log_path.read_text().splitlines() if line.startswith("{")]
    return [e["command"] for e in entries if e.get("msg") == "command"
            and e.get("device") == "counter-a" and e["command"] not in ("snapshot", "login")]


def test_a_keypad_call_shows_the_ticket_and_the_queue_on_its_digits(hub_process, sim):
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link))):
            await shows(sim, lambda: all(sim.display(a) == "     0" for a in ADDRESSES))
            await issue(kiosk, "labour", 2)
            # Window 3 serves labour, window 5 does not: each keypad counts its own queue.
            await shows(sim, lambda: sim.display(3) == "     2" and sim.display(4) == "     2")
            assert sim.display(5) == "     0"

            sim.press(3, "call_next")
            await shows(sim, lambda: sim.display(3) == "001  1")
            called = await next_event(admin, "ticket_called")
            assert called["window"] == "3" and called["ticket"]["number"] == "B001"
            assert called["announce"] == "请B001号到3号窗口办理"
            assert len(sim.acks(3)) == 1  # echoed before the hub was even asked
            await shows(sim, lambda: sim.beeps(3) == 1)
            await shows(sim, lambda: sim.display(4) == "     1")  # the other labour window follows
    asyncio.run(run())


def test_finish_lights_the_evaluator_and_a_bad_rating_reaches_the_manager(hub_process, sim):
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link))):
            await issue(kiosk, "labour")
            sim.press(3, "call_next")
            await shows(sim, lambda: sim.display(3) == "001  0")
            assert not sim.evaluator_lit(3)
            sim.press(3, "finish")
            await shows(sim, lambda: sim.evaluator_lit(3))
            assert not any(sim.evaluator_lit(a) for a in (4, 5, 6, 7))
            await shows(sim, lambda: sim.display(3) == "     0")

            sim.rate(3, "dissatisfied")  # 不满意
            rated = await next_event(admin, "rating_received")
            assert rated["window"] == "3" and rated["level"] == "dissatisfied"
            assert rated["ticket"]["number"] == "B001" and rated["staff"] == "K3"
            alert = await next_event(admin, "alert", kind="bad_rating")
            assert "3号窗口" in alert["message"] and "不满意" in alert["message"]
            await shows(sim, lambda: not sim.evaluator_lit(3))
            assert sim.acks(3)[-1].function == 0x11  # the rating frame was acknowledged too
    asyncio.run(run())


def test_the_evaluator_goes_dark_when_nobody_rates(tmp_path, sim):
    # The hall clock runs 10x fast: the 15 s rating timeout passes in about 1.5 s.
    with HubProcess(DEMO_CONFIG, tmp_path / "fast.db", extra=["--speed", "10"]) as hub:
        async def run() -> None:
            async with (client(hub, "kiosk-1") as kiosk, client(hub, "admin") as admin,
                        running_bridge(hub, str(sim.link))):
                await issue(kiosk, "party")
                sim.press(5, "call_next")
                await shows(sim, lambda: sim.display(5) == "001  0")
                sim.press(5, "finish")
                await shows(sim, lambda: sim.evaluator_lit(5))
                timeout = await next_event(admin, "rating_timeout")
                assert timeout["window"] == "5"
                await shows(sim, lambda: not sim.evaluator_lit(5))
        asyncio.run(run())


def test_an_unplugged_adapter_is_reported_and_comes_back_by_itself(hub_process, sim):
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link)) as bridge):
            await shows(sim, lambda: sim.display(3) == "     0")
            sim.unplug()
            offline = await next_event(admin, "alert", kind="device_offline")
            assert offline["device"] == "counter-a" and str(sim.link) in offline["message"]
            assert "断开" in offline["message"]

            # The hall keeps working without the line: a ticket is issued and called at window 3.
            await issue(kiosk, "labour", 2)
            admin_call = await admin.request("call_next", timeout=WAIT, window="3")
            assert admin_call["ok"] and admin_call["ticket"]["number"] == "B001"

            sim.replug()
            online = await next_event(admin, "alert", kind="device_online")
            assert str(sim.link) in online["message"] and "恢复" in online["message"]
            await shows(sim, lambda: sim.display(3) == "001  1")  # redrawn with what happened
            sim.press(3, "call_next")
            await shows(sim, lambda: sim.display(3) == "002  0")
            assert bridge.line is not None and bridge.line.stats["reopened"] == 1
    asyncio.run(run())


def test_transfer_to_the_window_the_digits_name(hub_process, sim):
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link))):
            await issue(kiosk, "labour")
            sim.press(3, "call_next")
            await shows(sim, lambda: sim.display(3) == "001  0")
            sim.press(3, "transfer", "04")  # 04 names window 4
            moved = await next_event(admin, "ticket_transferred")
            assert moved["from_window"] == "3" and moved["to"] == {"window": "4"}
            assert moved["ticket"]["number"] == "B001"
            await shows(sim, lambda: sim.display(3) == "     0" and sim.display(4) == "     1")
            sim.press(4, "call_next")  # it waits at the front for window 4
            await shows(sim, lambda: sim.display(4) == "001  0")
    asyncio.run(run())


def test_the_pause_key_pauses_and_resumes(hub_process, sim):
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link))):
            await issue(kiosk, "labour")
            await shows(sim, lambda: sim.display(3) == "     1")
            sim.press(3, "pause_toggle")
            paused = await next_event(admin, "window_paused")
            assert paused["window"] == "3"
            await shows(sim, lambda: sim.beeps(3) == 1)  # one beep: done
            before = len(sim.received)
            sim.press(3, "call_next")  # refused while paused: blank digits, two beeps ...
            await shows(sim, lambda: sim.beeps(3) == 3)
            shown = [decode_display(f) for f in sim.received[before:] if f.address == 3]
            assert BLANK in shown
            await shows(sim, lambda: sim.display(3) == "     1")  # ... then the normal display again
            sim.press(3, "pause_toggle")
            resumed = await next_event(admin, "window_resumed")
            assert resumed["window"] == "3"
            sim.press(3, "call_next")
            await shows(sim, lambda: sim.display(3) == "001  0")
    asyncio.run(run())


def test_call_by_number_hold_call_back_recall_and_skip(hub_process, sim):
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link))):
            await issue(kiosk, "labour", 3)
            sim.press(3, "call_number", "3")  # the keypad has no letters: 3 means B003 here
            await shows(sim, lambda: sim.display(3) == "003  2")
            sim.press(3, "hold")
            held = await next_event(admin, "ticket_held")
            assert held["ticket"]["number"] == "B003"
            await shows(sim, lambda: sim.display(3) == "     2")
            sim.press(3, "call_number", "001")
            await shows(sim, lambda: sim.display(3) == "001  1")
            sim.press(3, "call_held")  # no digits: the ticket held longest
            await shows(sim, lambda: sim.display(3) == "003  1")

            await shows(sim, lambda: sim.beeps(3) == 4)  # a beep for each key carried out
            sim.press(3, "call_held", "7")  # nothing held with that number: refused here
            await shows(sim, lambda: sim.beeps(3) == 6)

            sim.press(3, "recall")
            recalled = await next_event(admin, "ticket_called", recalls=1)
            assert recalled["ticket"]["number"] == "B003"
            sim.press(3, "skip")
            skipped = await next_event(admin, "ticket_skipped")
            assert skipped["ticket"]["number"] == "B003" and skipped["window"] == "3"
            await shows(sim, lambda: sim.display(3) == "     2")  # B002, and B003 re-queued
            assert counter_commands(hub_process) == [
                "call_next", "hold", "call_next", "call_held", "recall", "skip"]
    asyncio.run(run())


def test_a_logged_out_window_is_logged_in_again_on_the_next_key(hub_process, sim):
    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link), **{"3": "1003"})):
            snapshot = (await admin.request("snapshot", timeout=WAIT))["snapshot"]
            staff = {w["id"]: w["staff"] for w in snapshot["windows"]}
            assert staff["3"] == "1003" and staff["4"] == "K4"
            assert (await admin.request("logout", timeout=WAIT, window="3"))["ok"]
            await issue(kiosk, "labour")
            sim.press(3, "call_next")
            await shows(sim, lambda: sim.display(3) == "001  0")
            login = await next_event(admin, "window_login", window="3")
            assert login["staff"] == "1003"
    asyncio.run(run())


def line_noise() -> bytes:
    """Random bytes and broken keypad frames, none of them a valid press."""
    rng = random.Random(485)
    press = keypad_press(3, "call_next")
    broken = [
        press[:-2] + bytes([press[-2] ^ 0x01, press[-1]]),  # wrong checksum
        press[:-1] + b"\x00",  # wrong end byte
        press[:3] + b"\x04" + press[4:],  # the two lengths differ
        press[:6],  # cut short
        press[:7] + b"\x0d" + press[8:],  # recall key with the call key's checksum
        keypad_press(9, "call_next"),  # valid, but nobody at address 9 is ours
    ]
    chunks = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60))) for _ in range(40)]
    chunks += broken * 5
    rng.shuffle(chunks)
    return b"".join(chunks)


def test_line_noise_never_turns_into_a_key_press(hub_process, sim):
    noise = line_noise()
    settings = counter_settings(CFG, "counter-a", port=str(sim.link))
    parser = FrameParser()
    frames = parser.feed(noise) + parser.flush()
    assert not [f for f in frames if classify(f, settings) is not None]  # the test's own premise

    async def run() -> None:
        async with (client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin,
                    running_bridge(hub_process, str(sim.link)) as bridge):
            await issue(kiosk, "labour", 2)
            await shows(sim, lambda: sim.display(3) == "     2")
            for start in range(0, len(noise), 97):
                sim.send_raw(noise[start:start + 97])
            sim.press(3, "call_next")  # the line is read in order: noise first, then this
            await shows(sim, lambda: sim.display(3) == "001  1")
            called = await next_event(admin, "ticket_called")
            assert called["ticket"]["number"] == "B001"
            assert counter_commands(hub_process) == ["call_next"]
            assert all(len(sim.acks(a)) == (a == 3) for a in ADDRESSES)
            assert bridge.line is not None
            stats = bridge.line.stats
            assert stats["bad_frames"] > 0 and stats["dropped_bytes"] > len(noise) // 2
            assert stats["acked"] == 1
    asyncio.run(run())


def test_a_network_serial_server_works_like_a_local_port(hub_process):
    """port = "socket://host:port": a serial device server on the network (real TCP)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(WAIT)
        url = f"socket://127.0.0.1:{server.getsockname()[1]}"

        async def run() -> None:
            async with client(hub_process, "kiosk-1") as kiosk, running_bridge(hub_process, url):
                conn, _ = await asyncio.to_thread(server.accept)
                with conn:
                    conn.settimeout(WAIT)
                    await issue(kiosk, "labour")
                    press = keypad_press(3, "call_next")
                    conn.sendall(press)
                    display = keypad_display(3, "B001", 0)
                    received = await asyncio.to_thread(read_until, conn, display)
                    assert received.index(press) < received.index(display)  # acknowledged first
        asyncio.run(run())


def read_until(conn: socket.socket, wanted: bytes) -> bytes:
    received = b""
    while wanted not in received:
        chunk = conn.recv(4096)
        assert chunk, "the bridge closed the connection"
        received += chunk
    return received


def test_the_hallq_counter_command(hub_process, sim):
    """`hallq counter` as a program: --port, --staff, and a clean stop on SIGTERM."""
    command = [sys.executable, "-m", "hallq", "counter", "--config", str(DEMO_CONFIG),
               "--device", "counter-a", "--hub", hub_process.url, "--port", str(sim.link),
               "--staff", "6=1006"]
    bridge = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert sim.wait_for(lambda: all(sim.display(a) == "     0" for a in ADDRESSES), WAIT)

        async def run() -> None:
            async with client(hub_process, "kiosk-1") as kiosk, client(hub_process, "admin") as admin:
                snapshot = (await admin.request("snapshot", timeout=WAIT))["snapshot"]
                assert {w["id"]: w["staff"] for w in snapshot["windows"]}["6"] == "1006"
                await issue(kiosk, "build")
                sim.press(6, "call_next")
                await shows(sim, lambda: sim.display(6) == "001  0")
        asyncio.run(run())
    finally:
        bridge.terminate()
        _, log = bridge.communicate(timeout=WAIT)
    assert bridge.returncode == 0, log
    assert "window 6: call_next ok E001" in log


def test_a_wrong_device_is_refused_with_the_file_and_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hallq", "counter", "--config", str(DEMO_CONFIG), "--device", "led-a"],
        cwd=REPO, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 2
    assert "hall.toml" in result.stderr and "devices (id 'led-a')" in result.stderr
    assert "counter-a" in result.stderr
