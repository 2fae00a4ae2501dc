"""The console in a real browser against a real hub and a real `hallq web` on loopback."""

from __future__ import annotations

import re

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.web.helpers import LOCKED_PASSWORD, LOCKED_USER, USERS, Device, login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def serve_one(devices) -> str:
    """A ticket issued, called and finished at window 1; its number."""
    number = devices["kiosk-1"].ok("issue_ticket", service="civil")["ticket"]["number"]
    called = devices["term-1"].ok("call_next")["ticket"]["number"]
    devices["term-1"].ok("finish")
    return called or number


def bad_rating(devices) -> str:
    number = serve_one(devices)
    devices["eval-1"].ok("rate", window="1", level="very_dissatisfied")
    return number


def test_a_call_from_a_terminal_appears_on_the_live_hall(browser, hall, devices):
    page = login(browser, hall, "viewer")
    number = devices["kiosk-1"].ok("issue_ticket", service="civil")["ticket"]["number"]
    waiting = page.locator('#services tr[data-service="civil"]')
    expect(waiting).to_contain_text("民政救济")
    called = devices["term-1"].ok("call_next")["ticket"]["number"]
    assert called == number
    row = page.locator('#windows tr[data-window="1"]')
    expect(row.locator(".ticket")).to_contain_text(number)
    expect(row.locator(".state")).to_have_text("呼叫中")
    expect(row).to_contain_text("1001")
    expect(page.locator('#today [data-k="issued"]')).not_to_have_text("—")
    devices["term-1"].ok("finish")
    expect(row.locator(".state")).to_have_text("空闲")
    page.context.close()


def test_a_bad_rating_raises_the_banner_with_a_sound_and_is_acknowledged(browser, hall, devices):
    page = login(browser, hall, "supervisor")
    page.goto(hall.url + "/cases")  # the banner is on every page
    expect(page.locator("#banner")).to_be_hidden()
    bad_rating(devices)
    banner = page.locator("#banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("非常不满意")
    assert page.evaluate("window.hallq.beeps") >= 1
    page.goto(hall.url + "/alerts")
    row = page.locator("#open-alerts tr[data-alert]").last
    alert_id = row.get_attribute("data-alert")
    row.locator("input[name=note]").fill("已到现场向群众致歉")
    row.locator("button").click()
    expect(page.locator("#flash")).to_have_text("已完成")
    history = page.locator(f'#history tr[data-alert="{alert_id}"]')
    expect(history).to_contain_text(USERS["supervisor"])
    expect(history).to_contain_text("已到现场向群众致歉")
    expect(page.locator(f'#open-alerts tr[data-alert="{alert_id}"]')).to_have_count(0)
    page.context.close()


def test_a_case_is_worked_to_closed_and_every_step_audited(browser, hall, devices):
    number = bad_rating(devices)
    page = login(browser, hall, "supervisor")
    page.goto(hall.url + "/cases")
    page.locator("#cases tr", has_text=number).locator("a").click()
    page.fill("#form-callback textarea[name=note]", "电话 13812345678 联系张三先生，反映等候太久")
    page.click("#form-callback button")
    expect(page.locator("#case-state")).to_have_text("已回访")
    expect(page.locator("#callback-note")).to_contain_text("13812345678")  # whole on the case page
    case_url = page.url.split("?")[0]
    page.goto(hall.url + "/cases")
    note = page.locator("#cases tr", has_text=number).locator(".note")
    expect(note).to_contain_text("138****5678")  # masked in the list
    expect(note).to_contain_text("张*先生")
    expect(note).not_to_contain_text("13812345678")
    page.goto(case_url)
    page.fill("#form-rectify textarea[name=cause]", "高峰时段窗口不足")
    page.fill("#form-rectify textarea[name=fix]", "高峰时段增开 8 号窗口")
    page.click("#form-rectify button")
    expect(page.locator("#case-state")).to_have_text("已整改")
    page.fill("#form-close textarea[name=outcome]", "群众表示满意")
    page.click("#form-close button")
    expect(page.locator("#case-state")).to_have_text("已办结")
    expect(page.locator("#outcome")).to_contain_text(USERS["supervisor"])
    page.context.close()

    viewer = login(browser, hall, "viewer")
    viewer.goto(case_url)
    expect(viewer.locator("#callback-note")).to_contain_text("138****5678")  # a viewer sees it masked
    expect(viewer.locator("form#form-close")).to_have_count(0)
    viewer.context.close()

    manager = login(browser, hall, "manager")
    manager.goto(hall.url + "/audit?user=" + USERS["supervisor"])
    audit = manager.locator("#audit")
    for step in ("回访", "整改", "办结"):
        expect(audit.locator("tr", has_text=step).first).to_contain_text("127.0.0.1")
    expect(audit).not_to_contain_text("13812345678")  # the audit keeps no personal data
    manager.context.close()


def test_the_report_downloads_as_an_xlsx_that_opens(browser, hall, devices, tmp_path):
    serve_one(devices)
    page = login(browser, hall, "viewer")
    page.goto(hall.url + "/reports?range=today")
    expect(page.locator("#summary")).to_contain_text("取号量")
    expect(page.locator("svg.chart").first).to_be_visible()
    with page.expect_download() as info:
        page.click("#dl-xlsx")
    path = tmp_path / "report.xlsx"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "汇总"
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(values_only=True) if row[0]}
    assert summary["取号量"] >= 1
    assert summary["办结量"] >= 1
    page.context.close()


