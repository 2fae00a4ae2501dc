"""Scan to page: the kiosk's ticket code draws the QR, we decode it from the ticket image,
open it on a phone-sized Chromium and follow the ticket through a real hub and a real
`hallq web` (loopback) as clerks call, pass, transfer and finish."""

from __future__ import annotations

import http.client
import itertools
import re
from urllib.parse import urlsplit

import pytest
import zxingcpp
from playwright.sync_api import expect

from hallq.harness.web import WebProcess, free_port, publishing_config
from kiosk.model import qr_data, ticket_print
from kiosk.ticket_layout import render_raster
from tests.hubproc import DEMO_CONFIG, HubProcess
from tests.web.helpers import Device, Hall

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phone")
    port = free_port()
    config = publishing_config(DEMO_CONFIG, tmp, f"http://127.0.0.1:{port}")
    db = tmp / "hall.db"
    with HubProcess(config, db) as hub, WebProcess(config, db, hub.url, port=port) as web:
        yield Hall(hub, web, db)


@pytest.fixture(scope="module")
def devices(hall):
    made = {d: Device(hall, d) for d in ("kiosk-1", "term-1", "term-2", "admin")}
    made["term-1"].ok("login", staff="1001")
    yield made
    for d in made.values():
        d.stop()


def printed_url(reply: dict) -> str:
    """Print the ticket as the kiosk does and read its QR code back from the image."""
    ticket = ticket_print(reply, qr_data(reply), "青山镇便民服务中心", "")
    assert ticket.status_page
    image = render_raster(ticket)
    found = zxingcpp.read_barcodes(image.convert("L"))
    assert [r.format for r in found] == [zxingcpp.BarcodeFormat.QRCode]
    return found[0].text


def phone(browser, lang="zh-CN"):
    return browser.new_context(**{**PHONE, "locale": lang}).new_page()


