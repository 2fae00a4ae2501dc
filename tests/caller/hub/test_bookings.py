"""Appointments (预约), remote tickets (线上取号) and the blacklist (失信) in the engine:
booking, capacity, changing, cancelling, check-in by each of its inputs and in each part
of its window, priority, no-shows, bans, and what each role sees."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from caller.core import protocol
from caller.core.config import ConfigError, parse_config
from caller.core.personal import new_secret
from drivers.idcard.identities import RESIDENTS
from tests.caller.halls import TZ, Clock, Driver, raw

ZHANG, LI = RESIDENTS["zhang"], RESIDENTS["li"]
PHONE, PHONE2 = "13812345678", "13987654321"
MONDAY_8AM = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "hall.secret"
    new_secret(path)
    return path


def hall(secret_file: Path, start: datetime = MONDAY_8AM, services: dict | None = None,
         **booking) -> Driver:
    cfg = parse_config(raw(
        hall={"name": "测试大厅", "hours": ["08:30-11:30", "14:30-17:30"],
              "open_days": ["mon", "tue", "wed", "thu", "fri"]},
        personal={"secret_file": secret_file.name},
        booking={"appointments": True, "remote": True, "slot_capacity": 2,
                 **booking, **({"services": services} if services else {})}),
        base=secret_file.parent)
    d = Driver(cfg, Clock(start))
    d.login_all()
    return d


def book(d: Driver, day: str = "2026-11-24", slot: str = "09:00", who=ZHANG, phone: str = PHONE,
         service: str = "a") -> dict:
    return d("book", service=service, day=day, slot=slot, name=who.name, phone=phone,
             id_number=who.id_number)


def request_of(kind: str, who=ZHANG, phone: str = PHONE, **args) -> dict:
    return {"type": kind, "service": "a", "name": who.name, "phone": phone,
            "id_number": who.id_number, **args}


def booked(d: Driver, **args) -> dict:
    reply = book(d, **args)
    assert reply["ok"], reply
    return reply["booking"]


def at(d: Driver, when: str) -> None:
    """Move the clock to `when` ("2026-11-24 08:40") and let the engine's timers run."""
    d.clock.now = datetime.fromisoformat(when).replace(tzinfo=TZ)
    d.events.extend(d.engine.tick(d.clock.now))
    d.engine.take_changes()


# ---------------------------------------------------------------- slots and booking

def test_slots_are_cut_from_the_opening_hours_on_working_days(secret_file) -> None:
    d = hall(secret_file)
    days = d.ok("booking_slots", service="a")["days"]
    assert [x["day"] for x in days] == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26",
                                        "2026-11-27", "2026-11-30"]  # the weekend skipped
    starts = [s["start"] for s in days[1]["slots"]]
    assert starts[:3] == ["08:30", "09:00", "09:30"] and starts[-1] == "17:00"
    assert "12:00" not in starts and len(starts) == 12
    assert all(s["free"] == 2 and s["open"] for s in days[1]["slots"])
    today = {s["start"]: s["open"] for s in days[0]["slots"]}
    assert today["08:30"]  # exactly 30 minutes' lead
    at(d, "2026-11-23 08:01")
    today = {s["start"]: s["open"] for s in d.ok("booking_slots", service="a")["days"][0]["slots"]}
    assert not today["08:30"] and today["09:00"]


def test_a_booking_gets_a_code_and_takes_a_place(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d)
    assert len(b["code"]) == 12 and b["code"].isdigit()
    assert b["holder"] == {"name": "张*", "phone": "138****5678", "last4": ZHANG.id_number[-4:]}
    assert b["checkin"] == {"from": "08:30", "to": "09:15"}
    slot = next(s for s in d.ok("booking_slots", service="a")["days"][1]["slots"]
                if s["start"] == "09:00")
    assert slot["free"] == 1
    event = next(e for e in d.events if e["event"] == "booking_made")
    assert "code" not in event["booking"] and ZHANG.id_number not in repr(d.engine.dump())


