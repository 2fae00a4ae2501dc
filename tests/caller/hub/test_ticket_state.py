"""ticket_state: a scanned ticket's public state for the kiosk (people ahead, the window it
is called to, held, finished), nothing personal; an ended ticket read back from the store."""

from __future__ import annotations

import asyncio

from caller.core import protocol
from caller.core.client import HubClient
from caller.core.config import parse_config
from caller.core.personal import new_secret
from caller.core.protocol import Role
from drivers.idcard.identities import RESIDENTS
from hallq.harness.web import publish_pages
from tests.caller.halls import Driver, raw
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


def published(tmp_path) -> Driver:
    """A hall that publishes ticket pages: each ticket is stored with its page code."""
    new_secret(tmp_path / "hall.secret")
    cfg = parse_config(raw(personal={"secret_file": "hall.secret"},
                           web={"public_url": "https://hall.example"}), base=tmp_path)
    d = Driver(cfg)
    d.login_all()
    return d


def page_code(reply: dict) -> str:
    return reply["status_url"].rsplit("/", 1)[1]


def test_a_ticket_is_found_by_its_page_code_and_a_code_never_issued_is_refused(tmp_path) -> None:
    d = published(tmp_path)
    first, second = d.ok("issue_ticket", service="a"), d.ok("issue_ticket", service="a")
    assert state_by_code(d, page_code(second))["number"] == second["ticket"]["number"]
    assert state_by_code(d, page_code(first))["ahead"] == 0
    unknown = "a" * 26  # the right shape, issued to nobody
    for code in (unknown, page_code(first)[:-1], page_code(first).upper(), "", "A001"):
        reply = d("ticket_state", code=code)
        assert reply["error"]["code"] == "no_such_ticket", code
        assert reply["error"]["message"] == "未找到这张凭条，请核对后重试或到服务台咨询"
    assert d("ticket_state", code=unknown, lang="en")["error"]["message"].startswith(
        "This ticket was not found")
    assert d.error("ticket_state") == "bad_request"  # neither number nor code
    assert d.error("ticket_state", number="A001", code=page_code(first)) == "bad_request"


def state_by_code(d: Driver, code: str) -> dict:
    return d.ok("ticket_state", code=code)["ticket"]


def test_through_the_hub_an_ended_ticket_is_found_by_its_code_in_the_store(tmp_path) -> None:
    config = publish_pages(real_name_hall(tmp_path), "https://hall.example")

    async def run(url: str) -> tuple[dict, dict, dict, dict]:
        async with HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk, \
                HubClient(url, "admin", "demo-admin") as admin:
            code = page_code(await kiosk.request("issue_ticket", service="family"))
            assert (await admin.request("login", window="2", staff="S2"))["ok"]
            assert (await admin.request("call_next", window="2"))["ok"]
            assert (await admin.request("finish", window="2"))["ok"]
            return (await kiosk.request("ticket_state", code=code),
                    await kiosk.request("ticket_state", code="b" * 26),
                    await kiosk.request("ticket_state", code="x" * 30),
                    await kiosk.request("ticket_state", code="x" * 5000))

    with HubProcess(config, tmp_path / "hall.db") as hub:
        done, unknown, junk, huge = asyncio.run(run(hub.url))
    assert done["ok"] and done["ticket"]["state"] == "done" and done["ticket"]["number"] == "C001"
    assert unknown["error"]["code"] == junk["error"]["code"] == "no_such_ticket"
    assert huge["error"]["code"] == "bad_request"  # the door takes 32 characters of a code