def get(hall, path: str, source: str = "127.0.0.1") -> tuple[int, str]:
    url = urlsplit(hall.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_scan_the_ticket_and_follow_it_to_the_window(browser, hall, devices):
    kiosk, clerk = devices["kiosk-1"], devices["term-1"]
    first = kiosk.ok("issue_ticket", service="civil")
    before = kiosk.ok("issue_ticket", service="civil")
    mine = kiosk.ok("issue_ticket", service="civil")
    url = printed_url(mine)
    assert re.fullmatch(rf"{hall.url}/p/t/[a-z2-7]{{26}}", url)
    # neighbouring tickets' codes share nothing a guesser could walk from (the code is a
    # keyed hash, not the number or the id in disguise)
    codes = [printed_url(t).rsplit("/", 1)[1] for t in (first, before, mine)]
    assert len(set(codes)) == 3
    assert all(a[:4] != b[:4] for a, b in itertools.pairwise(codes))

    page = phone(browser)
    page.goto(url)
    expect(page.locator("#number")).to_have_text(mine["ticket"]["number"])
    expect(page.locator("#service")).to_have_text("民政救济")
    expect(page.locator("#ahead_text")).to_have_text("前面还有 2 人")
    expect(page.locator("#wait_text")).to_contain_text("预计等候约")
    expect(page.locator("#windows")).to_contain_text("1号窗口")
    expect(page.locator("#materials")).to_contain_text("身份证")
    expect(page.locator("#near")).to_be_visible()  # fewer than three ahead: almost your turn
    page.screenshot(path="docs/images/phone-ticket-waiting.png")
    page.click("#alerts")  # sound needs a touch on a phone

    assert clerk.ok("call_next")["ticket"]["number"] == first["ticket"]["number"]
    expect(page.locator("#ahead_text")).to_have_text("前面还有 1 人")
    clerk.ok("call_next")
    expect(page.locator("#ahead_text")).to_have_text("下一位就是您")
    called = clerk.ok("call_next")
    assert called["ticket"]["number"] == mine["ticket"]["number"]
    expect(page.locator("#headline")).to_have_text("请到 1号窗口办理")
    expect(page.locator("#ticket")).to_have_attribute("data-state", "called")
    assert page.evaluate("window.hallqTicket.beeps") >= 1
    page.screenshot(path="docs/images/phone-ticket-called.png")

    clerk.ok("recall")
    expect(page.locator("#notes")).to_contain_text("第 2 次呼叫")
    clerk.ok("finish")
    expect(page.locator("#headline")).to_have_text("办理完毕，感谢您的耐心等候")
    expect(page.locator("#ahead_text")).to_be_hidden()
    page.screenshot(path="docs/images/phone-ticket-done.png")
    page.reload()  # the finished state is read back from the hall database
    expect(page.locator("#headline")).to_have_text("办理完毕，感谢您的耐心等候")
    page.context.close()


def test_transfers_holds_and_passes_show_as_such(browser, hall, devices):
    kiosk, clerk = devices["kiosk-1"], devices["term-1"]
    mine = kiosk.ok("issue_ticket", service="civil")
    page = phone(browser)
    page.goto(printed_url(mine))
    assert clerk.ok("call_next")["ticket"]["id"] == mine["ticket"]["id"]
    clerk.ok("hold")
    expect(page.locator("#headline")).to_have_text("业务已挂起")
    expect(page.locator("#notes")).to_contain_text("1号窗口")
    clerk.ok("call_held", ticket=mine["ticket"]["id"])
    expect(page.locator("#ticket")).to_have_attribute("data-state", "called")
    clerk.ok("transfer", to_service="labour")
    expect(page.locator("#headline")).to_have_text("正在排队")
    expect(page.locator("#notes")).to_contain_text("转办")
    page.context.close()


def test_an_english_ticket_gets_an_english_page(browser, hall, devices):
    mine = devices["kiosk-1"].ok("issue_ticket", service="family", lang="en")
    page = phone(browser, "en-US")
    page.goto(printed_url(mine))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#headline")).to_have_text("Waiting")
    expect(page.locator("body")).to_contain_text("Please bring")
    page.screenshot(path="docs/images/phone-ticket-english.png")
    page.context.close()


def test_the_page_carries_no_token_cookie_or_personal_data(hall, devices):
    mine = devices["kiosk-1"].ok("issue_ticket", service="civil")
    path = urlsplit(mine["status_url"]).path
    status, html = get(hall, path)
    assert status == 200 and mine["ticket"]["number"] in html
    assert "demo-" not in html and "token" not in html.lower()
    status, view = get(hall, path + "/view")
    assert status == 200 and '"state":"waiting"' in view and "holder" not in view


@pytest.mark.parametrize("code", ["aaaaaaaaaaaaaaaaaaaaaaaaaa", "A001", "1", "x" * 300, "%3Cscript%3E",
                                  "..%2F..%2Fetc%2Fpasswd"])
def test_an_unknown_or_malformed_code_finds_nothing(hall, code):
    status, html = get(hall, f"/p/t/{code}", source="127.0.0.21")
    assert status == 404 and ("没有找到这张号票" in html or "页面不存在" in html)
    assert get(hall, f"/p/t/{code}/events", source="127.0.0.21")[0] == 404


def test_guessing_codes_stops_at_the_limit(hall, devices):
    mine = devices["kiosk-1"].ok("issue_ticket", service="civil")
    path = urlsplit(mine["status_url"]).path
    misses = [get(hall, f"/p/t/{'b' * 25}{c}", source="127.0.0.22")[0] for c in "abcdefghijklmnopqrstuvwxyz"]
    assert misses[:20] == [404] * 20 and set(misses[20:]) == {429}
    assert get(hall, path, source="127.0.0.22")[0] == 429  # even a real code, for a while
    assert get(hall, path, source="127.0.0.23")[0] == 200  # other phones are not punished


def test_yesterdays_ticket_has_expired(hall, devices, tmp_path):
    import sqlite3

    mine = devices["kiosk-1"].ok("issue_ticket", service="civil")
    path = urlsplit(mine["status_url"]).path
    conn = sqlite3.connect(hall.db)
    with conn:  # as if it were issued yesterday: the page is over
        conn.execute("UPDATE tickets SET day = '2000-01-01' WHERE id = ?", (mine["ticket"]["id"],))
    conn.close()
    status, html = get(hall, path, source="127.0.0.24")
    assert status == 410 and "号票已过期" in html
