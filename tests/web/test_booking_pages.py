"""The citizen's booking pages in a phone-sized headless Chromium against a real `hallq web`
and a real hub: book, cancel, book again, change; a blacklisted person refused; remote
tickets; every bad input refused with a sentence; forms without this server's token
refused; the per-phone limit. Screenshots of the phone pages go to docs/images."""

from __future__ import annotations

import asyncio
import http.client
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from caller.core.client import HubClient
from caller.core.personal import new_secret
from hallq.harness.web import WebProcess
from tests.caller.hub.test_bookings_e2e import id_number
from tests.hubproc import DEMO_CONFIG, REPO, HubProcess

pytestmark = [pytest.mark.e2e, pytest.mark.gui]
IMAGES = REPO / "docs" / "images"
TOMORROW = "2026-11-24"  # the hub's clock starts Monday 2026-11-23 09:00


def booking_config(tmp: Path) -> Path:
    new_secret(tmp / "hall.secret")
    path = tmp / "hall.toml"
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8") + """
[personal]
secret_file = "hall.secret"

[booking]
appointments = true
slot_capacity = 2
cancel_limit = 2

[booking.services.labour]
remote = true
""", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("booking")
    config = booking_config(tmp)
    with HubProcess(config, tmp / "hall.db") as hub, WebProcess(config, tmp / "hall.db", hub.url) as web:
        yield hub, web


def fill(page, name: str, phone: str, n: int) -> None:
    page.fill("#name", name)
    page.fill("#phone", phone)
    page.fill("#id_number", id_number(n))


def request(site, method: str, path: str, form: dict | None = None, source: str = "127.0.0.1"):
    url = urlsplit(site[1].url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=(source, 0))
    try:
        body = urlencode(form) if form is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        conn.close()


def token(site, path: str, source: str = "127.0.0.1") -> str:
    status, _, html = request(site, "GET", path, source=source)
    assert status == 200, html
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_book_cancel_book_again_and_change(site, phone) -> None:
    web = site[1]
    phone.goto(web.url + "p/book")
    assert "预约办事" in phone.inner_text("h1")
    phone.click("#service-civil")
    phone.wait_for_selector("#book")
    phone.click(f'summary:has-text("{TOMORROW}")')
    tomorrow = phone.locator(f'input[value="{TOMORROW} 09:00"]')
    assert "余 2 个" in phone.locator("label.slot", has=tomorrow).inner_text()
    tomorrow.check()
    fill(phone, "张三", "13812345678", 1)
    phone.screenshot(path=str(IMAGES / "phone-book.png"), full_page=True)
    phone.click("#submit")
    phone.wait_for_selector("#booking")
    assert phone.inner_text("h1") == "预约成功"
    code = phone.inner_text("#code").replace(" ", "")
    assert re.fullmatch(r"\d{12}", code)
    assert phone.inner_text("#holder-name") == "张*" and phone.inner_text("#holder-phone") == "138****5678"
    assert "13812345678" not in phone.content() and id_number(1) not in phone.content()
    assert phone.locator("#qr").evaluate("img => img.naturalWidth") > 100
    assert "08:30–09:15" in phone.inner_text("#checkin")
    phone.screenshot(path=str(IMAGES / "phone-booking.png"), full_page=True)

    phone.click("#cancel")
    phone.wait_for_selector(".state-cancelled")
    assert phone.inner_text("h1") == "预约已取消"
    phone.click("#again")
    phone.click(f'summary:has-text("{TOMORROW}")')
    phone.locator(f'input[value="{TOMORROW} 09:30"]').check()
    fill(phone, "张三", "13812345678", 1)
    phone.click("#submit")
    phone.wait_for_selector(".state-booked")
    again = phone.inner_text("#code").replace(" ", "")
    assert again != code and f"{TOMORROW} 09:30" in phone.inner_text("#when")

    phone.click("#change")
    phone.locator(f'input[value="{TOMORROW} 14:30"]').check()
    phone.click("#submit")
    phone.wait_for_selector(".state-booked")
    assert f"{TOMORROW} 14:30" in phone.inner_text("#when")
    assert phone.inner_text("#code").replace(" ", "") == again


def test_a_full_slot_cannot_be_picked(site, phone) -> None:
    web = site[1]
    for n in (10, 11):
        phone.goto(web.url + "p/book/family")
        phone.click(f'summary:has-text("{TOMORROW}")')
        phone.locator(f'input[value="{TOMORROW} 10:00"]').check()
        fill(phone, f"市民{n}", f"1390000{n:04d}", n)
        phone.click("#submit")
        phone.wait_for_selector(".state-booked")
    phone.goto(web.url + "p/book/family")
    phone.click(f'summary:has-text("{TOMORROW}")')
    full = phone.locator(f'input[value="{TOMORROW} 10:00"]')
    assert full.is_disabled() and "已约满" in phone.locator("label.slot", has=full).inner_text()


def test_a_blacklisted_person_is_refused(site, phone) -> None:
    hub, web = site

    async def two_cancellations() -> None:
        async with HubClient(hub.url, "admin", "demo-admin") as admin:
            for slot in ("09:00", "09:30"):
                made = await admin.request("book", timeout=30, service="party", day=TOMORROW, slot=slot,
                                           name="李四", phone="13700000001", id_number=id_number(20))
                assert (await admin.request("cancel_booking", timeout=30,
                                            code=made["booking"]["code"]))["ok"]

    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, two_cancellations()).result()
    phone.goto(web.url + "p/book/party")
    phone.click(f'summary:has-text("{TOMORROW}")')
    phone.locator(f'input[value="{TOMORROW} 10:00"]').check()
    fill(phone, "李四", "13700000001", 20)
    phone.click("#submit")
    phone.wait_for_selector("#refusal")
    assert "暂停预约服务" in phone.inner_text("#refusal")
    phone.screenshot(path=str(IMAGES / "phone-banned.png"), full_page=False)


def test_remote_ticket(site, phone) -> None:
    web = site[1]
    phone.goto(web.url + "p/remote")
    phone.check('input[name="service"][value="labour"]')
    phone.fill("#phone", "13600000000")
    phone.click("#submit")
    phone.wait_for_selector("#ticket")
    assert re.fullmatch(r"B\d{3}", phone.inner_text("#number"))


@pytest.mark.parametrize(("form", "words"), [
    ({"slot": "", "name": "王五", "phone": "13812345678", "id_number": id_number(30)}, "请选择一个时段"),
    ({"slot": f"{TOMORROW} 11:00", "name": "", "phone": "13812345678", "id_number": id_number(30)},
     "请填写姓名"),
    ({"slot": f"{TOMORROW} 11:00", "name": "王五", "phone": "1381234567", "id_number": id_number(30)},
     "11 位手机号码"),
    ({"slot": f"{TOMORROW} 11:00", "name": "王五", "phone": "13812345678",
      "id_number": id_number(30)[:17] + ("1" if id_number(30)[17] == "0" else "0")}, "校验不通过"),
    ({"slot": f"{TOMORROW} 12:00", "name": "王五", "phone": "13812345679", "id_number": id_number(30)},
     "该时段不可预约"),
    ({"slot": "2026-11-28 09:00", "name": "王五", "phone": "13812345670", "id_number": id_number(31)},
     "该时段不可预约"),
    ({"slot": "<script>", "name": "<b>王</b>", "phone": "x" * 5000, "id_number": "\x00"}, "请选择一个时段"),
])
def test_bad_inputs_are_refused_with_a_sentence(site, form, words) -> None:
    path = "/p/book/build"
    status, _, html = request(site, "POST", path, {**form, "token": token(site, path, "127.0.0.3")},
                              source="127.0.0.3")
    assert status == 400 and words in html
    assert "<script>" not in html and "<b>王</b>" not in html


def test_forms_need_this_servers_token_and_codes_are_not_for_guessing(site) -> None:
    status, _, html = request(site, "POST", "/p/book/build", {"slot": f"{TOMORROW} 11:00",
                              "name": "王五", "phone": "13812345678", "id_number": id_number(40),
                              "token": "1.forged"}, source="127.0.0.4")
    assert status == 400 and "页面已过期" in html
    statuses = [request(site, "GET", f"/p/b/{n:012d}", source="127.0.0.5")[0] for n in range(25)]
    assert statuses[0] == 404 and statuses[-1] == 429
    assert request(site, "GET", "/p/b/not-a-code", source="127.0.0.6")[0] == 404


def test_one_phone_is_limited(site) -> None:
    path = "/p/remote"
    statuses = []
    for n in range(7):
        form = {"service": "labour", "phone": "13500000000", "token": token(site, path, f"127.0.1.{n}")}
        status, _, html = request(site, "POST", path, form, source=f"127.0.1.{n}")
        statuses.append(status)
        assert status != 400, html
    assert statuses[0] == 200 and statuses[-1] == 429, statuses
