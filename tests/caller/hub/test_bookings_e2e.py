"""Appointments through a real hub process on loopback websockets: concurrent bookings
from two connections never over-book a slot (Hypothesis), a retried request books once,
a restart keeps every booking, and the kiosk checks in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caller.core.client import HubClient
from caller.core.personal import check_character, new_secret
from tests.faults.inproc import WAIT
from tests.hubproc import DEMO_CONFIG, HubProcess

CAPACITY = 3
SLOTS = ("09:00", "09:30", "10:00")
DAY = "2026-11-24"  # the hub's clock starts Monday 2026-11-23 09:00


def id_number(n: int) -> str:
    """A made-up but valid ID number, different for every n."""
    first17 = f"110105{1950 + n % 50}0101{n % 1000:03d}"
    return first17 + check_character(first17)


def booking_hall(tmp_path: Path) -> Path:
    secret = tmp_path / "hall.secret"
    if not secret.exists():
        new_secret(secret)
    path = tmp_path / "hall.toml"
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8") + f"""
[personal]
secret_file = "hall.secret"

[booking]
appointments = true
remote = true
slot_capacity = {CAPACITY}
lead_minutes = 10
""", encoding="utf-8")
    return path


def request(n: int, slot: str) -> dict:
    return {"service": "civil", "day": DAY, "slot": slot, "name": f"市民{n}",
            "phone": f"138{n:08d}", "id_number": id_number(n)}


@pytest.mark.e2e
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=st.lists(st.sampled_from(SLOTS), min_size=1, max_size=14))
def test_concurrent_bookings_never_over_book(tmp_path_factory, wanted) -> None:
    tmp = tmp_path_factory.mktemp("hall")

    async def scenario(url: str) -> list[dict]:
        web = await HubClient(url, "web-1", "demo-web-1").start()
        admin = await HubClient(url, "admin", "demo-admin").start()
        replies = await asyncio.gather(*(
            (web if n % 2 else admin).request("book", timeout=WAIT, **request(n, slot))
            for n, slot in enumerate(wanted)))
        slots = await web.request("booking_slots", timeout=WAIT, service="civil")
        await web.close()
        await admin.close()
        return [*replies, slots]

    with HubProcess(booking_hall(tmp), tmp / "hall.db") as hub:
        *replies, slots = asyncio.run(scenario(hub.url))
    for slot in SLOTS:
        asked = wanted.count(slot)
        got = [r for r, s in zip(replies, wanted, strict=True) if s == slot and r["ok"]]
        refused = [r for r, s in zip(replies, wanted, strict=True) if s == slot and not r["ok"]]
        assert len(got) == min(asked, CAPACITY), slot
        assert all(r["error"]["code"] == "slot_full" for r in refused)
        free = next(s["free"] for d in slots["days"] if d["day"] == DAY
                    for s in d["slots"] if s["start"] == slot)
        assert free == CAPACITY - len(got)
    codes = [r["booking"]["code"] for r in replies if r["ok"]]
    assert len(set(codes)) == len(codes)


@pytest.mark.e2e
def test_a_retry_books_once_a_restart_keeps_it_and_the_kiosk_checks_in(tmp_path) -> None:
    config = booking_hall(tmp_path)

    async def book(url: str) -> tuple[dict, dict]:
        web = await HubClient(url, "web-1", "demo-web-1").start()
        first = await web.request("book", request_id="b-1", timeout=WAIT, **request(1, "09:00"))
        again = await web.request("book", request_id="b-1", timeout=WAIT, **request(1, "09:00"))
        await web.close()
        return first, again

    async def after_restart(url: str, code: str) -> tuple[dict, dict, dict]:
        web = await HubClient(url, "web-1", "demo-web-1").start()
        kiosk = await HubClient(url, "kiosk-1", "demo-kiosk-1").start()
        status = await web.request("booking_status", timeout=WAIT, code=code)
        early = await kiosk.request("check_in", timeout=WAIT, code=code)
        forbidden = await kiosk.request("book", timeout=WAIT, **request(2, "09:30"))
        await web.close()
        await kiosk.close()
        return status, early, forbidden

    with HubProcess(config, tmp_path / "hall.db") as hub:
        first, again = asyncio.run(book(hub.url))
    assert first["ok"] and again == first
    code = first["booking"]["code"]
    with HubProcess(config, tmp_path / "hall.db") as hub:
        status, early, forbidden = asyncio.run(after_restart(hub.url, code))
    assert status["booking"]["state"] == "booked" and status["booking"]["slot"] == "09:00"
    assert early["error"]["code"] == "booking_not_today"
    assert forbidden["error"]["code"] == "forbidden"
    with HubProcess(config, tmp_path / "hall.db", start_time="2026-11-24T08:45:00+08:00") as hub:
        async def check_in(url: str) -> dict:
            kiosk = await HubClient(url, "kiosk-1", "demo-kiosk-1").start()
            reply = await kiosk.request("check_in", timeout=WAIT, code=code)
            await kiosk.close()
            return reply

        reply = asyncio.run(check_in(hub.url))
    assert reply["ok"] and reply["ticket"]["priority"] == "priority"
    assert reply["ticket"]["source"] == "booking" and "holder" not in repr(reply)
