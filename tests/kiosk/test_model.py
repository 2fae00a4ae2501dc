"""What the kiosk believes about the hall, fed by the real engine's snapshot and events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caller.core.config import load_config, parse_config
from caller.core.i18n import UnknownLanguage
from caller.hub.engine import Engine
from drivers.printer import PrinterStatus
from kiosk.model import KioskState, qr_data, ticket_print
from kiosk.printing import PrinterAlerts, describe_status, print_error, printer_condition
from kiosk.script import ScriptError, parse
from kiosk.strings import clock_date, words
from tests.hubproc import DEMO_CONFIG

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
DEMO = load_config(DEMO_CONFIG)


def hall(**service_overrides: dict) -> dict:
    services = [
        {"id": "civil", "name": "民政救济", "prefix": "A", "department": "民政",
         "materials": ["身份证", "户口簿"], "daily_cap": 1},
        {"id": "aid", "name": "临时救助", "prefix": "B", "department": "民政"},
        {"id": "party", "name": "党员服务", "prefix": "D", "department": "党建",
         "hours": ["10:00-11:00"]},
    ]
    for s in services:
        s.update(service_overrides.get(s["id"], {}))
    return {
        "hall": {"name": "测试便民服务中心", "notice": "请按号码顺序办理"},
        "services": services,
        "windows": [{"id": "1", "name": "1号窗口", "services": {"civil": 1, "aid": 1}},
                    {"id": "2", "name": "2号窗口", "services": {"party": 1, "civil": 0}}],
        "devices": [{"id": "kiosk-1", "role": "kiosk", "token": "t"}],
    }


@pytest.fixture
def engine_and_state():
    config = parse_config(hall())
    engine = Engine(config, MONDAY_9AM)
    engine.tick(MONDAY_9AM)  # the hub ticks every second; the engine learns what is open
    state = KioskState.from_config(config)
    state.load_snapshot(engine.snapshot(MONDAY_9AM))
    return engine, state


def test_the_snapshot_fills_in_waiting_counts_and_closed_services(engine_and_state):
    _, state = engine_and_state
    assert state.hall_name == "测试便民服务中心" and state.notice == "请按号码顺序办理"
    assert [s.id for s in state.services.values()] == ["civil", "aid", "party"]
    civil, party = state.services["civil"], state.services["party"]
    assert civil.waiting == 0 and civil.available
    assert civil.materials == ("身份证", "户口簿")
    assert civil.windows == ["1号窗口", "2号窗口"]
    assert not party.available
    assert party.why_not == "党员服务的办理时间为 10:00-11:00，现在不能取号"


def test_events_update_only_what_changed(engine_and_state):
    engine, state = engine_and_state
    _, events = engine.handle({"type": "issue_ticket", "service": "aid"}, MONDAY_9AM)
    changed = set()
    for event in events:
        changed |= state.apply_event(event)
    assert changed == {"aid"}
    assert state.services["aid"].waiting == 1 and state.services["civil"].waiting == 0


def test_a_service_opening_is_seen_without_a_new_snapshot(engine_and_state):
    engine, state = engine_and_state
    events = engine.tick(MONDAY_9AM + timedelta(hours=1))
    assert any(e["event"] == "service_status" for e in events)
    for event in events:
        state.apply_event(event)
    assert state.services["party"].available and state.services["party"].reason == ""


def test_the_notice_follows_the_hub(engine_and_state):
    engine, state = engine_and_state
    _, events = engine.handle({"type": "set_notice", "text": "今天下午停电检修"}, MONDAY_9AM)
    assert set().union(*(state.apply_event(e) for e in events)) == {"notice"}
    assert state.notice == "今天下午停电检修"


def test_a_full_service_stays_grey_for_the_rest_of_the_day(engine_and_state):
    engine, state = engine_and_state
    engine.handle({"type": "issue_ticket", "service": "civil"}, MONDAY_9AM)
    reply, _ = engine.handle({"type": "issue_ticket", "service": "civil"}, MONDAY_9AM)
    assert reply["error"]["code"] == "daily_limit_reached"
    today = date(2026, 11, 23)
    state.mark_full("civil", reply["error"]["message"], today)
    civil = state.services["civil"]
    assert not civil.available and civil.why_not == "民政救济今天的号已取完（每日限 1 个）"
    assert state.expire_full(today) == set()
    state.load_snapshot(engine.snapshot(MONDAY_9AM))  # a reconnect does not forget it
    assert not civil.available
    assert state.expire_full(today + timedelta(days=1)) == {"civil"}
    assert civil.available


def test_nothing_can_be_issued_before_the_hub_has_answered():
    state = KioskState.from_config(parse_config(hall()))
    assert state.services["civil"].waiting is None
    state.connection = "online"
    assert not state.can_issue  # connected, but no snapshot yet
    state.load_snapshot(Engine(parse_config(hall()), MONDAY_9AM).snapshot(MONDAY_9AM))
    assert state.can_issue
    state.connection = "offline"
    assert not state.can_issue


def test_services_are_grouped_by_department_only_when_the_config_groups_them():
    grouped = KioskState.from_config(parse_config(hall()))
    assert [(d, [v.id for v in views]) for d, views in grouped.groups()] == [
        ("民政", ["civil", "aid"]), ("党建", ["party"])]
    assert grouped.grouped()
    demo = KioskState.from_config(DEMO)  # one service per department
    assert not demo.grouped()
    assert [v.id for _, views in demo.groups() for v in views] == list(DEMO.services)


def test_the_paper_ticket_carries_everything_the_hub_said(engine_and_state):
    engine, state = engine_and_state
    reply, _ = engine.handle({"type": "issue_ticket", "service": "civil", "priority": "priority"},
                             MONDAY_9AM)
    qr = qr_data(reply)
    assert qr == "hallq:ticket:2026-11-23:A001" and "status_url" not in reply
    assert qr_data({**reply, "status_url": "https://hall.example/p/t/x"}) == "https://hall.example/p/t/x"
    ticket = ticket_print(reply, qr, state.hall_name, state.notice)
    assert not ticket.status_page  # no page published: no promise under the code
    assert (ticket.hall_name, ticket.service_name, ticket.number) == ("测试便民服务中心", "民政救济", "A001")
    assert ticket.issued_at == "2026-11-23 09:00"
    assert ticket.windows == ["1号窗口", "2号窗口"] and ticket.materials == ["身份证", "户口簿"]
    assert ticket.ahead == 0 and ticket.priority and ticket.qr_data == qr
    assert ticket.notice == "请按号码顺序办理"


@pytest.mark.parametrize(("status", "condition"), [
    (PrinterStatus(online=True, paper="ok"), "ok"),
    (PrinterStatus(online=True, paper="unknown", error="no status answer"), "ok"),
    (PrinterStatus(online=True, paper="low"), "low"),
    (PrinterStatus(online=False, paper="out"), "out"),
    (PrinterStatus(online=False, paper="unknown", error="connection refused"), "offline"),
])
def test_printer_condition(status, condition):
    assert printer_condition(status) == condition


def test_staff_hear_about_each_printer_change_once():
    alerts = PrinterAlerts("kiosk-1")
    seen = [alerts.status_changed(s) for s in (
        PrinterStatus(online=True, paper="ok"),
        PrinterStatus(online=True, paper="low"),
        PrinterStatus(online=True, paper="low"),
        PrinterStatus(online=False, paper="out"),
        PrinterStatus(online=True, paper="ok"),
    )]
    assert seen[0] is None and seen[2] is None  # a printer that starts fine says nothing
    assert [(a.kind, a.message) for a in (seen[1], seen[3], seen[4])] == [
        ("printer_fault", "取号机 kiosk-1：打印纸即将用完，请及时更换"),
        ("printer_fault", "取号机 kiosk-1：打印机缺纸，请更换纸卷"),
        ("printer_ok", "取号机 kiosk-1：打印机正常"),
    ]
    failed = alerts.print_failed("A023", "paper_out")
    assert failed.kind == "printer_fault"
    assert failed.message == ("取号机 kiosk-1：A023 号小票未打印（打印机缺纸，请凭屏幕号码等候），"
                              "号码已显示在屏幕上")


def test_a_printer_broken_at_start_is_reported():
    alert = PrinterAlerts("kiosk-2").status_changed(
        PrinterStatus(online=False, paper="unknown", error="[Errno 111] Connection refused"))
    assert alert is not None and alert.kind == "printer_fault"
    assert alert.message == "取号机 kiosk-2：打印机离线"  # no English driver detail for the staff


def test_the_kiosk_speaks_chinese_and_english_from_the_catalogs():
    assert words("zh")("countdown", n=5) == "5 秒后返回首页"
    assert words("en")("countdown", n=5) == "Back to the start in 5 s"
    with pytest.raises(UnknownLanguage, match="'fr'; expected one of en, zh"):
        words("fr")
    assert clock_date(words("zh"), date(2026, 11, 23)) == "2026年11月23日 星期一"
    assert clock_date(words("en"), date(2026, 11, 29)) == "Sun 29/11/2026"


def test_the_printer_state_is_worded_by_the_kiosk_in_the_screens_language():
    zh, en = words("zh"), words("en")
    assert describe_status(PrinterStatus(online=False, paper="out"), zh) == "打印机缺纸，请更换纸卷"
    assert describe_status(PrinterStatus(online=True, paper="low"), zh).startswith("打印纸即将用完")
    assert describe_status(PrinterStatus(online=True, paper="ok"), en) == "Printer ready"
    # The driver's English detail never reaches the citizen's screen.
    assert describe_status(PrinterStatus(online=False, error="cover open"), zh) == "打印机离线"
    assert describe_status(PrinterStatus(online=True, paper="unknown"), en) == "Printer status unknown"
    assert print_error("paper_out", en) == (
        "The printer is out of paper; please keep the number on the screen")
    assert print_error(None, zh) == "小票打印失败，请凭屏幕号码等候"


def test_scripts_are_checked_before_they_run():
    steps = parse("# a comment\nwait connected\n\nshot home  # first screen\ntap service:civil\n")
    assert [(s.verb, s.arg) for s in steps] == [
        ("wait", {"connected": True}), ("shot", "home"), ("tap", "service:civil")]
    with pytest.raises(ScriptError, match="line 2: unknown step 'click'"):
        parse("wait connected\nclick confirm\n")
