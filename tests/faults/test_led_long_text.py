"""Whatever the hub says about a window, the LED bridge keeps every strip of its line going.

The real bridge drives strips simulated on a pty; the hub is scripted (tests/faults/
scripted_hub.py) so it can send what the real hub would refuse: a 600-character staff id
in the welcome snapshot, control characters, and a frame the encoder cannot make.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import display.led.bridge
from display.led.bridge import LedBridge
from display.led.options import LedSettings
from display.led.rules import STRIP_COLUMNS, StripTiming
from drivers.led import LedProtocol, StripText, get_protocol
from drivers.led.simulator import LedLineSimulator
from tests.faults.scripted_hub import ScriptedHub

pytestmark = pytest.mark.e2e

PATIENCE_S = 20.0  # a liveness bound only; every wait normally ends in well under a second
QUICK = StripTiming(frame_gap_s=0.01, rotate_s=0.2)
STRIPS = {"1": 1, "2": 2, "3": 3}
HUGE_STAFF = "9" * 600
IDLE = StripText.plain("热情为您服务", "red")


def window(wid: str, staff: str | None) -> dict:
    return {"id": wid, "staff": staff, "state": "idle" if staff else "closed", "ticket": None}


async def until(sim: LedLineSimulator, predicate: Callable[[LedLineSimulator], object]) -> None:
    assert await asyncio.to_thread(sim.wait_for, predicate, PATIENCE_S)


def shown(sim: LedLineSimulator, address: int) -> set[str]:
    """Every text strip ``address`` has shown."""
    return {w.content.text for w in sim.history if w.address == address}


def idle_writes(sim: LedLineSimulator, address: int) -> int:
    return sum(1 for w in sim.history if w.address == address and w.content == IDLE)


def reported(hub: ScriptedHub, kind: str) -> list[dict]:
    """The requests of type ``kind`` the hub has received and no test has taken yet."""
    found = []
    while not hub.requests.empty():
        request = hub.requests.get_nowait()
        if request["type"] == kind:
            found.append(request)
    return found


def test_a_600_character_staff_id_is_cut_to_the_strip_and_every_strip_keeps_working() -> None:
    snapshot = {"windows": [window("1", HUGE_STAFF), window("2", "10\x1b[2J\x0002"),
                            window("3", None)]}

    async def hall() -> None:
        with LedLineSimulator("gbk-color") as sim:
            async with (ScriptedHub(snapshot) as hub,
                        LedBridge(hub.url, "led-a", "token", LedSettings(sim.url, STRIPS),
                                  timing=QUICK)):
                cut = "工号" + "9" * (STRIP_COLUMNS - 4)
                await until(sim, lambda s: cut in shown(s, 1) and "工号10[2J02为您服务" in shown(s, 2))
                assert all(StripText.plain(t).columns <= STRIP_COLUMNS for t in shown(sim, 1))

                await hub.event("window_login", window="3", staff="3001")  # later news still shows
                await until(sim, lambda s: s.content(3) == IDLE)

                await hub.event("window_login", window="3", staff="长" * 600)
                await until(sim, lambda s: "工号" + "长" * 14 in shown(s, 3))

    asyncio.run(hall())


def test_a_frame_the_encoder_refuses_is_skipped_reported_and_the_line_goes_on(monkeypatch) -> None:
    real = get_protocol("gbk-color")

    def encode(address: int, content: StripText) -> bytes:
        if "9" in content.text:  # a bug in an encoder, for one strip's staff text only
            raise ValueError("simulated encoder bug")
        return real.encode(address, content)

    monkeypatch.setattr(display.led.bridge, "get_protocol", lambda name: LedProtocol(
        real.name, encode, real.new_decoder, real.max_address))
    snapshot = {"windows": [window("1", "9001"), window("2", "2002"), window("3", None)]}

    async def hall() -> None:
        with LedLineSimulator("gbk-color") as sim:
            async with (ScriptedHub(snapshot) as hub,
                        LedBridge(hub.url, "led-a", "token", LedSettings(sim.url, STRIPS),
                                  timing=QUICK)):
                failed = await hub.request("report_alert", PATIENCE_S)
                assert failed["kind"] == "device_offline"
                assert "LED条屏 1（窗口 1）" in failed["message"]
                assert "simulated encoder bug" in failed["message"]
                # The failing strip's rotation goes on (idle text), and so does every other strip.
                await until(sim, lambda s: idle_writes(s, 1) >= 3
                            and "工号2002为您服务" in shown(s, 2) and s.text(3) == "窗口关闭")
                assert not reported(hub, "report_alert")  # a failing rotation is reported once

                await hub.event("window_login", window="1", staff="1001")
                back = await hub.request("report_alert", PATIENCE_S)
                assert back["kind"] == "device_online" and "LED条屏 1" in back["message"]
                await until(sim, lambda s: "工号1001为您服务" in shown(s, 1))

    asyncio.run(hall())