def test_a_full_slot_refuses_and_other_slots_stay_open(secret_file) -> None:
    d = hall(secret_file)
    booked(d)
    booked(d, who=LI, phone=PHONE2)
    third = book(d, who=RESIDENTS["zhao"], phone="13700000000")
    assert third["error"]["code"] == "slot_full" and "约满" in third["error"]["message"]
    assert book(d, who=RESIDENTS["zhao"], phone="13700000000", slot="09:30")["ok"]


def test_one_booking_per_person_per_day(secret_file) -> None:
    d = hall(secret_file)
    booked(d)
    again = book(d, slot="10:00", phone=PHONE2)
    assert again["error"]["code"] == "booking_exists"
    assert book(d, day="2026-11-25")["ok"]


@pytest.mark.parametrize(("args", "code"), [
    ({"day": "2026-11-28"}, "slot_unavailable"),  # a Saturday
    ({"day": "2026-12-09"}, "slot_unavailable"),  # past five working days
    ({"day": "2026-11-20"}, "slot_unavailable"),  # the past
    ({"day": "tomorrow"}, "bad_request"),
    ({"slot": "12:00"}, "slot_unavailable"),  # lunch
    ({"slot": "09:10"}, "slot_unavailable"),  # not a slot's start
    ({"phone": "12345"}, "bad_phone"),
    ({"phone": "23812345678"}, "bad_phone"),
    ({"service": "nope"}, "unknown_service"),
])
def test_bad_bookings_are_refused_with_a_reason(secret_file, args, code) -> None:
    d = hall(secret_file)
    reply = book(d, **args)
    assert reply["error"]["code"] == code and reply["error"]["message"]
    assert d.engine.bookings.live == {}


def test_a_wrong_id_number_or_name_is_refused(secret_file) -> None:
    d = hall(secret_file)
    wrong = ZHANG.id_number[:17] + ("0" if ZHANG.id_number[17] != "0" else "1")
    base = {"service": "a", "day": "2026-11-24", "slot": "09:00", "phone": PHONE}
    reply = d("book", **base, name="张三", id_number=wrong)
    assert reply["error"]["code"] == "bad_id_number" and "核对" in reply["error"]["message"]
    assert d("book", **base, name="  ", id_number=ZHANG.id_number)["error"]["code"] == "bad_name"
    assert d("book", **base, name="张" * 31, id_number=ZHANG.id_number)["error"]["code"] == "bad_name"


def test_a_service_without_appointments_refuses(secret_file) -> None:
    d = hall(secret_file, services={"b": {"appointments": False, "remote": False}})
    assert book(d, service="b")["error"]["code"] == "booking_closed"
    assert d("booking_slots", service="b")["error"]["code"] == "booking_closed"
    assert d("remote_ticket", service="b", phone=PHONE)["error"]["code"] == "remote_closed"


def test_bookings_are_taken_only_in_the_booking_hours(secret_file) -> None:
    d = hall(secret_file, earliest_booking="08:30", latest_booking="20:00")
    reply = book(d)
    assert reply["error"]["code"] == "booking_hours" and "08:30" in reply["error"]["message"]
    at(d, "2026-11-23 08:30")
    assert book(d)["ok"]


# ---------------------------------------------------------------- change and cancel

def test_change_moves_the_booking_and_frees_the_old_place(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d)
    moved = d.ok("change_booking", code=b["code"], day="2026-11-25", slot="14:30")["booking"]
    assert (moved["day"], moved["slot"], moved["code"]) == ("2026-11-25", "14:30", b["code"])
    assert d.engine.bookings.taken("a", "2026-11-24", "09:00") == 0
    changed = next(e for e in d.events if e["event"] == "booking_changed")
    assert changed["from"] == {"day": "2026-11-24", "slot": "09:00"}


def test_cancel_until_the_cut_off_then_no_more(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d, day="2026-11-23", slot="14:30")
    c = booked(d, day="2026-11-24", who=LI, phone=PHONE2)
    at(d, "2026-11-23 12:30")  # exactly two hours before
    assert d.ok("cancel_booking", code=b["code"])["booking"]["state"] == "cancelled"
    at(d, "2026-11-24 07:01")
    reply = d("cancel_booking", code=c["code"])
    assert reply["error"]["code"] == "cancel_too_late" and "120" in reply["error"]["message"]
    assert d("change_booking", code=c["code"], day="2026-11-25", slot="09:00")["error"]["code"] \
        == "cancel_too_late"
    assert d("cancel_booking", code=b["code"])["error"]["code"] == "unknown_booking"  # a day ago


