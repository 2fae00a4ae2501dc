"""Bad-rating follow-up (差评整改) and alerts, through the engine and the store."""

from datetime import datetime

from caller.hub.store import Store
from tests.caller.halls import TZ, Clock, Driver, config


def bad_rating(d: Driver, level: str = "dissatisfied") -> dict:
    d.issue("a")
    d.call("1")
    d.ok("finish", window="1")
    d.ok("rate", window="1", level=level)
    return next(e for e in reversed(d.events) if e["event"] == "case_opened")["case"]


def test_a_bad_rating_opens_a_case_with_a_working_day_deadline():
    # Friday 2026-11-27 + 3 working days: weekend and the Monday holiday skipped -> Tue, Wed, Thu
    cfg = config(hall={"open_days": ["mon", "tue", "wed", "thu", "fri"],
                       "holidays": ["2026-11-30"]},
                 calling={"followup_working_days": 3})
    d = Driver(cfg, Clock(datetime(2026, 11, 27, 10, 0, tzinfo=TZ)))
    d.login_all()
    case = bad_rating(d, "very_dissatisfied")
    assert case["deadline"] == "2026-12-03"
    assert case["level"] == "very_dissatisfied" and case["staff"] == "S1"
    assert case["number"] == "A001" and case["window"] == "1" and case["state"] == "open"
    alert = next(e for e in d.events if e["event"] == "alert")
    assert alert["case"] == case["id"] and alert["alert_id"] == 1


def test_case_lifecycle_callback_rectify_close():
    d = Driver()
    d.login_all()
    case = bad_rating(d)
    assert d.error("case_close", case=case["id"], by="主任", outcome="已处理") == \
        "case_not_called_back"
    d.clock.advance(3600)
    cb = d.ok("case_callback", case=case["id"], by="王主任", note="群众反映等候时间过长")
    assert cb["case"]["state"] == "called_back" and cb["case"]["callback_note"]
    d.ok("case_rectify", case=case["id"], by="王主任", cause="窗口人手不足", fix="高峰期增开窗口")
    closed = d.ok("case_close", case=case["id"], by="王主任", outcome="群众表示满意")
    assert closed["case"]["state"] == "closed"
    assert d.ok("list_cases")["cases"] == []
    assert d.error("case_callback", case=case["id"], by="x", note="y") == "unknown_case"


def test_overdue_cases_are_flagged():
    d = Driver(config(calling={"followup_working_days": 1}))
    d.login_all()
    bad_rating(d)
    assert d.ok("list_cases")["cases"][0]["overdue"] is False
    d.clock.now = datetime(2026, 11, 26, 9, 0, tzinfo=TZ)
    assert d.ok("list_cases")["cases"][0]["overdue"] is True
    assert d.engine.snapshot(d.clock.now)["manager"]["cases_overdue"] == 1


def test_alerts_are_listed_until_acknowledged():
    d = Driver()
    d.login_all()
    bad_rating(d)
    d.ok("report_alert", kind="printer_fault", message="打印机缺纸", device="kiosk-1")
    alerts = d.ok("list_alerts")["alerts"]
    assert [a["kind"] for a in alerts] == ["bad_rating", "printer_fault"]
    d.ok("ack_alert", alert=alerts[0]["id"], by="值班长")
    assert [a["kind"] for a in d.ok("list_alerts")["alerts"]] == ["printer_fault"]
    assert d.error("ack_alert", alert=alerts[0]["id"], by="值班长") == "unknown_alert"
    assert d.error("report_alert", kind="fire", message="x") == "bad_request"


def test_cases_and_alerts_survive_a_rebuild(tmp_path):
    clock = Clock()
    store = Store(tmp_path / "hall.db")
    cfg = config()
    engine = store.load_engine(cfg, clock.now)

    def run(command: str, **args) -> dict:
        reply, events = engine.handle({"type": command, **args}, clock.now)
        store.commit(engine.take_changes(), events, clock.now)
        assert reply["ok"], reply
        return reply

    for w in cfg.windows:
        run("login", window=w, staff=f"S{w}")
    for level in ("dissatisfied", "very_dissatisfied", "satisfied"):
        run("issue_ticket", service="a")
        run("call_next", window="1")
        run("finish", window="1")
        run("rate", window="1", level=level)
    run("case_callback", case=1, by="王", note="已回访")
    run("case_close", case=1, by="王", outcome="满意")
    run("ack_alert", alert=2, by="王")
    run("report_alert", kind="device_offline", message="扫码器离线", device="kiosk-1", part="scanner")
    rebuilt = store.load_engine(cfg, clock.now)
    assert rebuilt.dump() == engine.dump()
    assert list(rebuilt.followup.cases) == [2] and list(rebuilt.followup.alerts) == [1, 3]
    assert rebuilt.followup.alerts[3].part == "scanner"  # its recovery still finds it
    reply, _ = rebuilt.handle({"type": "report_alert", "kind": "device_offline",
                               "message": "串口断开"}, clock.now)
    assert reply["alert"] == 4  # ids continue after a restart
    store.close()


def test_a_recovery_closes_the_fault_it_ends():
    d = Driver()
    d.ok("report_alert", kind="printer_fault", message="打印机缺纸", device="kiosk-1")
    d.ok("report_alert", kind="device_offline", message="串口断开", device="counter-a")
    d.ok("report_alert", kind="printer_ok", message="打印机恢复", device="kiosk-1")
    assert [a["kind"] for a in d.ok("list_alerts")["alerts"]] == ["device_offline"]
    assert [e["kind"] for e in d.events if e["event"] == "alert"] == [
        "printer_fault", "device_offline", "printer_ok"]  # every report is still an event


def test_a_parts_recovery_closes_that_parts_fault_only():
    """The kiosk's scanner coming back leaves its ID reader's fault open; a bridge's line
    coming back leaves a keypad's; the same part's repeat is no new alert."""
    d = Driver()
    for part in ("idcard", "scanner"):
        d.ok("report_alert", kind="device_offline", message=f"{part} 离线", device="kiosk-1", part=part)
    d.ok("report_alert", kind="device_offline", message="串口断开", device="counter-a", part="line")
    d.ok("report_alert", kind="device_offline", message="键盘显示异常", device="counter-a", part="view 3")
    assert d.ok("report_alert", kind="device_offline", message="scanner 离线", device="kiosk-1",
                part="scanner")["alert"] == 2
    d.ok("report_alert", kind="device_online", message="扫码器已恢复", device="kiosk-1", part="scanner")
    d.ok("report_alert", kind="device_online", message="串口恢复", device="counter-a", part="line")
    open_alerts = d.ok("list_alerts")["alerts"]
    assert [(a["device"], a["part"]) for a in open_alerts] == [("kiosk-1", "idcard"), ("counter-a", "view 3")]
    events = [e for e in d.events if e["event"] == "alert"]
    assert [e["part"] for e in events][-2:] == ["scanner", "line"]
    d.ok("report_alert", kind="device_online", message="恢复", device="kiosk-1")  # no part: none of them
    assert len(d.ok("list_alerts")["alerts"]) == 2
