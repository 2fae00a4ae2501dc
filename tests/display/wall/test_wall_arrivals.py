"""The TV wall marks a call of an appointment (预约) or a remote ticket (线上取号), by its
display's `mark_arrivals` (on unless the config says false): in the model from the engine's
events as the display role gets them, and on the real wall's screen against a real hub."""

from __future__ import annotations

import asyncio

import pytest

from caller.core import protocol
from caller.core.config import ConfigError, load_config
from caller.core.personal import new_secret
from display.wall.options import display_options
from hallq.harness.wall import WallProcess
from tests.caller.hub.test_bookings import at, booked, hall
from tests.caller.hub.test_bookings_e2e import booking_hall, id_number
from tests.caller.terminal.gui import client


@pytest.mark.parametrize("marks", [True, False])
def test_the_call_says_how_the_ticket_came_when_the_wall_marks_it(tmp_path, marks) -> None:
    from display.wall.model import WallModel

    new_secret(tmp_path / "hall.secret")
    d = hall(tmp_path / "hall.secret")
    b = booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 08:35")
    d.issue("a")
    d.ok("remote_ticket", service="a", phone="13600000000")
    d.ok("check_in", code=b["code"])
    wall = WallModel(marks=marks)
    wall.load(d.engine.snapshot(d.clock.now))
    seen = []
    for _ in range(3):
        start = len(d.events)
        d.call("1")
        for event in d.events[start:]:
            wall.apply(protocol.shown(event, ("display", ())))
        seen.append((wall.newest.number, wall.newest.arrival))
    if marks:
        assert seen == [("A003", "booking"), ("A001", ""), ("A002", "remote")]
    else:
        assert [a for _, a in seen] == ["", "", ""]


def test_mark_arrivals_must_be_true_or_false(tmp_path) -> None:
    config = booking_hall(tmp_path)
    assert display_options(load_config(config), "wall-1").mark_arrivals is True
    text = config.read_text(encoding="utf-8").replace('id = "wall-1"',
                                                      'id = "wall-1"\nmark_arrivals = "yes"')
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="mark_arrivals: expected true or false"):
        display_options(load_config(config, device="wall-1"), "wall-1")


@pytest.mark.e2e
@pytest.mark.gui
def test_the_wall_shows_an_appointment_called(tmp_path) -> None:
    from tests.hubproc import HubProcess

    config = booking_hall(tmp_path)

    async def drive(url: str, wall: WallProcess) -> dict:
        async with client(url, "kiosk-1") as kiosk, client(url, "term-1") as term, \
                client(url, "web-1") as web:
            await asyncio.to_thread(wall.step, "ready", {"connected": True})
            assert (await kiosk.request("issue_ticket", timeout=10, service="civil"))["ok"]
            made = await web.request("book", timeout=10, service="civil", day="2026-11-23",
                                     slot="09:30", name="张三", phone="13812345678",
                                     id_number=id_number(1))
            assert (await kiosk.request("check_in", timeout=10, code=made["booking"]["code"]))["ok"]
            assert (await term.request("login", timeout=10, window="1", staff="1001"))["ok"]
            called = await term.request("call_next", timeout=10, window="1")
            assert called["ticket"]["number"] == "A002"
            return await asyncio.to_thread(wall.step, "appointment", {"called_received": 1},
                                           shot=True)

    with HubProcess(config, tmp_path / "hall.db") as hub:
        wall = WallProcess(hub.url, tmp_path / "wall", "--size", "1920x1080", "--no-voice",
                           config=str(config))
        try:
            record = asyncio.run(drive(hub.url, wall))
        finally:
            wall.close()
    assert "民政救济 · 预约" in record["texts"]
    assert "张三" not in record["texts"] and "13812345678" not in str(record)
    assert (tmp_path / "wall" / "appointment.png").exists()
