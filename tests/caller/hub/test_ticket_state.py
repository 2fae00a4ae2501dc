"""ticket_state: a scanned ticket's public state for the kiosk (people ahead, the window it
is called to, held, finished), nothing personal; an ended ticket read back from the store."""

from __future__ import annotations

import asyncio

from caller.core import protocol
from caller.core.client import HubClient
from caller.core.personal import new_secret
from caller.core.protocol import Role
from drivers.idcard.identities import RESIDENTS
from tests.caller.halls import Driver
from tests.caller.hub.test_real_name import hall, swipe
from tests.caller.hub.test_real_name_e2e import real_name_hall
from tests.hubproc import HubProcess


def state(d: Driver, number: str, **args) -> dict:
    return d.ok("ticket_state", number=number, **args)["ticket"]


def test_a_waiting_ticket_says_how_many_are_ahead_and_a_called_one_where_to_go() -> None:
    d = Driver()
    d.login_all()
    first, second, third = d.issue("a"), d.issue("a"), d.issue("a")
    before = d.engine.snapshot(d.clock.now)
    assert state(d, third) == state(d, third)
    assert d.engine.snapshot(d.clock.now) == before  # read-only: asking changes nothing
    assert (state(d, first)["ahead"], state(d, third)["ahead"]) == (0, 2)
    assert d.call("1") == first
    called = state(d, first)
    assert (called["state"], called["window_name"], called["ahead"]) == ("called", "1号窗口", None)
    assert state(d, third)["ahead"] == 1
    assert state(d, second)["service_name"] == "甲业务"


def test_a_number_not_issued_today_is_refused_with_words_for_the_citizen() -> None:
    d = Driver()
    d.issue("a")
    assert d.error("ticket_state", number="A999") == "no_such_ticket"
    assert d.error("ticket_state", number="A001", day="2026-11-22") == "no_such_ticket"
    reply = d("ticket_state", number="A999", lang="en")
    assert reply["error"]["message"] == "There is no ticket A999 today; please check the number on the slip"


def test_a_real_name_tickets_state_carries_nothing_personal(tmp_path) -> None:
    new_secret(tmp_path / "hall.secret")
    d = hall(tmp_path / "hall.secret")
    number = d.ok("issue_ticket", service="a", person=swipe("wang"))["ticket"]["number"]
    reply = d.ok("ticket_state", number=number)
    text = repr(reply)
    card = RESIDENTS["wang"]
    for secret in (card.name, "王*国", card.id_number[-4:], "holder", "phone"):
        assert secret not in text
    assert "ticket_state" in protocol.ROLE_COMMANDS[Role.KIOSK]


def test_through_the_hub_an_ended_ticket_is_read_back_from_the_store(tmp_path) -> None:
    config = real_name_hall(tmp_path)

    async def run(url: str) -> list[dict]:
        kiosk = HubClient(url, "kiosk-1", "demo-kiosk-1")
        admin = HubClient(url, "admin", "demo-admin")
        await kiosk.start()
        await admin.start()
        try:
            ticket = (await kiosk.request("issue_ticket", service="family"))["ticket"]
            seen = [await kiosk.request("ticket_state", number=ticket["number"])]
            window = "2"
            assert (await admin.request("login", window=window, staff="S2"))["ok"]
            assert (await admin.request("call_next", window=window))["ok"]
            seen.append(await kiosk.request("ticket_state", number=ticket["number"]))
            assert (await admin.request("finish", window=window))["ok"]
            seen.append(await kiosk.request("ticket_state", number=ticket["number"]))
            seen.append(await kiosk.request("ticket_state", number=ticket["number"]))
            return seen
        finally:
            await kiosk.close()
            await admin.close()

    with HubProcess(config, tmp_path / "hall.db") as hub:
        waiting, called, done, again = asyncio.run(run(hub.url))
    assert waiting["ok"] and waiting["ticket"]["state"] == "waiting"
    assert called["ticket"]["state"] == "called" and called["ticket"]["window_name"]
    assert done["ticket"]["state"] == "done" and again["ticket"] == done["ticket"]
