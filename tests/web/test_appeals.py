"""差评申诉 in a real browser against a real hub and a real `hallq web`: an account appeals
a bad rating, a manager upholds it, the staff member's figures lose it, the record keeps
it marked, and every step is in the audit log."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from caller.core.config import load_config
from caller.manager import record
from caller.manager.stats import compute_report, open_readonly
from tests.hubproc import DEMO_CONFIG
from tests.web.helpers import USERS, login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def bad_rating(devices) -> str:
    devices["kiosk-1"].ok("issue_ticket", service="civil")
    number = devices["term-1"].ok("call_next")["ticket"]["number"]
    devices["term-1"].ok("finish")
    devices["eval-1"].ok("rate", window="1", level="dissatisfied")
    return number


def staff_bad(hall, staff: str) -> tuple[int, int]:
    """(the staff member's bad ratings, the hall's) today, from the report."""
    cfg = load_config(DEMO_CONFIG)
    conn = open_readonly(hall.db)
    try:
        day = date.fromisoformat(conn.execute("SELECT MAX(day) FROM tickets").fetchone()[0])
        rep = compute_report(conn, day, day, config=cfg)
        rows = {r.number: r for r in record.load_record(conn, day, day, cfg)}
    finally:
        conn.close()
    mine = next(r for r in rep.groups["staff"] if r["key"] == staff)
    return (mine["bad_ratings"], rep.summary["bad_ratings"]), rows


def test_an_appeal_filed_and_upheld_leaves_the_staff_figures_and_is_audited(browser, hall, devices):
    number = bad_rating(devices)
    (before, hall_before), _ = staff_bad(hall, "1001")
    page = login(browser, hall, "viewer")
    page.goto(hall.url + "/appeals")
    row = page.locator("#appealable tr", has_text=number)
    row.locator("button").click()  # no reason: the browser will not send it
    expect(page.locator("#appeals tr[data-appeal]")).to_have_count(0)
    row.locator("input[name=grounds]").fill("群众要求办理的事项不属于本窗口")
    row.locator("button").click()
    expect(page.locator("#flash")).to_have_text("已完成")
    filed = page.locator("#appeals tr[data-appeal]", has_text=number)
    expect(filed.locator(".state")).to_have_text("待复核")
    expect(filed).to_contain_text("待管理员复核")  # a viewer cannot decide
    expect(page.locator("#appealable tr", has_text=number)).to_have_count(0)
    page.context.close()

    manager = login(browser, hall, "manager")
    manager.goto(hall.url + "/appeals")
    filed = manager.locator("#appeals tr[data-appeal]", has_text=number)
    filed.locator("form[data-decision=uphold] input[name=note]").fill("经核实，非工作人员原因")
    filed.locator("form[data-decision=uphold] button").click()
    expect(manager.locator("#flash")).to_have_text("已完成")
    filed = manager.locator("#appeals tr[data-appeal]", has_text=number)
    expect(filed.locator(".state")).to_have_text("申诉成立")
    expect(filed).to_contain_text(USERS["manager"])

    (after, hall_after), rows = staff_bad(hall, "1001")
    assert after == before - 1 and hall_after == hall_before  # out of 1001's, still the hall's
    assert rows[number].appeal == "申诉成立" and rows[number].level == "不满意"

    manager.goto(hall.url + "/audit")
    audit = manager.locator("#audit")
    expect(audit.locator("tr", has_text="提交申诉").first).to_contain_text(USERS["viewer"])
    expect(audit.locator("tr", has_text="申诉复核").first).to_contain_text(USERS["manager"])
    expect(audit.locator("tr", has_text="申诉复核").first).to_contain_text("申诉成立")
    manager.goto(hall.url + "/appeals")
    manager.screenshot(path=str(hall.db.parent / "appeals.png"), full_page=True)
    manager.goto(hall.url + "/reports?range=today")
    expect(manager.locator("#summary")).to_contain_text("申诉率")
    expect(manager.locator("#summary")).to_contain_text("好评率")
    manager.screenshot(path=str(hall.db.parent / "reports.png"), full_page=True)
    manager.context.close()


def test_a_viewer_may_not_decide_and_a_bad_appeal_is_refused_with_a_reason(browser, hall, devices):
    number = bad_rating(devices)
    page = login(browser, hall, "viewer")
    token = page.locator("meta[name=csrf]").get_attribute("content")
    refused = page.request.post(hall.url + "/appeals/1/uphold", form={"csrf": token, "note": "x"})
    assert refused.status == 403
    answer = page.request.post(hall.url + "/appeals/new",
                               form={"csrf": token, "ticket": "abc", "grounds": "理由"})
    assert "没有这条差评记录" in answer.text()
    page.goto(hall.url + "/appeals")
    row = page.locator("#appealable tr", has_text=number)
    ticket_id = row.get_attribute("data-ticket")
    row.locator("input[name=grounds]").fill("x" * 100)
    row.locator("button").click()
    expect(page.locator("#flash")).to_have_text("已完成")
    token = page.locator("meta[name=csrf]").get_attribute("content")
    expect(page.locator("#appeals tr[data-appeal]", has_text=number)).to_have_count(1)
    again = page.request.post(hall.url + "/appeals/new", form={
        "csrf": token, "ticket": ticket_id, "grounds": "再次申诉"})
    assert "已经申诉过了" in again.text()
    page.context.close()
