"""The screen evaluator in Debian's Chromium at tablet size, against a real hub and a real
`hallq web`: the manager makes a pairing code, the tablet pairs, shows the staff card
(portrait, name, 工号, stars) or 暂停服务, a rating at each of the five levels, the reasons
and words of a bad one, a rating that times out; the alert and the case open; the record
rows carry the reasons, the words and the staff member; and what it refuses: a wrong or
expired code, a revoked tablet, too long a text, a window that is not its own. The staff
roster is managed on the console's 人员 page (a portrait upload checked and re-drawn) and
with `hallq staff`. The tablet rides out a lost console and a lost hub. Staff portraits
are generated placeholders (`portrait.placeholder`), no real people."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import time
from datetime import date

import pytest
from PIL import Image
from playwright.sync_api import expect

from caller.core import portrait
from caller.core.config import load_config
from caller.manager import record
from caller.manager.stats import open_readonly
from drivers.fonts import find_cjk_font
from hallq.harness.web import WebProcess, add_user
from tests.hubproc import DEMO_CONFIG, HubProcess
from tests.web.helpers import PASSWORDS, USERS, Device, Hall, login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TABLET = (1280, 800)
LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
TIMEOUT_S = 4


def staff_portrait(name: str, fmt: str, colour: tuple[int, int, int]) -> bytes:
    """A generated portrait (no real person), as a `fmt` upload."""
    out = io.BytesIO()
    Image.open(io.BytesIO(portrait.placeholder(name, colour, find_cjk_font()))).save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def screen_hall(tmp_path_factory):
    """The demo hall with a short rating timeout and logins checked against the roster."""
    tmp = tmp_path_factory.mktemp("screen")
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace(
        "rating_timeout_s = 15", f"rating_timeout_s = {TIMEOUT_S}")
    config = tmp / "hall.toml"
    config.write_text(text + "\n[staff]\nroster_required = true\n", encoding="utf-8")
    db = tmp / "hall.db"
    with HubProcess(config, db) as hub:
        for role, name in USERS.items():
            add_user(db, name, role, PASSWORDS[role])
        with WebProcess(config, db, hub.url) as web:
            yield Hall(hub, web, db), config


@pytest.fixture(scope="module")
def people(screen_hall):
    hall, config = screen_hall
    made = {d: Device(hall, d) for d in ("kiosk-1", "term-1", "term-2", "admin", "screen-1")}
    photo = hall.db.parent / "wang.png"
    photo.write_bytes(staff_portrait("王小红", "PNG", (52, 101, 164)))
    staff = [sys.executable, "-m", "hallq", "staff", "--config", str(config), "--hub", hall.hub.url]
    for args in (["add", "1001", "--name", "王小红", "--title", "综合受理员", "--stars", "4",
                  "--windows", "1,2"], ["photo", "1001", str(photo)], ["list"]):
        done = subprocess.run([*staff, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert "王小红" in done.stdout and "有照片" in done.stdout
    refused = subprocess.run([*staff, "photo", "1001", str(config)], capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == 1 and "不是可读的" in refused.stderr
    yield made
    for d in made.values():
        d.stop()


def pair(browser, hall: Hall, window: str, viewport=TABLET):
    """A manager makes a code for `window`; a new tablet context pairs with it."""
    manager = login(browser, hall, "manager")
    manager.goto(hall.url + "/screens")
    manager.locator(f"#screen-windows tr[data-window='{window}'] button").click()
    code = manager.locator("#pairing-code .code").inner_text()
    manager.context.close()
    tablet = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                 locale="zh-CN").new_page()
    tablet.goto(hall.url + "/e/")
    tablet.fill("input[name=code]", code)
    tablet.click("#pair-form button")
    expect(tablet.locator("#window-name")).to_be_visible()
    return tablet, code


def serve(people, window: str = "1") -> str:
    people["kiosk-1"].ok("issue_ticket", service="civil")
    term = people[f"term-{window}"]
    number = term.ok("call_next", window=window)["ticket"]["number"]
    term.ok("finish", window=window)
    return number


def test_pair_rate_every_level_give_reasons_and_time_out(browser, screen_hall, people):
    hall, config = screen_hall
    tablet, _ = pair(browser, hall, "1")
    shots = hall.db.parent
    expect(tablet.locator("#paused")).to_be_visible()  # nobody logged in
    expect(tablet.locator("#paused .big")).to_have_text("暂停服务")
    tablet.screenshot(path=str(shots / "screen-paused.png"))

    refused = people["term-1"].client.request("login", window="1", staff="9999").result(10)
    assert refused["error"]["code"] == "unknown_staff"
    people["term-1"].ok("login", window="1", staff="1001")
    expect(tablet.locator("#welcome")).to_be_visible()
    expect(tablet.locator("#staff-name")).to_have_text("王小红")
    expect(tablet.locator("#staff-no")).to_have_text("1001")
    expect(tablet.locator("#staff-title")).to_have_text("综合受理员")
    expect(tablet.locator("#stars")).to_have_text("★★★★☆")
    expect(tablet.locator("#photo")).to_be_visible()
    assert tablet.eval_on_selector("#photo", "img => img.complete && img.naturalWidth") == 240
    people["term-1"].ok("pause", window="1", reason="午休")
    expect(tablet.locator("#paused .big")).to_have_text("暂停服务")  # paused: the same
    people["term-1"].ok("resume", window="1")
    expect(tablet.locator("#welcome")).to_be_visible()

    numbers = {}
    for level in LEVELS:
        numbers[level] = serve(people)
        expect(tablet.locator("#rating")).to_be_visible()
        if level == "very_satisfied":
            tablet.screenshot(path=str(shots / "screen-rating.png"))
        tablet.click(f"button[data-level={level}]")
        if level in ("dissatisfied", "very_dissatisfied"):
            expect(tablet.locator("#reasons")).to_be_visible()
            if level == "very_dissatisfied":
                tablet.click("#submit-reasons")  # nothing picked: asked again
                expect(tablet.locator("#reasons-error")).to_have_text("请至少选择一项原因")
                tablet.click("button[data-reason=效率低]")
                expect(tablet.locator("#reasons-error")).to_be_hidden()  # a reason picked: no nagging
                tablet.click("button[data-reason=态度不好]")
                tablet.fill("#comment", "等了很久，窗口解释不清")
                tablet.screenshot(path=str(shots / "screen-reasons.png"))
                tablet.click("#submit-reasons")
                expect(tablet.locator("#thanks-text")).to_have_text("感谢您的反馈，我们会尽快改进")
            else:
                tablet.click("#skip-reasons")
        else:
            expect(tablet.locator("#thanks-text")).to_have_text("感谢您的评价！")
        expect(tablet.locator("#thanks")).to_be_hidden(timeout=10_000)

    timed_out = serve(people)
    expect(tablet.locator("#rating")).to_be_visible()
    expect(tablet.locator("#welcome")).to_be_visible(timeout=(TIMEOUT_S + 6) * 1000)  # like a key pad

    cfg = load_config(config)
    conn = open_readonly(hall.db)
    try:
        day = date.fromisoformat(conn.execute("SELECT MAX(day) FROM tickets").fetchone()[0])
        rows = {r.number: r for r in record.load_record(conn, day, day, cfg)}
        status = conn.execute("SELECT rating_status FROM tickets WHERE number = ?",
                              (timed_out,)).fetchone()[0]
    finally:
        conn.close()
    assert status == "timeout" and timed_out not in rows
    assert [rows[numbers[lv]].level for lv in LEVELS] == [
        "非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    bad = rows[numbers["very_dissatisfied"]]
    assert (bad.reasons, bad.text, bad.staff, bad.staff_no) == (
        ("态度不好", "效率低"), "等了很久，窗口解释不清", "王小红", "1001")
    assert rows[numbers["dissatisfied"]].reasons == ()  # skipped: the rating stands alone

    cases = people["admin"].ok("list_cases")["cases"]
    by_number = {c["number"]: c for c in cases}
    assert by_number[numbers["very_dissatisfied"]]["reasons"] == "态度不好、效率低"
    assert by_number[numbers["very_dissatisfied"]]["comment"] == "等了很久，窗口解释不清"
    assert numbers["dissatisfied"] in by_number
    alerts = people["admin"].ok("list_alerts")["alerts"]
    assert {numbers["dissatisfied"], numbers["very_dissatisfied"]} <= {
        a["ticket_number"] for a in alerts if a["kind"] == "bad_rating"}

    portrait = tablet.context.new_page()  # the same tablet turned upright
    portrait.set_viewport_size({"width": 800, "height": 1280})
    portrait.goto(hall.url + "/e/")
    serve(people)
    expect(portrait.locator("#rating")).to_be_visible()
    portrait.screenshot(path=str(shots / "screen-portrait.png"))
    portrait.click("button[data-level=satisfied]")
    portrait.close()
    tablet.context.close()


def test_what_the_tablet_refuses(browser, screen_hall, people):
    hall, _ = screen_hall
    anon = browser.new_context(viewport={"width": TABLET[0], "height": TABLET[1]}).new_page()
    anon.goto(hall.url + "/e/")
    anon.fill("input[name=code]", "12345678")
    anon.click("#pair-form button")
    expect(anon.locator("#pair-error")).to_have_text("配对码不正确或已使用，请核对或重新生成")
    assert anon.request.get(hall.url + "/e/state").status == 401
    assert anon.request.post(hall.url + "/e/rate", data={"level": "satisfied"},
                             headers={"X-Hallq-Screen": "1"}).status == 401
    anon.context.close()

    # an expired code
    manager = login(browser, hall, "manager")
    manager.goto(hall.url + "/screens")
    manager.locator("#screen-windows tr[data-window='2'] button").click()
    code = manager.locator("#pairing-code .code").inner_text()
    conn = sqlite3.connect(hall.db)
    with conn:
        conn.execute("UPDATE web_pairing_codes SET expires_at = 0")
    conn.close()
    late = browser.new_context().new_page()
    late.goto(hall.url + "/e/")
    late.fill("input[name=code]", code)
    late.click("#pair-form button")
    expect(late.locator("#pair-error")).to_contain_text("已过期")
    late.context.close()

    # a tablet of window 1 cannot rate window 2, whatever it sends
    tablet, used = pair(browser, hall, "1")
    people["term-2"].ok("login", window="2", staff="1001")
    serve(people, "2")
    forged = tablet.request.post(hall.url + "/e/rate", data={"level": "very_satisfied", "window": "2"},
                                 headers={"X-Hallq-Screen": "1"})
    assert forged.status == 409 and forged.json()["error"]["code"] in ("no_rating_pending", "already_rated")
    hub_says = people["screen-1"].client.request("rate", window="2", level="satisfied").result(10)
    assert hub_says["error"]["code"] == "forbidden"  # the hub gives screen-1 window 1 only
    people["admin"].ok("rate", window="2", level="satisfied")
    no_header = tablet.request.post(hall.url + "/e/rate", data={"level": "satisfied"})
    assert no_header.status == 403

    # too long a text, control characters
    serve(people, "1")
    rated = tablet.request.post(hall.url + "/e/rate", data={"level": "dissatisfied"},
                                headers={"X-Hallq-Screen": "1"}).json()
    assert rated["ask_reasons"]
    for comment, message in (("长" * 201, "不能超过 200 字"), ("a\x07b", "不能识别的字符"),
                             ("换行\n不行", "不能识别的字符")):
        answer = tablet.request.post(hall.url + "/e/reasons", headers={"X-Hallq-Screen": "1"}, data={
            "ticket": rated["ticket"], "reasons": ["其他"], "comment": comment})
        assert answer.status == 400 and message in answer.json()["error"]["message"]
    wrong = tablet.request.post(hall.url + "/e/reasons", headers={"X-Hallq-Screen": "1"},
                                data={"ticket": rated["ticket"], "reasons": ["不存在"]})
    assert wrong.status == 409 and wrong.json()["error"]["code"] == "bad_reasons"
    ok = tablet.request.post(hall.url + "/e/reasons", headers={"X-Hallq-Screen": "1"},
                             data={"ticket": rated["ticket"], "reasons": ["其他"], "comment": "x" * 200})
    assert ok.json() == {"ok": True, "reasons": ["其他"]}

    # a used code does not pair a second tablet; a revoked tablet is back at the code page
    second = browser.new_context().new_page()
    second.goto(hall.url + "/e/")
    second.fill("input[name=code]", used)
    second.click("#pair-form button")
    expect(second.locator("#pair-error")).to_be_visible()
    second.context.close()
    manager.goto(hall.url + "/screens")
    while manager.locator("#pairings tr", has_text="使用中").count():  # this tablet and the last test's
        manager.locator("#pairings tr", has_text="使用中").first.locator("button").click()
        expect(manager.locator("#flash")).to_have_text("已完成")
    expect(manager.locator("#pairings tr", has_text="已撤销")).to_have_count(2)
    manager.goto(hall.url + "/audit")
    expect(manager.locator("#audit tr", has_text="撤销评价器").first).to_contain_text(USERS["manager"])
    expect(manager.locator("#audit tr", has_text="评价器配对").first).to_be_visible()
    assert tablet.request.get(hall.url + "/e/state").status == 401
    tablet.reload()
    expect(tablet.locator("#pair-form")).to_be_visible()
    manager.context.close()
    tablet.context.close()


def test_the_staff_page_manages_the_roster_and_checks_uploads(browser, screen_hall, people):
    hall, _ = screen_hall
    page = login(browser, hall, "manager")
    page.goto(hall.url + "/staff")
    form = page.locator("#form-staff")
    form.locator("input[name=staff_no]").fill("1002")
    form.locator("input[name=name]").fill("李明")
    form.locator("input[name=title]").fill("窗口主管")
    form.locator("select[name=stars]").select_option("5")
    form.locator("input[name=windows][value='2']").check()
    form.locator("button").click()
    expect(page.locator("#flash")).to_have_text("已完成")
    row = page.locator("#staff tr[data-staff='1002']")
    expect(row).to_contain_text("李明")
    expect(row.locator(".stars")).to_have_text("★★★★★")
    path = hall.db.parent
    (path / "fake.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    row.locator("input[type=file]").set_input_files(str(path / "fake.jpg"))
    row.locator(".photo-form button").click()
    expect(page.locator("#error")).to_contain_text("照片未保存")
    (path / "li.webp").write_bytes(staff_portrait("李明", "WEBP", (46, 125, 50)))
    page.locator("#staff tr[data-staff='1002'] input[type=file]").set_input_files(str(path / "li.webp"))
    page.locator("#staff tr[data-staff='1002'] .photo-form button").click()
    expect(page.locator("#flash")).to_have_text("已完成")
    img = page.locator("#staff tr[data-staff='1002'] img.portrait")
    expect(img).to_be_visible()
    served = page.request.get(hall.url + img.get_attribute("src"))
    assert served.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.body())).size == (240, 320)  # drawn afresh, not the upload
    page.locator("#staff tr[data-staff='1002'] form[action$='/disable'] button").click()
    expect(page.locator("#staff tr[data-staff='1002'] .state")).to_have_text("已停用")
    refused = people["term-2"].client.request("login", window="2", staff="1002").result(10)
    assert refused["error"]["code"] == "staff_disabled"
    page.screenshot(path=str(path / "staff.png"), full_page=True)
    viewer = login(browser, hall, "viewer")
    token = viewer.locator("meta[name=csrf]").get_attribute("content")
    added = viewer.request.post(hall.url + "/staff", form={"csrf": token, "staff_no": "9", "name": "x"})
    assert added.status == 403
    viewer.context.close()
    page.goto(hall.url + "/audit")
    expect(page.locator("#audit tr", has_text="上传照片").first).to_be_visible()
    page.context.close()


def wait_connected(*devices: Device, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(d.client.connected for d in devices):
        assert time.monotonic() < deadline, "the devices did not reconnect to the hub"
        time.sleep(0.1)


def test_the_tablet_rides_out_a_lost_console_and_a_lost_hub(browser, screen_hall, people):
    """Network loss as docs/deployment.md tells it: a banner, no buttons, back by itself
    with the same pairing, and the next rating counts."""
    hall, _ = screen_hall
    tablet, _ = pair(browser, hall, "1")
    offline = tablet.locator("#offline")
    expect(tablet.locator("#staff-name")).to_have_text("王小红")  # 1001 at window 1 since the first test
    expect(offline).to_be_hidden()
    for name, lost in (("web", hall.web), ("hub", hall.hub)):  # the tablet's Wi-Fi; the console's hub
        lost.stop()
        try:
            expect(offline).to_be_visible(timeout=20_000)
            expect(offline).to_have_text("评价器暂时无法连接服务器，正在重新连接……")
            tablet.screenshot(path=str(hall.db.parent / f"screen-offline-{name}.png"))
        finally:
            lost.start()
        expect(offline).to_be_hidden(timeout=30_000)
        expect(tablet.locator("#pair-form")).to_have_count(0)  # still paired
        expect(tablet.locator("#staff-name")).to_have_text("王小红")
    wait_connected(people["kiosk-1"], people["term-1"])
    number = serve(people)
    expect(tablet.locator("#rating")).to_be_visible(timeout=20_000)
    tablet.click("button[data-level=very_satisfied]")
    expect(tablet.locator("#thanks-text")).to_have_text("感谢您的评价！")
    conn = open_readonly(hall.db)
    try:
        rating = conn.execute("SELECT rating_status, rating FROM tickets WHERE number = ? "
                              "ORDER BY id DESC", (number,)).fetchone()
    finally:
        conn.close()
    assert tuple(rating) == ("rated", "very_satisfied")
    tablet.context.close()
