"""The console's live hall marks an appointment at its window (预约); 预约管理 in a real
browser against a real hub and a real `hallq web`: the day's bookings with their states and
the holders masked, the day's figures the same as the report's 预约统计, and the blacklist:
a viewer sees it but may not lift, a manager lifts a ban (the person may book again) and
the audit log has it."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from caller.core.config import load_config
from caller.manager.stats import compute_report, open_readonly
from hallq.harness.web import WebProcess, add_user
from tests.caller.hub.test_bookings_e2e import id_number
from tests.hubproc import REPO, HubProcess
from tests.web.helpers import PASSWORDS, USERS, Device, Hall, login
from tests.web.test_booking_pages import booking_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TODAY = "2026-11-23"  # the hub's clock starts Monday 09:00: 09:30 and later can be booked
IMAGES = REPO / "docs" / "images"


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bookings")
    config = booking_config(tmp)
    with config.open("a", encoding="utf-8") as f:  # book at 09:00, check in at once
        f.write("\n[booking.services.civil]\nlead_minutes = 0\n")
    db = tmp / "hall.db"
    with HubProcess(config, db) as hub:
        for role in ("manager", "viewer"):
            add_user(db, USERS[role], role, PASSWORDS[role])
        with WebProcess(config, db, hub.url) as web:
            yield Hall(hub, web, db), config


@pytest.fixture(scope="module")
def day(hall):
    """Four bookings today: one checked in at the kiosk, one still booked, two cancelled by
    one person (cancel_limit = 2: banned)."""
    admin, kiosk, term = (Device(hall[0], d) for d in ("admin", "kiosk-1", "term-1"))

    def book(slot: str, n: int, phone: str) -> str:
        return admin.ok("book", service="civil", day=TODAY, slot=slot, name=f"张{n}明",
                        phone=phone, id_number=id_number(n))["booking"]["code"]

    try:
        kiosk.ok("check_in", code=book("09:30", 1, "13812345678"))
        book("10:00", 2, "13900001111")
        for slot in ("14:30", "15:00"):
            admin.ok("cancel_booking", code=book(slot, 3, "13700002222"))
        term.ok("login", window="1", staff="1001")
        assert term.ok("call_next", window="1")["ticket"]["number"] == "A001"
        yield
    finally:
        for device in (admin, kiosk, term):
            device.stop()


def figures(page) -> dict[str, str]:
    row = page.locator("#figures tr[data-service=civil]")
    return {k: row.locator(f"td[data-k={k}]").inner_text()
            for k in ("booked", "checked_in", "no_show", "cancelled")}


def test_the_day_the_figures_and_lifting_a_ban(browser, hall, day) -> None:
    site, config = hall
    viewer = login(browser, site, "viewer")
    expect(viewer.locator("#windows tr[data-window='1'] .ticket")).to_have_text("A001 民政救济 · 预约")
    viewer.goto(site.url + "/bookings")
    rows = viewer.locator("#bookings tr[data-booking]")
    expect(rows).to_have_count(4)
    states = [r.locator(".state").inner_text() for r in rows.all()]
    assert states == ["已签到", "已预约", "已取消", "已取消"]
    first = rows.first.inner_text()
    assert "张*明" in first and "138****5678" in first and "A0" in first
    html = viewer.content()
    assert "13812345678" not in html and "张1明" not in html and id_number(1) not in html
    assert figures(viewer) == {"booked": "4", "checked_in": "1", "no_show": "0", "cancelled": "2"}

    conn = open_readonly(site.db)  # the report's 预约统计 says the same
    try:
        report = compute_report(conn, date.fromisoformat(TODAY), date.fromisoformat(TODAY),
                                config=load_config(config))
    finally:
        conn.close()
    civil = next(r for r in report.bookings if r["service"] == "civil")
    assert {k: str(civil[k]) for k in ("booked", "checked_in", "no_show", "cancelled")} == figures(viewer)

    ban = viewer.locator("#bans tr[data-ban]")
    expect(ban).to_have_count(1)
    assert "张*明" in ban.inner_text() and "取消预约 2 次" in ban.inner_text()
    assert ban.locator("button").count() == 0  # a viewer sees, a manager lifts
    refused = viewer.request.post(site.url + f"/bookings/bans/{ban.get_attribute('data-ban')}/lift",
                                  form={"csrf": viewer.get_attribute("meta[name=csrf]", "content")})
    assert refused.status == 403
    viewer.context.close()

    manager = login(browser, site, "manager")
    manager.goto(site.url + "/bookings")
    manager.screenshot(path=str(IMAGES / "console-bookings.png"), full_page=True)
    manager.locator("#bans tr[data-ban] button").click()
    expect(manager.locator("#flash")).to_have_text("已完成")
    expect(manager.locator("#bans tr[data-ban]")).to_have_count(0)
    manager.goto(site.url + "/audit")
    lifted = manager.locator("tr", has_text="解除失信限制")
    expect(lifted).to_have_count(1)
    assert USERS["manager"] in lifted.inner_text()
    forbidden = manager.locator("tr", has_text="越权操作")
    expect(forbidden).to_have_count(1)
    manager.context.close()

    admin = Device(site, "admin")
    try:  # lifted: the person books again
        admin.ok("book", service="civil", day=TODAY, slot="15:30", name="张3明",
                 phone="13700002222", id_number=id_number(3))
    finally:
        admin.stop()


def test_a_bad_day_is_a_sentence(browser, hall) -> None:
    site, _ = hall
    viewer = login(browser, site, "viewer")
    viewer.goto(site.url + "/bookings?day=tomorrow&service=<b>")
    expect(viewer.locator("#error")).to_have_text("日期格式应为 2026-11-01")
    viewer.context.close()
