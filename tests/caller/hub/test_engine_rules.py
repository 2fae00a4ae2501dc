"""Every rule of the queue engine, one behaviour per test."""

from datetime import datetime, timedelta

import pytest

from caller.hub.engine import Engine
from tests.caller.halls import TZ, Clock, Driver, config


@pytest.fixture
def d() -> Driver:
    drv = Driver()
    drv.login_all()
    return drv


# ---------------------------------------------------------------- numbering and caps

def test_numbers_count_up_per_service_with_prefix_and_padding(d):
    assert [d.issue("a") for _ in range(3)] == ["A001", "A002", "A003"]
    assert d.issue("b") == "B001"


def test_issue_reply_has_ahead_windows_and_materials(d):
    d.issue("a")
    reply = d.ok("issue_ticket", service="a")
    assert reply["ahead"] == 1
    assert reply["windows"] == ["1号窗口", "2号窗口"]
    assert reply["materials"] == ["身份证"]


def test_numbering_restarts_at_the_reset_time_and_old_waiting_tickets_are_cancelled():
    d = Driver(config(hall={"reset_time": "03:00"}))
    d.issue("a")
    d.clock.now = datetime(2026, 11, 24, 2, 59, tzinfo=TZ)
    assert d.issue("a") == "A002"  # before 03:00 it is still the same business day
    d.clock.now = datetime(2026, 11, 24, 3, 0, tzinfo=TZ)
    assert d.issue("a") == "A001"
    cancelled = [e for e in d.events if e["event"] == "ticket_cancelled"]
    assert {e["ticket"]["number"] for e in cancelled} == {"A001", "A002"}
    assert d.engine.waiting_counts()["a"] == 1


def test_number_range_and_daily_cap():
    d = Driver(config(services=[
        {"id": "a", "name": "甲", "prefix": "A", "numbers": [8, 10]},
        {"id": "b", "name": "乙", "prefix": "B", "daily_cap": 2},
        {"id": "c", "name": "丙", "prefix": "C"}]))
    assert [d.issue("a") for _ in range(3)] == ["A008", "A009", "A010"]
    assert d.error("issue_ticket", service="a") == "daily_limit_reached"
    d.issue("b")
    d.issue("b")
    reply = d("issue_ticket", service="b")
    assert reply["error"]["code"] == "daily_limit_reached"
    assert "每日限 2 个" in reply["error"]["message"]


def test_segment_caps_refuse_until_the_next_segment():
    d = Driver(config(services=[
        {"id": "a", "name": "甲", "prefix": "A", "segment_caps": [
            {"from": "08:00", "to": "12:00", "cap": 1}, {"from": "14:00", "to": "18:00", "cap": 1}]},
        {"id": "b", "name": "乙", "prefix": "B"}, {"id": "c", "name": "丙", "prefix": "C"}]))
    d.issue("a")
    reply = d("issue_ticket", service="a")
    assert reply["error"]["code"] == "daily_limit_reached"
    assert "14:00" in reply["error"]["message"]
    d.clock.now = d.clock.now.replace(hour=14, minute=30)
    assert d.issue("a") == "A002"


def test_opening_hours_lunch_break_weekends_holidays_and_makeup_days():
    d = Driver(config(hall={"hours": ["08:30-11:30", "14:30-17:30"],
                            "open_days": ["mon", "tue", "wed", "thu", "fri"],
                            "weekday_hours": {"fri": ["08:30-11:30"]},
                            "holidays": ["2026-11-24"], "extra_workdays": ["2026-11-29"]}))
    at = lambda *a: datetime(*a, tzinfo=TZ)  # noqa: E731
    cases = [
        (at(2026, 11, 23, 8, 29), False, "08:30-11:30、14:30-17:30"),
        (at(2026, 11, 23, 8, 30), True, ""),
        (at(2026, 11, 23, 12, 0), False, "办理时间"),  # lunch
        (at(2026, 11, 23, 17, 30), False, "已过"),
        (at(2026, 11, 24, 9, 0), False, "节假日"),
        (at(2026, 11, 27, 15, 0), False, "08:30-11:30"),  # Friday afternoon
        (at(2026, 11, 28, 9, 0), False, "不办理"),  # Saturday
        (at(2026, 11, 29, 9, 0), True, ""),  # a Sunday made a working day
    ]
    for when, is_open, text in cases:
        d.clock.now = when
        reply = d("issue_ticket", service="a")
        assert reply["ok"] is is_open, (when, reply)
        if not is_open:
            assert reply["error"]["code"] == "service_closed"
            assert text in reply["error"]["message"]


