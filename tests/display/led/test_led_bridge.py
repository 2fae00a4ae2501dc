"""The LED bridge end to end: a real hub process, the real bridge, strips simulated on a pty.

What is asserted is what a citizen sees on the strip over a window (text, colour, flashing
as the sequence of frames the strip received) and what a manager sees in the hub's alerts.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from PIL import Image

from caller.core.client import HubClient, HubUnavailable
from caller.core.config import load_config
from display.led.bridge import LedBridge
from display.led.options import LedSettings
from display.led.rules import StripTiming
from drivers.led import Colour, StripText
from drivers.led.simulator import LedLineSimulator
from hallq.cli import main as hallq_main
from tests.hubproc import DEMO_CONFIG, REPO, HubProcess

pytestmark = pytest.mark.e2e

CFG = load_config(DEMO_CONFIG)
LED = CFG.devices["led-a"]
ADMIN = CFG.devices["admin"]
WINDOWS = list(LED.options["strips"])
PATIENCE_S = 20.0  # a liveness bound only; every wait below normally ends in well under a second
# Quick flashes keep the tests short; the rotation is slow so an idle strip stays put.
QUICK = StripTiming(frame_gap_s=0.02, flashes=3, flash_on_s=0.15, flash_off_s=0.1, rotate_s=600)
GBK_STRIPS = dict(LED.options["strips"])
# bx5 addresses are 16-bit; 0xA55A needs the frame's escaping in both of its bytes.
BX5_STRIPS = {**{w: 0x0100 + int(w) for w in WINDOWS}, "1": 0xA55A}


def plain(text: str, colour: Colour) -> StripText:
    return StripText.plain(text, colour)


IDLE = plain("热情为您服务", "red")
CLOSED = plain("窗口关闭", "red")
PAUSED = plain("暂停服务", "yellow")


def call(number: str) -> StripText:
    return plain(f"请{number}号办理", "green")


def flashed(content: StripText, times: int = 3) -> list[StripText]:
    """The frames of a flash: content and blank in turn, then the content to stay."""
    return [content, StripText()] * times + [content]


def writes(sim: LedLineSimulator, address: int, since: int = 0) -> list[StripText]:
    return [w.content for w in sim.history[since:] if w.address == address]


async def until(sim: LedLineSimulator, predicate: Callable[[LedLineSimulator], object]) -> None:
    # The simulator's wait blocks, and the bridge's hub client shares this event loop.
    assert await asyncio.to_thread(sim.wait_for, predicate, PATIENCE_S)


async def ok(client: HubClient, kind: str, **args: object) -> dict:
    reply = await client.request(kind, timeout=PATIENCE_S, **args)
    assert reply["ok"], reply
    return reply


async def next_alert(client: HubClient) -> dict:
    async def find() -> dict:
        async for event in client.events():
            if event["event"] == "alert":
                return event
        raise AssertionError("unreachable")
    return await asyncio.wait_for(find(), PATIENCE_S)


@asynccontextmanager
async def bridge_and_admin(hub: HubProcess, sim: LedLineSimulator, *, protocol: str = "gbk-color",
                           strips: dict[str, int] = GBK_STRIPS, timing: StripTiming = QUICK,
                           ) -> AsyncIterator[tuple[LedBridge, HubClient]]:
    settings = LedSettings(port=sim.url, strips=strips, protocol=protocol)
    async with (LedBridge(hub.url, LED.id, LED.token, settings, timing=timing) as bridge,
                HubClient(hub.url, ADMIN.id, ADMIN.token) as admin):
        yield bridge, admin


@pytest.mark.parametrize(("protocol", "strips"), [("gbk-color", GBK_STRIPS), ("bx5", BX5_STRIPS)])
def test_a_window_day_shows_on_its_own_strip(hub_process, protocol, strips) -> None:
    one, others = strips["1"], [strips[w] for w in WINDOWS if w != "1"]

    async def day() -> None:
        with LedLineSimulator(protocol) as sim:
            async with bridge_and_admin(hub_process, sim, protocol=protocol, strips=strips) as (_, admin):
                await until(sim, lambda s: all(s.content(a) == CLOSED for a in strips.values()))
                await ok(admin, "issue_ticket", service="civil")

                await ok(admin, "login", window="1", staff="1001")
                await until(sim, lambda s: s.content(one) == IDLE)

                for command in ("call_next", "recall"):  # a recall flashes again
                    mark = len(sim.history)
                    await ok(admin, command, window="1")
                    await until(sim, lambda s, mark=mark: len(writes(s, one, mark)) >= 7)
                    assert writes(sim, one, mark) == flashed(call("A001"))

                await ok(admin, "pause", window="1", reason="临时离开")
                await until(sim, lambda s: s.content(one) == PAUSED)

                mark = len(sim.history)
                await ok(admin, "resume", window="1")
                await until(sim, lambda s: s.content(one) == call("A001"))
                assert writes(sim, one, mark) == [call("A001")]  # back, steady: no second flash

                await ok(admin, "finish", window="1")
                await until(sim, lambda s: s.content(one) == IDLE)

                await ok(admin, "logout", window="1")
                await until(sim, lambda s: s.content(one) == CLOSED)

                assert all(writes(sim, a) == [CLOSED] for a in others)

    asyncio.run(day())


def test_a_logged_in_idle_strip_alternates_with_the_staff_number(hub_process) -> None:
    async def idle() -> None:
        with LedLineSimulator("gbk-color") as sim:
            timing = StripTiming(frame_gap_s=0.02, rotate_s=0.2)
            async with bridge_and_admin(hub_process, sim, timing=timing) as (_, admin):
                await until(sim, lambda s: s.content(2) == CLOSED)
                mark = len(sim.history)
                await ok(admin, "login", window="2", staff="1001")
                await until(sim, lambda s: len(writes(s, 2, mark)) >= 4)
                staff = plain("工号1001为您服务", "red")
                assert writes(sim, 2, mark)[:4] == [IDLE, staff, IDLE, staff]

    asyncio.run(idle())


# Each window calls its own service so every call can name its ticket.
SERVICE_OF = {"1": "civil", "2": "family", "3": "labour", "4": "labour", "5": "party",
              "6": "build", "7": "finance", "8": "green"}


@pytest.mark.slow
def test_a_burst_of_calls_ends_with_each_windows_last_call(hub_process, tmp_path) -> None:
    async def burst() -> None:
        with LedLineSimulator("gbk-color") as sim:
            async with bridge_and_admin(hub_process, sim, timing=StripTiming()) as (bridge, admin):
                tickets: dict[str, list[str]] = {w: [] for w in WINDOWS}
                for window in WINDOWS:
                    await ok(admin, "login", window=window, staff=f"10{window}0")
                    for _ in range(13):
                        issued = await ok(admin, "issue_ticket", service=SERVICE_OF[window])
                        tickets[window].append(issued["ticket"]["number"])

                last: dict[str, str] = {}
                for i in range(100):
                    window = WINDOWS[i % len(WINDOWS)]
                    number = tickets[window].pop(0)
                    await ok(admin, "call_next", window=window, number=number)
                    last[window] = number

                def settled(s: LedLineSimulator) -> bool:
                    return all(writes(s, GBK_STRIPS[w])[-7:] == flashed(call(n)) for w, n in last.items())

                await until(sim, settled)
                assert bridge.line.queue_high_water <= len(GBK_STRIPS)  # coalesced, never a backlog

        pngs = sim.render_all_png(tmp_path / "strips")
        assert len(pngs) == len(GBK_STRIPS)
        with Image.open(tmp_path / "strips" / "strip-1.png") as image:
            lit = sum(1 for r, g, b in image.convert("RGB").getdata() if g > 200 and r < 90)
        assert lit > 1000  # the call is drawn in green dots

    asyncio.run(burst())


def test_after_the_hub_comes_back_every_strip_is_repainted(hub_process) -> None:
    again = HubProcess(DEMO_CONFIG, hub_process.db)

    async def restart() -> None:
        with LedLineSimulator("gbk-color") as sim:
            async with bridge_and_admin(hub_process, sim):
                await until(sim, lambda s: len(s.addresses()) == len(GBK_STRIPS))
                hub_process.kill()  # a crash; the bridge keeps retrying
                mark = len(sim.history)
                again.port = hub_process.port  # the same address and database
                await asyncio.to_thread(again.start)
                await until(sim, lambda s: {w.address for w in s.history[mark:]} ==
                            set(GBK_STRIPS.values()))
                assert all(sim.content(a) == CLOSED for a in GBK_STRIPS.values())

    try:
        asyncio.run(restart())
    finally:
        again.stop()


def test_an_unplugged_line_is_reported_and_repainted_when_it_is_back(hub_process, tmp_path) -> None:
    link = tmp_path / "led-a"
    log = tmp_path / "led.log"

    async def unplug(proc_started: Callable[[], subprocess.Popen]) -> None:
        sim = LedLineSimulator("gbk-color", link=link)
        try:
            async with HubClient(hub_process.url, ADMIN.id, ADMIN.token) as admin:
                proc_started()
                await until(sim, lambda s: all(s.content(a) == CLOSED for a in GBK_STRIPS.values()))
                await ok(admin, "issue_ticket", service="labour")
                await ok(admin, "login", window="3", staff="3001")
                await until(sim, lambda s: s.content(3) == IDLE)

                sim.close()  # the RS-485 adapter is pulled out
                await ok(admin, "call_next", window="3")
                offline = await next_alert(admin)
                assert offline["kind"] == "device_offline" and offline["device"] == LED.id
                assert str(link) in offline["message"]

                sim = LedLineSimulator("gbk-color", link=link)  # plugged back in
                online = await next_alert(admin)
                assert online["kind"] == "device_online"
                await until(sim, lambda s: len(s.addresses()) == len(GBK_STRIPS)
                            and s.content(3) == call("B001"))
                assert all(sim.content(a) == CLOSED for w, a in GBK_STRIPS.items() if w != "3")
        finally:
            sim.close()

    procs: list[subprocess.Popen] = []

    def start_bridge() -> subprocess.Popen:
        with open(log, "w") as err:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "hallq", "led", "--config", str(DEMO_CONFIG),
                 "--device", LED.id, "--hub", hub_process.url, "--port", str(link)],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=err,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}))
        return procs[0]

    try:
        asyncio.run(unplug(start_bridge))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(PATIENCE_S)
    assert procs[0].returncode == 0, log.read_text()


def test_an_unknown_led_device_is_a_config_error(capsys) -> None:
    assert hallq_main(["led", "--config", str(DEMO_CONFIG), "--device", "kiosk-1"]) == 2
    err = capsys.readouterr().err
    assert f"{DEMO_CONFIG}: devices (id 'kiosk-1').role: expected \"led\", got 'kiosk'" in err


def test_a_refused_device_stops_the_bridge(hub_process) -> None:
    async def refused() -> None:
        with LedLineSimulator("gbk-color") as sim:
            settings = LedSettings(port=sim.url, strips=GBK_STRIPS)
            async with LedBridge(hub_process.url, LED.id, "wrong-token", settings) as bridge:
                with pytest.raises(HubUnavailable, match="led-a"):
                    await bridge.serve(asyncio.Event())

    asyncio.run(refused())


def test_a_missing_line_at_start_is_reported_and_painted_once_it_appears(hub_process, tmp_path) -> None:
    link = tmp_path / "not-yet"
    settings = LedSettings(port=str(link), strips=GBK_STRIPS)

    async def late_line() -> None:
        async with (HubClient(hub_process.url, ADMIN.id, ADMIN.token) as admin,
                    LedBridge(hub_process.url, LED.id, LED.token, settings, timing=QUICK)):
            offline = await next_alert(admin)
            assert offline["kind"] == "device_offline"
            with LedLineSimulator("gbk-color", link=link) as sim:
                assert (await next_alert(admin))["kind"] == "device_online"
                await until(sim, lambda s: all(s.content(a) == CLOSED for a in GBK_STRIPS.values()))

    asyncio.run(late_line())
