"""A crowd of phones on their ticket pages (real hub, real `hallq web`, loopback): they open
together and follow every call, and the web server asks the hub once per change, not once
per phone."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import pytest

from hallq.benches.citizen import Phone
from hallq.harness.web import WebProcess, free_port, publishing_config
from tests.hubproc import DEMO_CONFIG, HubProcess
from tests.web.helpers import Device, Hall

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TICKETS, PHONES_PER_TICKET = 20, 3  # 60 phones, from 3 addresses (under the stream limit)


def asked(hub: HubProcess) -> int:
    """How many `queue_status` requests the hub has answered (its log)."""
    return hub.log_path.read_text(encoding="utf-8").count('"command": "queue_status"')


async def until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_crowd_of_phones_costs_the_hub_one_request_per_change(tmp_path):
    port = free_port()
    config = publishing_config(DEMO_CONFIG, tmp_path, f"http://127.0.0.1:{port}")
    db = tmp_path / "hall.db"
    with HubProcess(config, db) as hub, WebProcess(config, db, hub.url, port=port) as web:
        hall = Hall(hub, web, db)
        kiosk, clerk = Device(hall, "kiosk-1"), Device(hall, "term-1")
        try:
            clerk.ok("login", staff="1001")
            paths = [urlsplit(kiosk.ok("issue_ticket", service="civil")["status_url"]).path
                     + "/events" for _ in range(TICKETS)]
            asyncio.run(follow(hub, web, paths, clerk))
        finally:
            kiosk.stop()
            clerk.stop()


async def follow(hub: HubProcess, web: WebProcess, paths: list[str], clerk: Device) -> None:
    url = urlsplit(web.url)
    phones = [Phone(url.hostname, url.port, paths[i // PHONES_PER_TICKET],
                    f"127.0.3.{1 + i // 20}") for i in range(len(paths) * PHONES_PER_TICKET)]
    before = asked(hub)
    tasks = [asyncio.create_task(p.run()) for p in phones]
    try:
        await until(lambda: all(p.updates for p in phones))
        views = [json.loads(p.updates[-1][1]) for p in phones]
        assert [v["ahead"] for v in views] == [i // PHONES_PER_TICKET for i in range(len(phones))]
        await asyncio.sleep(0.5)
        assert asked(hub) - before == 1  # sixty pages opened on one answer

        before = asked(hub)
        await asyncio.to_thread(clerk.ok, "call_next")
        await until(lambda: all(len(p.updates) >= 2 for p in phones))
        views = [json.loads(p.updates[-1][1]) for p in phones]
        assert {v["state"] for v in views[:PHONES_PER_TICKET]} == {"called"}
        assert [v["ahead"] for v in views[PHONES_PER_TICKET:]] == [
            i // PHONES_PER_TICKET for i in range(len(phones) - PHONES_PER_TICKET)]
        await asyncio.sleep(0.5)
        assert 1 <= asked(hub) - before <= 3  # one per burst of the call's events
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def test_a_quiet_page_gets_a_keepalive_and_a_busy_one_its_view_first():
    from web.citizen.tickets import Page

    async def run() -> tuple[list[str], list[str]]:
        quiet, busy = Page(), Page()
        busy.give("view-2")
        for page in (quiet, busy):
            page.poke()
        return ([quiet.queue.get_nowait()],
                [busy.queue.get_nowait() for _ in range(busy.queue.qsize())])

    quiet, busy = asyncio.run(run())
    assert quiet == [""]  # the stream writes ": keepalive" for it
    assert busy == ["view-2"]  # a page with a view on its way needs no keepalive