def test_service_status_event_when_a_service_opens():
    d = Driver(config(hall={"hours": ["08:30-11:30"]}), Clock(datetime(2026, 11, 23, 8, 0,
                                                                       tzinfo=TZ)))
    d.ok("tick")
    d.clock.now = d.clock.now.replace(minute=30)
    d.ok("tick")
    opened = [e for e in d.events if e["event"] == "service_status"]
    assert {e["service"] for e in opened} == {"a", "b", "c"}
    assert all(e["open"] for e in opened)


# ---------------------------------------------------------------- who is called next

def test_weight_two_goes_before_weight_one_even_if_issued_later(d):
    d.issue("b")
    d.issue("a")
    assert d.call("1") == "A001"  # window 1: a=2, b=1
    assert d.call("1") == "B001"


def test_weight_zero_only_when_nothing_else_waits(d):
    d.issue("c")
    d.issue("a")
    assert d.call("2") == "A001"  # window 2: a=1, c=0
    assert d.call("2") == "C001"


def test_window_never_calls_a_service_it_does_not_serve(d):
    d.issue("c")
    assert d.error("call_next", window="1") == "queue_empty"


def test_priority_then_transferred_then_earliest(d):
    d.issue("a")  # A001
    d.issue("a", priority="priority")  # A002
    d.issue("a")  # A003
    assert d.call("1") == "A002"
    d.ok("transfer", window="1", to_service="a")  # A002 back to the front of a
    assert d.call("2") == "A002"
    assert d.call("2") == "A001"


def test_green_channel_service_tickets_are_priority():
    cfg = config(services=[{"id": "a", "name": "甲", "prefix": "A"},
                           {"id": "b", "name": "乙", "prefix": "B"},
                           {"id": "c", "name": "绿色通道", "prefix": "C", "green_channel": True}])
    d = Driver(cfg)
    assert d.ok("issue_ticket", service="c")["ticket"]["priority"] == "priority"


def test_call_by_number(d):
    for _ in range(3):
        d.issue("a")
    assert d.ok("call_next", window="1", number="A003")["ticket"]["number"] == "A003"
    assert d.error("call_next", window="3", number="A001") == "unknown_ticket"
    assert d.error("call_next", window="1", number="A099") == "unknown_ticket"


def test_call_next_while_serving_finishes_the_current_ticket(d):
    d.issue("a")
    d.issue("a")
    d.call("1")
    d.call("1")
    finished = [e for e in d.events if e["event"] == "ticket_finished"]
    assert [e["ticket"]["number"] for e in finished] == ["A001"]


def test_called_event_carries_the_announcement():
    d = Driver(config(calling={"announce": "请{number}号到{window_name}办理{service_name}"}))
    d.login_all()
    d.issue("a")
    d.call("1")
    called = next(e for e in d.events if e["event"] == "ticket_called")
    assert called["announce"] == "请A001号到1号窗口办理甲业务"
    assert called["window_name"] == "1号窗口"
    assert d.engine.snapshot(d.clock.now)["recent_calls"][0]["ticket"]["number"] == "A001"


# ---------------------------------------------------------------- recall, skip, transfer, hold

def test_recall_up_to_the_limit(d):
    d.issue("a")
    d.call("1")
    for n in (1, 2, 3):
        assert d.ok("recall", window="1")["recalls"] == n
    assert d.error("recall", window="1") == "recall_limit"
    calls = [e["recalls"] for e in d.events if e["event"] == "ticket_called"]
    assert calls == [0, 1, 2, 3]


def test_skip_drops_the_ticket_by_default(d):
    d.issue("a")
    d.call("1")
    reply = d.ok("skip", window="1")
    assert reply["ticket"]["state"] == "no_show" and reply["requeued"] is False
    assert d.error("call_next", window="1") == "queue_empty"


def test_skip_requeues_n_places_back_once():
    d = Driver(config(calling={"skip": "requeue", "requeue_places": 2, "requeue_max": 1}))
    d.login_all()
    for _ in range(5):
        d.issue("a")
    assert d.call("1") == "A001"
    d.ok("skip", window="1")
    order = [d.call("1") for _ in range(5)]
    assert order == ["A002", "A003", "A001", "A004", "A005"]
    # the second no-show of the same ticket drops it
    d2 = Driver(config(calling={"skip": "requeue", "requeue_places": 0, "requeue_max": 1}))
    d2.login_all()
    d2.issue("a")
    d2.call("1")
    d2.ok("skip", window="1")
    assert d2.call("1") == "A001"
    assert d2.ok("skip", window="1")["ticket"]["state"] == "no_show"