def test_unknown_codes_are_refused_and_typed_spaces_do_not_matter(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d)
    spaced = f"{b['code'][:4]} {b['code'][4:8]}-{b['code'][8:]}"
    assert d.ok("booking_status", code=spaced)["booking"]["state"] == "booked"
    for code in ("000000000000", "", "x" * 30):
        assert d("booking_status", code=code)["error"]["code"] in ("unknown_booking", "bad_request")


# ---------------------------------------------------------------- check-in

def test_check_in_by_code_on_time_gives_a_priority_ticket(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 08:35")
    for _ in range(3):
        d.issue("a")
    reply = d.ok("check_in", code=b["code"])
    ticket = reply["ticket"]
    assert ticket["number"] == "A004" and ticket["priority"] == "priority"
    assert ticket["source"] == "booking" and reply["ahead"] == 0 and not reply["late"]
    assert "holder" not in ticket  # the kiosk prints no personal data
    assert d.call("1") == "A004"
    assert d.engine.bookings.find(b["code"]).state == "checked_in"


def test_check_in_by_phone_and_id_last_six(secret_file) -> None:
    d = hall(secret_file)
    booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 08:45")
    wrong = d("check_in", phone=PHONE, id_last6="000000")
    assert wrong["error"]["code"] == "unknown_booking"
    reply = d.ok("check_in", phone=PHONE, id_last6=ZHANG.id_number[-6:].lower())
    assert reply["ticket"]["source"] == "booking"
    again = d.ok("check_in", phone=PHONE, id_last6=ZHANG.id_number[-6:])
    assert again["existing"] and again["ticket"]["number"] == reply["ticket"]["number"]


def test_check_in_by_id_card(secret_file) -> None:
    d = hall(secret_file)
    booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 08:45")
    card = {"id_number": ZHANG.id_number, "name": ZHANG.name, "age": 41}
    assert d.ok("check_in", person=card)["ticket"]["source"] == "booking"
    li = {"id_number": LI.id_number, "name": LI.name, "age": 34}
    assert d("check_in", person=li)["error"]["code"] == "unknown_booking"
    assert d("check_in")["error"]["code"] == "bad_request"


def test_too_early_and_another_day_get_their_own_answers(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d, day="2026-11-23", slot="10:00")
    later = booked(d, day="2026-11-25", who=LI, phone=PHONE2)
    at(d, "2026-11-23 09:29")
    early = d("check_in", code=b["code"])
    assert early["error"]["code"] == "checkin_early" and "09:30" in early["error"]["message"]
    other = d("check_in", code=later["code"])
    assert other["error"]["code"] == "booking_not_today" and "2026-11-25" in other["error"]["message"]
    at(d, "2026-11-23 09:30")
    assert d.ok("check_in", code=b["code"])


def test_a_late_arrival_becomes_a_walk_in(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 09:10")
    d.issue("a")
    at(d, "2026-11-23 09:16")
    reply = d.ok("check_in", code=b["code"])
    assert reply["late"] and reply["ticket"]["priority"] == "normal" and reply["ahead"] == 1
    assert d.engine.bookings.find(b["code"]).state == "late"


def test_a_late_arrival_is_refused_where_the_hall_says_so(secret_file) -> None:
    d = hall(secret_file, late="refuse")
    b = booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 09:16")
    reply = d("check_in", code=b["code"])
    assert reply["error"]["code"] in ("checkin_late", "booking_ended")
    assert d.engine.bookings.find(b["code"]).state == "no_show"  # settled when the window closed


def test_places_rule_puts_the_appointment_behind_a_few(secret_file) -> None:
    d = hall(secret_file, checkin_rule="places", checkin_places=2)
    b = booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 08:40")
    numbers = [d.issue("a") for _ in range(4)]
    reply = d.ok("check_in", code=b["code"])
    assert reply["ahead"] == 2
    assert [d.call("1") for _ in range(5)] == [*numbers[:2], reply["ticket"]["number"], *numbers[2:]]


def test_clerks_see_who_it_is_others_see_it_masked(secret_file) -> None:
    d = hall(secret_file)
    b = booked(d, day="2026-11-23", slot="09:00")
    at(d, "2026-11-23 08:45")
    d.ok("check_in", code=b["code"])
    d.call("1")
    called = next(e for e in d.events if e["event"] == "ticket_called")
    holder = called["ticket"]["holder"]
    assert holder["contact"] == {"name": ZHANG.name, "phone": PHONE}
    assert protocol.shown(called, ("window", ("1",)))["ticket"]["holder"]["contact"]["phone"] == PHONE
    for audience in (("window", ("2",)), ("display", ()), ("kiosk", ())):
        text = repr(protocol.shown(called, audience))
        assert PHONE not in text and ZHANG.name not in text, audience
    for name in ("booking_made", "booking_checked_in"):
        event = next(e for e in d.events if e["event"] == name)
        assert not protocol.visible(event, ("display", ()))
        assert not protocol.visible(event, ("window", ("1",)))


# ---------------------------------------------------------------- no-shows and the blacklist

def test_two_no_shows_ban_booking_until_the_manager_lifts_it(secret_file) -> None:
    d = hall(secret_file)
    booked(d, day="2026-11-23", slot="09:00")
    booked(d, day="2026-11-24", slot="09:00")
    at(d, "2026-11-24 00:01")
    assert [e["event"] for e in d.events].count("booking_no_show") == 1
    at(d, "2026-11-25 00:01")
    assert [e["event"] for e in d.events].count("booking_no_show") == 2
    ban = next(e for e in d.events if e["event"] == "ban_started")["ban"]
    assert ban["reason"] == "no_show" and ban["until"] == "2026-12-25" and "person_key" not in ban
    refused = book(d, day="2026-11-26")
    assert refused["error"]["code"] == "booking_banned" and "2026-12-25" in refused["error"]["message"]
    assert book(d, who=LI, phone=PHONE2, day="2026-11-26")["ok"]  # others still book
    assert [b["id"] for b in d.ok("list_bans")["bans"]] == [ban["id"]]
    d.ok("lift_ban", ban=ban["id"], by="王主任")
    assert d.ok("list_bans")["bans"] == []
    assert book(d, day="2026-11-26")["ok"]
    assert d("lift_ban", ban=ban["id"], by="王主任")["error"]["code"] == "unknown_ban"


def test_five_cancellations_in_a_month_ban_too(secret_file) -> None:
    d = hall(secret_file, cancel_limit=3)
    for n in range(3):
        b = booked(d, day="2026-11-25", slot=["09:00", "09:30", "10:00"][n])
        d.ok("cancel_booking", code=b["code"])
    assert any(e["event"] == "ban_started" for e in d.events)
    assert book(d, day="2026-11-26")["error"]["code"] == "booking_banned"


# ---------------------------------------------------------------- remote tickets

def test_a_remote_ticket_is_a_real_ticket_one_per_phone(secret_file) -> None:
    d = hall(secret_file)
    at(d, "2026-11-23 09:00")
    assert d.issue("a") == "A001"
    remote = d.ok("remote_ticket", service="a", phone=PHONE)
    assert remote["ticket"]["number"] == "A002" and remote["ticket"]["source"] == "remote"
    again = d.ok("remote_ticket", service="a", phone=PHONE)
    assert again["existing"] and again["ticket"]["number"] == "A002"
    assert d.ok("remote_ticket", service="b", phone=PHONE)["ticket"]["number"] == "B001"
    assert d.issue("a") == "A003"
    d.call("1")
    assert d.call("1") == "A002"
    d.ok("skip", window="1")  # the no-show rules apply
    assert d.ok("remote_ticket", service="a", phone=PHONE)["ticket"]["number"] == "A004"


def test_remote_tickets_take_only_their_share_of_the_cap(secret_file) -> None:
    cfg = raw(hall={"name": "测试大厅", "hours": ["08:30-17:30"]},
              personal={"secret_file": secret_file.name},
              booking={"remote": True, "remote_share": 0.5})
    cfg["services"][0]["daily_cap"] = 4
    d = Driver(parse_config(cfg, base=secret_file.parent), Clock(MONDAY_8AM + timedelta(hours=1)))
    d.ok("remote_ticket", service="a", phone=PHONE)
    d.ok("remote_ticket", service="a", phone=PHONE2)
    full = d("remote_ticket", service="a", phone="13700000000")
    assert full["error"]["code"] == "remote_full" and "取号机" in full["error"]["message"]
    assert d.issue("a") == "A003"  # the kiosk still issues


def test_remote_tickets_only_in_their_hours(secret_file) -> None:
    d = hall(secret_file, remote_hours=["09:00-11:00"])
    at(d, "2026-11-23 08:40")
    assert d("remote_ticket", service="a", phone=PHONE)["error"]["code"] == "remote_closed"
    at(d, "2026-11-23 12:00")
    assert d("remote_ticket", service="a", phone=PHONE)["error"]["code"] == "service_closed"


# ---------------------------------------------------------------- config

@pytest.mark.parametrize(("booking", "expected"), [
    ({"slot_minutes": 0}, "booking.slot_minutes: expected a whole number 5..240, got 0"),
    ({"late": "maybe"}, "booking.late: expected one of 'walk_in', 'refuse'"),
    ({"remote_share": 2}, "booking.remote_share: expected a share between 0 and 1"),
    ({"services": {"nope": {}}}, "booking.services.nope: unknown service"),
    ({"services": {"a": {"slot_capacty": 3}}},
     "booking.services.a.slot_capacty: unknown key (did you mean 'slot_capacity'?)"),
    ({"earliest_booking": "20:00", "latest_booking": "08:00"},
     "booking.latest_booking: expected a time after"),
])
def test_config_problems_name_the_key(secret_file, booking, expected) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(raw(hall={"name": "x", "hours": ["08:30-17:30"]},
                         personal={"secret_file": secret_file.name}, booking=booking),
                     base=secret_file.parent)
    assert expected in str(e.value)


def test_booking_needs_hours_and_a_secret() -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(raw(booking={"appointments": True}))
    text = str(e.value)
    assert "personal.secret_file: missing; [booking]" in text
    assert "booking.services.a.appointments: the service is open all day" in text


def test_purge_erases_personal_fields_past_retention(secret_file, tmp_path) -> None:
    from caller.hub.store import Store
    from hallq.cli import main

    d = hall(secret_file)
    at(d, "2026-11-23 09:00")
    store = Store(tmp_path / "hall.db")
    try:
        for command in (request_of("book", day="2026-11-23", slot="10:00"),
                        {"type": "remote_ticket", "service": "a", "phone": PHONE2}):
            reply, events = d.engine.handle(command, d.clock.now)
            assert reply["ok"], reply
            store.commit(d.engine.take_changes(), events, d.clock.now)
        assert store.purge("2026-11-30", 30) == 0  # within the retention period
    finally:
        store.close()
    config = tmp_path / "hall.toml"
    config.write_text(f'[hall]\nname = "x"\nhours = ["08:30-17:30"]\n[personal]\n'
                      f'secret_file = "{secret_file}"\nretention_days = 7\n'
                      '[[services]]\nid = "a"\nname = "a"\nprefix = "A"\n'
                      '[[windows]]\nid = "1"\nname = "1"\nservices = { a = 1 }\n', encoding="utf-8")
    assert main(["purge", "--config", str(config), "--db", str(tmp_path / "hall.db"),
                 "--today", "2026-12-31"]) == 0
    store = Store(tmp_path / "hall.db")
    try:
        rows = store.conn.execute("SELECT name, phone, person_key, checkin_key FROM bookings").fetchall()
        tickets = store.conn.execute("SELECT phone FROM tickets").fetchall()
    finally:
        store.close()
    assert rows == [(None, None, None, None)] and tickets == [(None,)]
    with sqlite3.connect(tmp_path / "hall.db") as db:
        bodies = " ".join(b for (b,) in db.execute("SELECT body FROM events"))
    assert PHONE2 not in bodies and "张" not in bodies
