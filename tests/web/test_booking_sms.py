"""Booking with a code by SMS (`[booking] sms_verification`), in a phone-sized headless
Chromium against a real `hallq web` and a real hub, the `file` SMS sender standing in for
the gateway: the code goes to the phone given; a wrong code is refused with the tries
left, the right one books; a resent code voids the old one; too many wrong codes end the
wait; codes are limited per phone; nothing but `/p/` is loaded. The codes' lifetime and
tries on a clock of the test's own."""

from __future__ import annotations

import json
import re

import pytest

from caller.core.config import ConfigError, load_config
from hallq.harness.web import WebProcess
from tests.caller.hub.test_bookings_e2e import id_number
from tests.hubproc import HubProcess
from tests.web.test_booking_pages import IMAGES, TOMORROW, booking_config, request, token
from web.citizen.verify import CODE_TTL_S, MAX_TRIES, Verifications

pytestmark = [pytest.mark.e2e, pytest.mark.gui]


def sms_config(tmp):
    config = booking_config(tmp)
    text = config.read_text(encoding="utf-8").replace(
        "[booking]\n", "[booking]\nsms_verification = true\n", 1)
    config.write_text(text + '\n[sms]\nsender = "file"\nfile = "sms.jsonl"\n', encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sms")
    config = sms_config(tmp)
    with HubProcess(config, tmp / "hall.db") as hub, WebProcess(config, tmp / "hall.db", hub.url) as web:
        yield hub, web, tmp / "sms.jsonl"


def codes(outbox, phone: str) -> list[str]:
    """The codes texted to `phone`, oldest first."""
    if not outbox.exists():
        return []
    sent = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    return [re.search(r"验证码为(\d{6})", m["text"]).group(1) for m in sent
            if m["kind"] == "verify" and m["phone"] == phone]


def fill_booking(page, url: str, slot: str, name: str, phone: str, n: int) -> None:
    page.goto(url + "p/book/civil")
    page.click(f'summary:has-text("{TOMORROW}")')
    page.locator(f'input[value="{TOMORROW} {slot}"]').check()
    page.fill("#name", name)
    page.fill("#phone", phone)
    page.fill("#id_number", id_number(n))
    page.click("#submit")
    page.wait_for_selector("#verify")


def test_the_right_code_books_a_wrong_one_does_not(site, phone) -> None:
    _, web, outbox = site
    loaded = []
    phone.on("request", lambda r: loaded.append(r.url))
    fill_booking(phone, web.url, "09:00", "张三", "13812345678", 1)
    assert "138****5678" in phone.inner_text("#sent")
    assert "13812345678" not in phone.content() and id_number(1) not in phone.content()
    (code,) = codes(outbox, "13812345678")
    phone.screenshot(path=str(IMAGES / "phone-book-code.png"), full_page=True)
    phone.fill("#code", f"{(int(code) + 1) % 10**6:06d}")
    phone.click("#submit")
    phone.wait_for_selector("#refusal")
    assert f"还可再试 {MAX_TRIES - 1} 次" in phone.inner_text("#refusal")
    phone.fill("#code", code)
    phone.click("#submit")
    phone.wait_for_selector(".state-booked")
    assert f"{TOMORROW} 09:00" in phone.inner_text("#when")
    assert all(re.match(r"http://127\.0\.0\.1:\d+/p/", url) or url.startswith("data:")
               for url in loaded), loaded

    # the same code does not book twice: the wait is over
    status, _, html = request(site, "POST", "/p/book/civil/verify",
                              {"pending": "x", "code": code, "token": token(site, "/p/book/civil")})
    assert status == 400 and "验证码已失效" in html


def test_a_resent_code_voids_the_old_and_wrong_codes_end_the_wait(site, phone) -> None:
    _, web, outbox = site
    fill_booking(phone, web.url, "09:30", "李四", "13700000002", 2)
    phone.click("#resend")
    phone.wait_for_selector("#verify")
    assert "已重新发送" in phone.inner_text("#sent")
    old, new = codes(outbox, "13700000002")
    wrong = "000000" if new != "000000" else "111111"
    for n, code in enumerate([old if old != new else wrong] + [wrong] * (MAX_TRIES - 1)):
        phone.fill("#code", code)
        phone.click("#submit")
        phone.wait_for_selector("#refusal")
        if n < MAX_TRIES - 1:  # the old code is as wrong as any other
            assert f"还可再试 {MAX_TRIES - 1 - n} 次" in phone.inner_text("#refusal")
    assert "验证码已失效" in phone.inner_text("#refusal")
    assert phone.locator("#book").count() == 1  # the form again, to send anew


def test_codes_are_limited_per_phone(site) -> None:
    _, _, outbox = site
    path = "/p/book/civil"
    statuses = []
    for n in range(4):
        form = {"slot": f"{TOMORROW} 10:00", "name": "王五", "phone": "13600000003",
                "id_number": id_number(3), "token": token(site, path, f"127.0.2.{n}")}
        statuses.append(request(site, "POST", path, form, source=f"127.0.2.{n}")[0])
    assert statuses == [200, 200, 200, 429]
    assert len(codes(outbox, "13600000003")) == 3


def test_a_code_lives_five_minutes_and_a_few_tries() -> None:
    now = [0.0]
    waiting = Verifications(clock=lambda: now[0])
    key, pending = waiting.start("civil", {"phone": "13800000000"})
    now[0] = CODE_TTL_S - 1
    assert waiting.check(key, "x")[0] == "wrong"
    assert waiting.check(key, pending.code)[0] == "ok"
    assert waiting.check(key, pending.code)[0] == "gone"  # once
    key, pending = waiting.start("civil", {"phone": "13800000000"})
    now[0] += CODE_TTL_S
    assert waiting.check(key, pending.code) == ("gone", None)
    key, pending = waiting.start("civil", {"phone": "13800000000"})
    for _ in range(MAX_TRIES - 1):
        assert waiting.check(key, "wrong")[0] == "wrong"
    assert waiting.check(key, "wrong")[0] == "gone"
    assert waiting.check(key, pending.code)[0] == "gone"


def test_verification_needs_an_sms_sender(tmp_path) -> None:
    config = sms_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text[:text.index("\n[sms]")], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"booking.sms_verification: needs the hall's SMS sender"):
        load_config(config)