def test_ahead_counts_everyone_before_a_new_ticket_requeued_and_priority_ones_too():
    d = Driver(config(calling={"skip": "requeue", "requeue_places": 2, "requeue_max": 1}))
    d.login_all()
    for _ in range(3):
        d.issue("a")
    d.call("1")
    d.ok("skip", window="1")  # A001 back in the queue, two places behind
    assert d.ok("issue_ticket", service="a", priority="priority")["ahead"] == 0
    assert d.ok("issue_ticket", service="a")["ahead"] == 4
    assert d.ok("issue_ticket", service="a", priority="priority")["ahead"] == 1

def test_transfer_to_a_window_keeps_the_number_and_goes_first_there(d):
    d.issue("c")
    d.issue("a")
    d.call("1")  # A001
    reply = d.ok("transfer", window="1", to_window="3")
    assert reply["ticket"]["number"] == "A001"
    assert d.call("3") == "A001"  # window 3 does not serve a, but the ticket was sent to it
    transferred = next(e for e in d.events if e["event"] == "ticket_transferred")
    assert transferred["from_window"] == "1" and transferred["to"] == {"window": "3"}


def test_transfer_to_a_service_keeps_the_number(d):
    d.issue("c")
    d.issue("a")
    d.call("1")
    d.ok("transfer", window="1", to_service="c")
    assert d.call("3") == "A001"
    assert d.call("3") == "C001"


def test_transfer_errors(d):
    d.issue("a")
    d.call("1")
    assert d.error("transfer", window="1") == "bad_request"
    assert d.error("transfer", window="1", to_service="zz") == "unknown_service"
    assert d.error("transfer", window="1", to_window="9") == "unknown_window"
    assert d.error("transfer", window="1", to_window="1") == "bad_request"


def test_hold_and_call_back(d):
    d.issue("a")
    d.issue("a")
    d.call("1")
    d.clock.advance(60)
    d.ok("hold", window="1")
    snap = d.engine.snapshot(d.clock.now)
    assert [t["number"] for t in snap["windows"][0]["held"]] == ["A001"]
    d.call("1")  # A002
    d.clock.advance(300)
    assert d.ok("call_held", window="1", ticket="A001")["ticket"]["number"] == "A001"
    t = d.engine.tickets[1]
    assert t.hold_s == 300 and t.service_s == 60
    assert d.error("call_held", window="2", ticket="A001") == "unknown_ticket"


# ---------------------------------------------------------------- windows: login, pause, AB

def test_commands_need_login():
    d = Driver()
    d.issue("a")
    assert d.error("call_next", window="1") == "not_logged_in"
    d.ok("login", window="1", staff="1001")
    assert d.call("1") == "A001"
    assert d.error("logout", window="1") == "ticket_in_progress"
    d.ok("finish", window="1")
    d.ok("logout", window="1")
    assert d.engine.window_state("1") == "closed"


def test_pause_blocks_calls_until_resume(d):
    d.issue("a")
    d.ok("pause", window="1", reason="午休")
    assert d.engine.window_state("1") == "paused"
    assert d.error("call_next", window="1") == "window_paused"
    assert d.error("pause", window="1") == "window_paused"
    d.ok("resume", window="1")
    assert d.error("resume", window="1") == "window_not_paused"
    assert d.call("1") == "A001"


def test_ab_backup_serves_directed_tickets_only_while_a_is_away():
    cfg = config(windows=[
        {"id": "1", "name": "1号窗口", "services": {"a": 1}, "backup": "2"},
        {"id": "2", "name": "2号窗口", "services": {"b": 1}},
        {"id": "3", "name": "3号窗口", "services": {"a": 1, "c": 1}}])
    d = Driver(cfg)
    d.login_all()
    d.issue("a")
    d.call("3")
    d.ok("transfer", window="3", to_window="1")
    assert d.error("call_next", window="2") == "queue_empty"  # A is here
    d.ok("pause", window="1")
    assert d.call("2") == "A001"


def test_window_states(d):
    d.issue("a")
    d.call("1")
    assert d.engine.window_state("1") == "calling"
    d.ok("start", window="1")
    assert d.engine.window_state("1") == "serving"
    d.ok("finish", window="1")
    assert d.engine.window_state("1") == "idle"


# ---------------------------------------------------------------- rating

def test_finish_starts_rating_and_a_bad_rating_alerts(d):
    d.issue("a")
    d.call("1")
    d.ok("finish", window="1")
    requested = next(e for e in d.events if e["event"] == "rating_requested")
    assert requested["timeout_s"] == 15
    d.ok("rate", window="1", level="very_dissatisfied")
    alert = next(e for e in d.events if e["event"] == "alert")
    assert alert["kind"] == "bad_rating" and alert["window"] == "1"
    assert "非常不满意" in alert["message"] and "S1" in alert["message"]
    assert d.error("rate", window="1", level="satisfied") == "already_rated"
    assert d.error("request_rating", window="1") == "already_rated"


