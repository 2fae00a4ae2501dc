"""预约签到 on the real kiosk program against a real hub: the code typed on the keypad gives
a priority ticket that prints; phone + ID last six; too early, another day and an
unknown code each get a clear screen. Screenshots go to the test's shots folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from caller.core.client import HubClient
from kiosk.checkin_entry import CheckinEntry
from tests.caller.hub.test_bookings_e2e import booking_hall, request
from tests.hubproc import HubProcess
from tests.kiosk.kioskproc import LANDSCAPE, run_kiosk, widget

pytestmark = [pytest.mark.gui, pytest.mark.e2e]
MONDAY_0845 = "2026-11-23T08:45:00+08:00"


def typed(text: str) -> list[str]:
    return [f"tap key:{c}" for c in text]


async def make_bookings(url: str) -> dict[str, str]:
    async with HubClient(url, "web-1", "demo-web-1") as web:
        codes = {}
        for name, n, day, slot in (("now", 1, "2026-11-23", "09:00"),
                                   ("phone", 2, "2026-11-23", "09:00"),
                                   ("early", 3, "2026-11-23", "10:30"),
                                   ("tomorrow", 4, "2026-11-24", "09:00")):
            reply = await web.request("book", timeout=30, **{**request(n, slot), "day": day})
            assert reply["ok"], reply
            codes[name] = reply["booking"]["code"]
        return codes


def test_check_in_at_the_kiosk(tmp_path: Path) -> None:
    config = booking_hall(tmp_path)
    with HubProcess(config, tmp_path / "hall.db", start_time=MONDAY_0845) as hub:
        codes = asyncio.run(make_bookings(hub.url))
        phone, last6 = request(2, "09:00")["phone"], request(2, "09:00")["id_number"][-6:]
        run = run_kiosk(tmp_path, hub.url, [
            "wait connected", "shot home",
            "tap checkin_entry", "wait screen checkin", "shot checkin-empty",
            *typed(codes["now"]), "shot checkin-code",
            "tap checkin_submit", "wait screen result", "wait printed 1", "shot checkin-result",
            "tap done", "wait screen home",
            "tap checkin_entry", *typed(codes["now"]), "tap checkin_submit",
            "wait screen result", "wait printed 2", "tap done",  # again: the same ticket
            "tap checkin_entry", *typed("1234" * 3), "tap checkin_submit",
            "wait screen refused", "shot checkin-unknown", "tap home",
            "tap checkin_entry", *typed(codes["early"]), "tap checkin_submit",
            "wait screen refused", "shot checkin-early", "tap home",
            "tap checkin_entry", *typed(codes["tomorrow"]), "tap checkin_submit",
            "wait screen refused", "shot checkin-tomorrow", "tap home",
            "tap checkin_entry", "tap checkin_switch", *typed(phone), *typed(last6),
            "shot checkin-phone", "tap checkin_submit", "wait screen result", "wait printed 3",
            "shot checkin-phone-result",
        ], size=LANDSCAPE, printer=f"image://{tmp_path / 'tickets'}", config=config)

    home = run.shot("home")
    assert "预约签到" in widget(home, "checkin_entry")["text"]
    empty = run.shot("checkin-empty")
    assert widget(empty, "checkin_submit")["disabled"] and widget(empty, "key:X")["disabled"]
    code = run.shot("checkin-code")
    assert widget(code, "checkin_field:code")["text"].replace(" ", "").rstrip("_") == codes["now"]
    assert not widget(code, "checkin_submit")["disabled"]

    result = run.shot("checkin-result")
    assert widget(result, "number")["text"] == "A001"
    assert any("签到成功" in t for t in result["texts"])
    assert "优先" in " ".join(result["texts"])  # the priority badge
    replies = run.run["replies"]
    assert replies[0]["ticket"]["source"] == "booking" and replies[0]["ticket"]["priority"] == "priority"
    assert replies[1]["existing"] and replies[1]["ticket"]["number"] == "A001"
    assert all("holder" not in repr(r) for r in replies)

    for shot, words in (("checkin-unknown", "未找到该预约"), ("checkin-early", "10:00 以后签到"),
                        ("checkin-tomorrow", "2026-11-24")):
        screen = run.shot(shot)
        assert widget(screen, "refused_title")["text"] == "签到未成功"
        assert words in widget(screen, "refused_message")["text"], shot

    phone_shot = run.shot("checkin-phone")
    assert widget(phone_shot, "checkin_field:phone")["text"].rstrip("_") == phone
    assert widget(run.shot("checkin-phone-result"), "number")["text"] == "A002"
    tickets = sorted((tmp_path / "tickets").glob("*.png"))
    assert len(tickets) == 3


def test_the_entry_takes_only_what_fits() -> None:
    entry = CheckinEntry()
    for key in "12345678901234":
        entry.key(key)
    assert entry.code == "123456789012" and entry.complete
    entry.key("X")
    assert entry.code == "123456789012"
    entry.switch("phone")
    for key in "13812345678" + "X0":
        entry.key(key)
    assert (entry.phone, entry.id_last6) == ("13812345678", "0")  # X only as the last
    entry = CheckinEntry()
    entry.switch("phone")
    for key in "13812345678" + "01234" + "X":
        entry.key(key)
    assert entry.request() == {"phone": "13812345678", "id_last6": "01234X"}
    for _ in range(7):
        entry.key("del")
    assert (entry.phone, entry.id_last6, entry.field) == ("1381234567", "", "phone")