def test_a_manager_pauses_a_window_and_edits_the_notice(browser, hall, devices):
    page = login(browser, hall, "manager")
    page.goto(hall.url + "/control")
    row = page.locator('#control-windows tr[data-window="1"]')
    row.locator("input[name=reason]").fill("系统维护")
    row.locator("button").click()
    expect(page.locator('#control-windows tr[data-window="1"] .state')).to_have_text("暂停")
    page.fill("#form-notice textarea", "今天下午 14:30 起系统维护")
    page.click("#form-notice button")
    expect(page.locator("#notice")).to_have_text("今天下午 14:30 起系统维护")
    page.goto(hall.url + "/")
    live = page.locator('#windows tr[data-window="1"] .state')
    expect(live).to_contain_text("暂停（系统维护）")
    page.goto(hall.url + "/control")
    page.locator('#control-windows tr[data-window="1"] button').click()
    expect(page.locator('#control-windows tr[data-window="1"] .state')).to_have_text("空闲")
    page.context.close()


def test_a_viewer_is_refused_a_manager_action(browser, hall):
    page = login(browser, hall, "viewer")
    page.goto(hall.url + "/control")
    expect(page.locator("#form-notice")).to_have_count(0)
    before = page.locator("#notice").inner_text()
    csrf = page.locator('meta[name="csrf"]').get_attribute("content")
    response = page.request.post(hall.url + "/control/notice", form={"csrf": csrf, "text": "越权"})
    assert response.status == 403
    assert "无权" in response.text()
    response = page.request.post(hall.url + "/control/pause", form={"csrf": csrf, "window": "2"})
    assert response.status == 403
    page.goto(hall.url + "/users")
    expect(page.locator("#refused")).to_contain_text("无权")
    page.goto(hall.url + "/control")
    expect(page.locator("#notice")).to_have_text(before)
    page.context.close()


def test_a_form_without_its_csrf_token_is_refused(browser, hall):
    page = login(browser, hall, "manager")
    page.goto(hall.url + "/control")
    before = page.locator("#notice").inner_text()
    for form in ({"text": "伪造的公告"}, {"text": "伪造的公告", "csrf": "0" * 64}):
        response = page.request.post(hall.url + "/control/notice", form=form)
        assert response.status == 403
        assert "表单已过期或来源不明" in response.text()
    page.goto(hall.url + "/control")
    expect(page.locator("#notice")).to_have_text(before)
    page.goto(hall.url + "/audit?action=csrf")
    expect(page.locator("#audit")).to_contain_text("表单校验失败")
    page.context.close()


def test_wrong_passwords_lock_the_account(browser, hall):
    context = browser.new_context()
    page = context.new_page()
    page.goto(hall.url + "/login")
    for attempt in range(5):
        page.fill("input[name=name]", LOCKED_USER)
        page.fill("input[name=password]", f"wrong-password-{attempt}")
        page.click("button[type=submit]")
        expected = "已锁定" if attempt == 4 else "账户名或密码不正确"
        expect(page.locator("#error")).to_contain_text(expected)
    page.fill("input[name=name]", LOCKED_USER)
    page.fill("input[name=password]", LOCKED_PASSWORD)  # the right one, too late
    page.click("button[type=submit]")
    expect(page.locator("#error")).to_contain_text("已锁定")
    assert re.search(r"/login", page.url)
    assert page.request.get(hall.url + "/api/state").status == 401
    context.close()


def test_bad_input_is_refused_with_a_reason_and_nothing_changes(browser, hall):
    page = login(browser, hall, "manager")
    page.goto(hall.url + "/control")
    before = page.locator("#notice").inner_text()
    csrf = page.locator('meta[name="csrf"]').get_attribute("content")

    def post(path: str, **form) -> str:
        response = page.request.post(hall.url + path, form={"csrf": csrf, **form})
        return response.text()

    assert "公告内容不能超过 500 个字" in post("/control/notice", text="长" * 501)
    assert "没有这个窗口" in post("/control/pause", window="99", reason="x")
    assert "暂停原因不能超过 100 个字" in post("/control/pause", window="2", reason="x" * 101)
    assert "备注不能为空" in post("/cases/1/callback", note="   ")  # refused before the hub
    assert page.request.get(hall.url + "/cases/99999999999999999999").status == 404
    assert page.request.post(hall.url + "/alerts/99999999999999999999/ack",
                             form={"csrf": csrf}).status == 404
    assert page.request.post(hall.url + "/cases/1/reopen", form={"csrf": csrf}).status == 404
    page.goto(hall.url + "/reports?range=custom&from=2026-11-30&to=2026-11-01")
    expect(page.locator("#error")).to_have_text("结束日期不能早于开始日期")
    page.goto(hall.url + "/reports?range=custom&from=yesterday")
    expect(page.locator("#error")).to_have_text("日期格式应为 2026-11-01")
    assert page.request.get(hall.url + "/reports/download?format=exe").status == 400
    page.goto(hall.url + "/control")
    expect(page.locator("#notice")).to_have_text(before)
    page.context.close()


