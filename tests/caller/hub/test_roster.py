"""The staff roster in the engine and the store: members saved, disabled and given a
portrait; logins checked against it where the hall asks for that; a bad rating's reasons
and the citizen's words on the ticket, its case and the rating record; bad input refused
with a reason and nothing changed; everything back after a restart."""

from __future__ import annotations

import base64
import io
import json
from datetime import date

import pytest
from PIL import Image

from caller.core import portrait
from caller.core.config import ConfigError, parse_config
from caller.core.protocol import Event
from caller.hub.store import Store
from caller.manager import record
from caller.manager.stats import open_readonly
from drivers.fonts import find_cjk_font
from tests.caller.halls import BASE, Clock, Driver, config, raw
from tests.caller.manager.test_stats_data import StoreDriver


def picture(fmt: str = "PNG", size: tuple[int, int] = (600, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, fmt)
    return out.getvalue()


def photo_b64() -> str:
    return base64.b64encode(portrait.placeholder("王小红", (52, 101, 164), find_cjk_font())).decode()


def roster_hall(**rating):
    return config(staff={"roster_required": True}, rating=rating)


def test_a_login_is_checked_against_the_roster():
    d = Driver(roster_hall())
    assert d.error("login", window="1", staff="1001") == "unknown_staff"
    reply = d("login", window="1", staff="1001", lang="en")
    assert "1001" in reply["error"]["message"] and "roster" in reply["error"]["message"]
    d.ok("staff_save", staff_no="1001", name="王小红", title="综合受理员", stars=4, windows=["1", "2"])
    d.ok("staff_save", staff_no="1002", name="李明")
    assert d.error("login", window="3", staff="1001") == "staff_not_here"
    d.ok("login", window="1", staff="1001")
    d.ok("login", window="3", staff="1002")  # no windows named: any window
    d.ok("logout", window="1")
    d.ok("staff_disable", staff_no="1001")
    reply = d("login", window="1", staff="1001")
    assert reply["error"]["code"] == "staff_disabled" and "停用" in reply["error"]["message"]
    d.ok("staff_enable", staff_no="1001")
    d.ok("login", window="1", staff="1001")
    listed = d.ok("staff_list")["staff"]
    assert [(m["staff_no"], m["name"], m["stars"], m["windows"], m["active"]) for m in listed] == [
        ("1001", "王小红", 4, ["1", "2"], True), ("1002", "李明", 0, [], True)]
    assert any(e["event"] == Event.STAFF_CHANGED for e in d.events)


def test_without_roster_required_any_number_logs_in():
    d = Driver(config())
    d.ok("login", window="1", staff="anyone")


@pytest.mark.parametrize("args, code", [
    ({"staff_no": "", "name": "x"}, "bad_staff"),
    ({"staff_no": "10 01", "name": "x"}, "bad_staff"),
    ({"staff_no": "1001", "name": ""}, "bad_staff"),
    ({"staff_no": "1001", "name": "x", "stars": 6}, "bad_staff"),
    ({"staff_no": "1001", "name": "x", "windows": ["9"]}, "unknown_window"),
])
def test_bad_members_are_refused(args, code):
    d = Driver(roster_hall())
    assert d.error("staff_save", **args) == code
    assert d.ok("staff_list")["staff"] == []


def test_portraits_are_checked_and_kept(tmp_path):
    made = portrait.make(picture())
    image = Image.open(io.BytesIO(made))
    assert image.format == "JPEG" and image.size == portrait.PORTRAIT_SIZE
    for bad in (b"", b"GIF89a" + b"\0" * 100, picture("PNG", (10, 10))[:40]):
        with pytest.raises(portrait.PortraitError):
            portrait.make(bad)
    assert portrait.check(picture("PNG", portrait.PORTRAIT_SIZE))  # a PNG is no portrait
    drawn = portrait.placeholder("王小红", (52, 101, 164), find_cjk_font())
    assert portrait.check(drawn) is None
    card = Image.open(io.BytesIO(drawn))
    assert card.getpixel((10, 10)) != card.getpixel((120, 100))  # a silhouette on a card
    d = StoreDriver(Store(tmp_path / "hall.db", synchronous="OFF"), roster_hall())
    d.ok("staff_save", staff_no="1001", name="王小红")
    assert d.error("staff_photo", staff_no="1001", photo="not base64!") == "bad_photo"
    raw_png = base64.b64encode(picture("PNG", portrait.PORTRAIT_SIZE)).decode()
    assert d.error("staff_photo", staff_no="1001", photo=raw_png) == "bad_photo"
    assert d.error("staff_photo", staff_no="9999", photo=photo_b64()) == "unknown_staff"
    member = d.ok("staff_photo", staff_no="1001", photo=photo_b64())["staff"]
    assert len(member["photo"]) == 16
    d.store.close()
    store = Store(tmp_path / "hall.db")
    try:
        engine = store.load_engine(roster_hall(), Clock().now)
        assert engine.roster.members["1001"].photo == member["photo"]
        jpeg = store.conn.execute("SELECT jpeg FROM staff_photos WHERE staff_no = '1001'").fetchone()[0]
        assert jpeg == base64.b64decode(photo_b64())
    finally:
        store.close()


def test_reasons_of_a_bad_rating_reach_the_ticket_the_case_and_the_record(tmp_path):
    cfg = roster_hall()
    d = StoreDriver(Store(tmp_path / "hall.db", synchronous="OFF"), cfg)
    d.ok("staff_save", staff_no="1001", name="王小红", stars=5)
    d.ok("login", window="1", staff="1001")
    d.issue("a")
    d.call("1")
    finished = d.ok("finish", window="1")["ticket"]
    d.ok("rate", window="1", level="very_dissatisfied")
    tid = finished["id"]
    assert d.error("rate_reasons", window="1", ticket=tid, reasons=["不存在的原因"]) == "bad_reasons"
    assert d.error("rate_reasons", window="1", ticket=tid, reasons=[]) == "bad_reasons"
    assert d.error("rate_reasons", window="2", ticket=tid, reasons=["效率低"]) == "reasons_closed"
    reply = d.ok("rate_reasons", window="1", ticket=tid, reasons=["效率低", "态度不好"],
                 comment="等了很久")
    assert reply["reasons"] == ["态度不好", "效率低"]  # the configured order
    assert d.error("rate_reasons", window="1", ticket=tid, reasons=["其他"]) == "reasons_closed"
    case = d.ok("list_cases")["cases"][0]
    assert (case["reasons"], case["comment"]) == ("态度不好、效率低", "等了很久")
    d.store.close()
    conn = open_readonly(tmp_path / "hall.db")
    try:
        day = date.fromisoformat(d.engine.meta.day)
        rows = record.load_record(conn, day, day, cfg)
    finally:
        conn.close()
    assert [(r.reasons, r.text, r.staff, r.staff_no, r.level) for r in rows] == [
        (("态度不好", "效率低"), "等了很久", "王小红", "1001", "非常不满意")]


def test_reasons_close_after_their_time():
    d = Driver(config(rating={"reasons_timeout_s": 30}))
    d.ok("login", window="1", staff="s")
    d.issue("a")
    d.call("1")
    tid = d.ok("finish", window="1")["ticket"]["id"]
    d.ok("rate", window="1", level="dissatisfied")
    d.clock.advance(31)
    assert d.error("rate_reasons", window="1", ticket=tid, reasons=["其他"]) == "reasons_closed"


def test_a_good_rating_takes_no_reasons():
    d = Driver(config())
    d.ok("login", window="1", staff="s")
    d.issue("a")
    d.call("1")
    tid = d.ok("finish", window="1")["ticket"]["id"]
    d.ok("rate", window="1", level="satisfied")
    assert d.error("rate_reasons", window="1", ticket=tid, reasons=["其他"]) == "reasons_closed"


@pytest.mark.parametrize("section, problem", [
    ({"rating": {"reasons": []}}, "rating.reasons"),
    ({"rating": {"reasons": ["a", "a"]}}, "rating.reasons"),
    ({"rating": {"reasons": ["x" * 21]}}, "rating.reasons"),
    ({"rating": {"reasons_timeout_s": 1}}, "rating.reasons_timeout_s"),
    ({"staff": {"roster_required": "yes"}}, "staff.roster_required"),
    ({"staff": {"roster": True}}, "staff"),
    ({"devices": [{"id": "e", "role": "evaluator", "token": "t", "windows": ["1"],
                   "screen": "nope"}]}, ".screen"),
])
def test_config_errors_name_the_key(section, problem):
    with pytest.raises(ConfigError) as e:
        parse_config(raw(**section))
    assert any(problem in p for p in e.value.problems), e.value.problems


def test_a_screen_evaluator_names_its_web_device():
    devices = [*BASE["devices"][:0], {"id": "web-1", "role": "web", "token": "w"},
               {"id": "screen-1", "role": "evaluator", "token": "s", "windows": ["1"],
                "screen": "web-1"}]
    cfg = parse_config(raw(devices=devices))
    assert {w: d.id for w, d in cfg.screen_evaluators("web-1").items()} == {"1": "screen-1"}
    assert json.dumps(cfg.rating.reasons, ensure_ascii=False) == \
        '["态度不好", "效率低", "材料要求说不清", "多次跑腿", "其他"]'
