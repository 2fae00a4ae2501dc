"""Codes and cards that check in, on the real kiosk program with the simulated ID-card
reader against a real hub of a hall that takes appointments and publishes ticket pages:

- a card swiped on the home screen checks in its holder's appointment (a priority ticket
  prints); a card with no booking today is kept for the visit and takes a walk-in number;
  a card swiped on the 预约签到 screen checks in too;
- a booking's QR code (its page link, or the bare 12-digit code) checks in; too early, a
  code nobody holds and a malformed one each get their screen;
- a ticket's QR code in its page form shows where it stands; a link with a malformed code
  is 无法识别 and an unknown code is refused clearly; the kiosk goes on taking numbers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from caller.core.client import HubClient
from drivers.idcard.identities import RESIDENTS
from drivers.idcard.simulator import IdCardSimulator
from hallq.harness.web import publish_pages
from tests.caller.hub.test_bookings_e2e import booking_hall, request
from tests.hubproc import HubProcess
from tests.kiosk.kioskproc import KioskProcess, kiosk_reader, widget

pytestmark = [pytest.mark.gui, pytest.mark.e2e]
MONDAY_0845 = "2026-11-23T08:45:00+08:00"
TODAY = MONDAY_0845[:10]
PUBLIC = "https://hall.example"


def booked_by(resident: str, n: int) -> dict:
    card = RESIDENTS[resident]
    return {**request(n, "09:00"), "name": card.name, "id_number": card.id_number}


async def prepare(url: str) -> dict[str, str]:
    """Today's bookings (two by card, one by code, one too early) and a ticket issued
    elsewhere whose QR code the citizen scans."""
    async with HubClient(url, "web-1", "demo-web-1") as web, \
            HubClient(url, "admin", "demo-admin") as admin:
        found = {}
        for name, booking in (("li", booked_by("li", 11)), ("zhao", booked_by("zhao", 12)),
                              ("code", request(2, "09:00")), ("early", request(3, "10:30"))):
            reply = await web.request("book", timeout=30, **{**booking, "day": TODAY})
            assert reply["ok"], reply
            found[name] = reply["booking"]["code"]
        ticket = await admin.request("issue_ticket", service="family")
        assert ticket["ok"] and ticket["status_url"].startswith(f"{PUBLIC}/p/t/"), ticket
        found["ticket_url"] = ticket["status_url"]
        return found


def steps(found: dict[str, str]) -> list[str]:
    page = found["ticket_url"].rsplit("/", 1)[1]
    refused = ["wait screen refused"]
    return [
        "wait connected", "shot cue-li",
        "wait screen result", "wait printed 1", "shot swipe-checkin", "tap done", "wait screen home",
        "shot cue-zhang", "wait text 已读取身份证", "shot swipe-no-booking",
        "tap service:civil", "wait screen confirm", "tap confirm", "wait screen result",
        "wait printed 2", "shot swipe-walk-in", "tap done", "wait screen home",
        f"keys {PUBLIC}/p/b/{found['code']}", "wait screen result", "wait printed 3",
        "shot scan-booking", "tap done", "wait screen home",
        f"keys {found['early']}", *refused, "shot scan-booking-early", "tap home",
        f"keys {PUBLIC}/p/b/123412341234", *refused, "shot scan-booking-unknown", "tap home",
        f"keys {PUBLIC}/p/b/12341234123x", *refused, "shot scan-booking-malformed", "tap home",
        f"keys {found['ticket_url']}", "wait screen ticket_state", "wait text 下一位就是您",
        "shot scan-ticket-page", "tap home",
        f"keys {PUBLIC}/p/t/{page[:-1]}", *refused, "shot scan-ticket-malformed", "tap home",
        f"keys {PUBLIC}/p/t/{'a' * 26}", *refused, "shot scan-ticket-unknown", "tap home",
        "tap checkin_entry", "wait screen checkin", "shot cue-zhao",
        "wait screen result", "wait printed 4", "shot checkin-swipe", "tap done",
        "tap service:family", "wait screen confirm", "shot still-works",
    ]


def test_cards_and_codes_check_in_and_tickets_show_their_state(tmp_path: Path) -> None:
    config = publish_pages(booking_hall(tmp_path), PUBLIC)
    kiosk_reader(config, f'idcard = "{tmp_path / "idcard"}"')
    with IdCardSimulator(tmp_path / "idcard") as sim, \
            HubProcess(config, tmp_path / "hall.db", start_time=MONDAY_0845) as hub:
        found = asyncio.run(prepare(hub.url))
        with KioskProcess(tmp_path, hub.url, steps(found), config=config,
                          printer=f"image://{tmp_path / 'tickets'}") as kiosk:
            for resident in ("li", "zhang", "zhao"):
                kiosk.wait_for_shot(f"cue-{resident}")
                sim.swipe(RESIDENTS[resident])
            run = kiosk.finish()

    by_card, no_booking, walk_in, by_code, early, unknown, by_card_at_checkin = run.run["replies"]
    assert no_booking["error"]["code"] == "unknown_booking"  # zhang's swipe: a walk-in then
    assert by_card["ticket"]["source"] == "booking" and by_card["ticket"]["priority"] == "priority"
    assert by_card["booking"]["state"] == "checked_in"
    assert widget(run.shot("swipe-checkin"), "number")["text"] == by_card["ticket"]["number"]
    assert "签到成功" in repr(run.shot("swipe-checkin"))
    assert walk_in["ok"] and walk_in["real_name"] and walk_in["ticket"].get("source") != "booking"
    assert by_code["ticket"]["source"] == "booking" and by_code["ticket"]["priority"] == "priority"
    assert by_card_at_checkin["ticket"]["source"] == "booking"
    assert len({r["ticket"]["number"] for r in (by_card, by_code, by_card_at_checkin)}) == 3
    assert (early["error"]["code"], unknown["error"]["code"]) == ("checkin_early", "unknown_booking")
    for shot, words in (("scan-booking-early", "10:00 以后签到"), ("scan-booking-unknown", "未找到该预约")):
        assert widget(run.shot(shot), "refused_title")["text"] == "签到未成功", shot
        assert words in widget(run.shot(shot), "refused_message")["text"], shot
    for shot in ("scan-booking-malformed", "scan-ticket-malformed"):
        assert "无法识别" in widget(run.shot(shot), "refused_message")["text"], shot
    assert widget(run.shot("scan-ticket-page"), "state_number")["text"] == "C001"
    assert "未找到这张凭条" in widget(run.shot("scan-ticket-unknown"), "refused_message")["text"]
    assert len(sorted((tmp_path / "tickets").glob("*.png"))) == 4
    assert all("holder" not in repr(r) for r in run.run["replies"])