def test_windows_and_waits_are_coloured_past_their_thresholds(browser, hall, devices):
    page = login(browser, hall, "viewer")
    for _ in range(2):
        devices["kiosk-1"].ok("issue_ticket", service="civil")
    devices["term-1"].ok("call_next")
    row = page.locator('#windows tr[data-window="1"]')
    civil = page.locator('#services tr[data-service="civil"]')
    expect(row.locator(".state")).to_have_text("呼叫中")
    expect(row).not_to_have_class(re.compile(r"\bover\b"))
    expect(civil).not_to_have_class(re.compile(r"\bover\b"))
    # The config's thresholds are whole minutes; rather than wait one out, every state the
    # page receives from now on carries thresholds of nothing: red at the next tick.
    page.evaluate("""() => {
      let state = window.hallq.state;
      const zero = (s) => { s.limits.serving_alert_min = 0; s.limits.wait_alert_min = 0; return s; };
      Object.defineProperty(window.hallq, "state", {
        get: () => state, set: (s) => { state = zero(s); }, configurable: true});
      zero(state);
    }""")
    expect(row).to_have_class(re.compile(r"\bover\b"))
    expect(civil).to_have_class(re.compile(r"\bover\b"))
    devices["term-1"].ok("finish")  # idle while a citizen it could call waits: amber
    expect(row).to_have_class(re.compile(r"\bamber\b"))
    devices["term-1"].ok("call_next")
    devices["term-1"].ok("finish")
    expect(row).not_to_have_class(re.compile(r"\bamber\b"))
    page.context.close()


def test_a_manager_adds_and_disables_an_account_whose_session_then_ends(browser, hall, tmp_path):
    manager = login(browser, hall, "manager")
    manager.goto(hall.url + "/users")
    form = manager.locator("#form-user")
    form.locator("input[name=name]").fill("新同事")
    form.locator("select[name=role]").select_option("viewer")
    form.locator("input[name=password]").fill("new-colleague-2026")
    form.locator("button").click()
    expect(manager.locator("#flash")).to_have_text("已完成")
    expect(manager.locator('#users tr[data-user="新同事"]')).to_contain_text("查看员")

    other = browser.new_context()
    page = other.new_page()
    page.goto(hall.url + "/login")
    page.fill("input[name=name]", "新同事")
    page.fill("input[name=password]", "new-colleague-2026")
    page.click("button[type=submit]")
    page.wait_for_url(hall.url + "/")

    manager.locator('#users tr[data-user="新同事"] form[action$="/disable"] button').click()
    expect(manager.locator('#users tr[data-user="新同事"]')).to_contain_text("已停用")
    page.goto(hall.url + "/cases")
    assert "/login" in page.url  # the disabled account's session is over
    assert page.request.get(hall.url + "/api/state").status == 401
    other.close()

    manager.goto(hall.url + "/audit")
    with manager.expect_download() as info:
        manager.click("#audit-export")
    path = tmp_path / "audit.csv"
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert text.startswith("编号,时间,账户,地址,操作,对象,说明,结果")
    assert "新建账户,新同事" in text and "停用账户,新同事" in text
    manager.context.close()


def test_a_device_that_goes_away_shows_on_the_devices_page_and_the_banner(browser, hall):
    page = login(browser, hall, "viewer")
    page.goto(hall.url + "/devices")
    wall = Device(hall, "wall-1")
    row = page.locator('#devices tr[data-device="wall-1"]')
    try:
        expect(row.locator(".online")).to_have_text("在线", timeout=10000)
        expect(page.locator("#hub-health")).to_contain_text("运行正常")
    finally:
        wall.stop()
    expect(row.locator(".online")).to_have_text("离线", timeout=10000)
    expect(page.locator("#banner")).to_contain_text("设备离线：wall-1")
    assert page.evaluate("window.hallq.beeps") >= 1
    page.context.close()


def test_pages_carry_the_security_headers(browser, hall):
    page = login(browser, hall, "viewer")
    for path in ("/", "/login", "/cases", "/static/console.js"):
        headers = page.request.get(hall.url + path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert (headers.get("cache-control") == "no-store") == (not path.startswith("/static")), path
    cookie = next(c for c in page.context.cookies() if c["name"] == "hallq_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.context.close()


def test_the_console_says_plainly_when_the_hub_is_lost(browser, hall):
    page = login(browser, hall, "viewer")
    expect(page.locator("#hubdown")).to_be_hidden()
    hall.hub.stop()
    try:
        expect(page.locator("#hubdown")).to_be_visible(timeout=10000)
        expect(page.locator("#hubdown")).to_contain_text("连接已断开")
    finally:
        hall.hub.start()
    expect(page.locator("#hubdown")).to_be_hidden(timeout=15000)
    page.context.close()