def test_good_rating_raises_no_alert(d):
    d.issue("a")
    d.call("1")
    d.ok("finish", window="1")
    d.ok("rate", window="1", level="basic")
    assert "alert" not in d.names()
    received = next(e for e in d.events if e["event"] == "rating_received")
    assert received["staff"] == "S1" and received["level"] == "basic"


def test_rating_times_out_driven_by_now(d):
    d.issue("a")
    d.call("1")
    d.ok("finish", window="1")
    d.clock.advance(14)
    d.ok("tick")
    assert "rating_timeout" not in d.names()
    d.clock.advance(1)
    d.ok("tick")
    assert "rating_timeout" in d.names()
    assert d.error("rate", window="1", level="satisfied") == "no_rating_pending"
    d.ok("request_rating", window="1")  # the clerk asks again
    d.ok("rate", window="1", level="satisfied")


def test_rating_default_level_on_timeout():
    d = Driver(config(calling={"rating_default": "satisfied"}))
    d.login_all()
    d.issue("a")
    d.call("1")
    d.ok("finish", window="1")
    d.clock.advance(20)
    d.ok("tick")
    timeout = next(e for e in d.events if e["event"] == "rating_timeout")
    assert timeout["level"] == "satisfied"


def test_no_rating_without_an_evaluator():
    d = Driver(config(devices=[]))
    d.login_all()
    d.issue("a")
    d.call("1")
    d.ok("finish", window="1")
    assert "rating_requested" not in d.names()
    assert d.error("rate", window="1", level="satisfied") == "no_rating_pending"
    d.ok("request_rating", window="1")
    d.ok("rate", window="1", level="satisfied")


# ---------------------------------------------------------------- bad input changes nothing

@pytest.mark.parametrize("command, code", [
    ({"type": "issue_ticket", "service": "zz"}, "unknown_service"),
    ({"type": "issue_ticket"}, "bad_request"),
    ({"type": "issue_ticket", "service": "a", "priority": "vip"}, "bad_request"),
    ({"type": "call_next", "window": "99"}, "unknown_window"),
    ({"type": "call_next", "window": 1}, "bad_request"),
    ({"type": "finish", "window": "1"}, "no_current_ticket"),
    ({"type": "recall", "window": "1"}, "no_current_ticket"),
    ({"type": "skip", "window": "1"}, "no_current_ticket"),
    ({"type": "hold", "window": "1"}, "no_current_ticket"),
    ({"type": "rate", "window": "1", "level": "great"}, "bad_request"),
    ({"type": "rate", "window": "1", "level": "satisfied"}, "no_rating_pending"),
    ({"type": "login", "window": "1", "staff": "  "}, "bad_request"),
    ({"type": "launch_rockets"}, "unknown_command"),
    ({"type": "call_held", "window": "1"}, "bad_request"),
])
def test_refused_commands_change_nothing(d, command, code):
    d.issue("b")
    before = d.engine.dump()
    reply, events = d.engine.handle(command, d.clock.now)
    assert reply["ok"] is False and reply["error"]["code"] == code
    assert reply["error"]["message"]
    assert events == []
    assert d.engine.dump() == before


def test_messages_are_chinese(d):
    reply = d("call_next", window="1")
    assert reply["error"]["message"] == "当前没有等候的群众"


def test_finished_tickets_are_forgotten_once_nothing_refers_to_them(d):
    for _ in range(50):
        d.issue("a")
    for _ in range(50):
        d.call("1")
        d.ok("finish", window="1")
    assert len(d.engine.tickets) <= 2  # only the window's last finished ticket remains


def test_engine_starts_without_a_clock_of_its_own():
    cfg = config()
    e = Engine(cfg, datetime(2026, 11, 23, 10, 0, tzinfo=TZ))
    reply, _ = e.handle({"type": "issue_ticket", "service": "a"},
                        datetime(2026, 11, 23, 10, 0, tzinfo=TZ) + timedelta(hours=1))
    assert reply["ticket"]["issued_at"] == "2026-11-23T11:00:00+08:00"


def test_admin_changes_the_notice_and_it_is_kept():
    d = Driver(config(hall={"notice": "默认公告"}))
    assert d.engine.snapshot(d.clock.now)["hall"]["notice"] == "默认公告"
    d.ok("set_notice", text="今天下午系统维护")
    assert d.events[-1] == {"event": "notice_changed", "text": "今天下午系统维护"}
    assert d.engine.snapshot(d.clock.now)["hall"]["notice"] == "今天下午系统维护"
    d.ok("set_notice", text="")
    assert d.engine.snapshot(d.clock.now)["hall"]["notice"] == "默认公告"
