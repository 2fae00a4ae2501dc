"""The clerk's terminal marks how a ticket came, headless against a real hub: an appointment
checked in at the kiosk (预约, called first), a kiosk ticket (no mark), a remote ticket
(线上取号); held tickets keep their mark in the list they are called back from."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.caller.hub.test_bookings_e2e import booking_hall, id_number
from tests.caller.terminal.gui import client, looks_drawn, run_terminal
from tests.hubproc import HubProcess

pytestmark = [pytest.mark.gui, pytest.mark.e2e]
TODAY = "2026-11-23"  # the hub's clock starts Monday 09:00; 09:30 is bookable until 09:20


async def arrive(url: str) -> None:
    """A001 from the kiosk, A002 taken remotely, then an appointment checks in (A003)."""
    async with client(url, "kiosk-1") as kiosk, client(url, "web-1") as web:
        assert (await kiosk.request("issue_ticket", timeout=10, service="civil"))["ok"]
        assert (await web.request("remote_ticket", timeout=10, service="civil",
                                  phone="13600000000"))["ok"]
        made = await web.request("book", timeout=10, service="civil", day=TODAY, slot="09:30",
                                 name="张三", phone="13812345678", id_number=id_number(1))
        assert made["ok"], made
        checked = await kiosk.request("check_in", timeout=10, code=made["booking"]["code"])
        assert checked["ok"] and checked["ticket"]["number"] == "A003", checked


def shown(run, shot: str) -> str:
    """A shot's texts as the clerk reads them (Kivy markup taken out)."""
    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", run.texts(shot))


def test_the_terminal_marks_appointments_and_remote_tickets(tmp_path) -> None:
    steps = [
        {"wait": {"connected": True, "waiting": 3}},
        {"key": "F12"}, {"wait": {"popup": "login"}}, {"type": "1001"}, {"key": "enter"},
        {"wait": {"state": "idle", "staff": "1001"}},
        {"press": "call_next"}, {"wait": {"ticket": "A003", "arrival": "booking"}},
        {"shot": "appointment"},
        {"press": "hold"}, {"wait": {"held": ["A003"], "held_arrivals": ["booking"]}},
        {"press": "call_next"}, {"wait": {"ticket": "A001", "arrival": ""}}, {"shot": "kiosk"},
        {"press": "finish"}, {"wait": {"ticket": None}},
        {"press": "call_next"}, {"wait": {"ticket": "A002", "arrival": "remote"}}, {"shot": "remote"},
        {"press": "call_held"}, {"wait": {"popup": "held"}}, {"shot": "held"},
        {"key": "escape"}, {"wait": {"popup": None}},
    ]
    config = booking_hall(tmp_path)

    async def scenario(url: str):
        await arrive(url)
        return await run_terminal(url, tmp_path / "shots", steps, config=config)

    with HubProcess(config, tmp_path / "hall.db") as hub:
        run = asyncio.run(scenario(hub.url))
    run.check()
    assert "民政救济 · 预约 · 张*（身份证尾号" in shown(run, "appointment")  # and the holder
    assert "预约" not in shown(run, "kiosk") and "线上取号" not in shown(run, "kiosk")
    assert "民政救济 · 线上取号" in shown(run, "remote")
    assert "A003 民政救济 · 预约" in shown(run, "held")
    for shot in run.shots:
        assert looks_drawn(run.image(shot)), shot
