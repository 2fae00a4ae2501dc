"""The system clock steps (a wrong RTC at boot, an NTP correction, an RTC kept in local
time): no number is issued twice for one business day, the business day never moves
backwards, a backward step raises one `clock_step` alert, and a rating's timeout runs
on the monotonic clock, not on the stepped one.

Engine and store are the real ones on a real SQLite file; `restart` closes the store
and rebuilds the engine from it, as a hub restart does.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caller.hub.store import Store
from tests.caller.halls import TZ, config

CFG = config(calling={"rating_timeout_s": 15})
TUESDAY_10AM = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
DAY = 86400.0


class Hall:
    """An engine on a real store, with a wall clock that may step and a monotonic one
    that only moves forward."""

    def __init__(self, path: Path, now: datetime = TUESDAY_10AM) -> None:
        self.path = path
        self.now = now
        self.mono = 1000.0
        self.store = Store(path, synchronous="OFF")
        self.engine = self.store.load_engine(CFG, now)
        self.events: list[dict] = []

    def send(self, kind: str, **args) -> dict:
        reply, events = self.engine.handle({"type": kind, **args}, self.now, self.mono)
        self.store.commit(self.engine.take_changes(), events, self.now)
        self.events.extend(events)
        return reply

    def issue(self, service: str = "a") -> str:
        reply = self.send("issue_ticket", service=service)
        assert reply["ok"], reply
        return reply["ticket"]["number"]

    def step(self, seconds: float) -> None:
        """The system clock jumps; hardly any real time passes."""
        self.now += timedelta(seconds=seconds)
        self.mono += 0.5

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds

    def restart(self) -> None:
        self.store.close()
        self.store = Store(self.path, synchronous="OFF")
        self.mono += 5.0  # a new process: its monotonic clock starts anywhere
        self.engine = self.store.load_engine(CFG, self.now)

    def clock_alerts(self) -> list[dict]:
        return [a for a in self.send("list_alerts")["alerts"] if a["kind"] == "clock_step"]

    def stored_numbers(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute("SELECT day, number FROM tickets ORDER BY id").fetchall()

    def close(self) -> None:
        self.store.close()


def test_a_clock_stepped_back_a_day_and_forward_again_never_repeats_a_number(tmp_path):
    hall = Hall(tmp_path / "hall.db")
    assert [hall.issue(), hall.issue()] == ["A001", "A002"]
    hall.step(-DAY)  # Tuesday 10:00 -> Monday 10:00
    assert hall.issue() == "A003"
    assert hall.engine.meta.day == "2026-11-24"
    hall.step(DAY)
    assert hall.issue() == "A004"
    assert hall.stored_numbers() == [("2026-11-24", f"A00{n}") for n in range(1, 5)]
    with sqlite3.connect(hall.path) as conn:
        assert conn.execute("SELECT day, last, issued FROM counters WHERE service = 'a'"
                            ).fetchall() == [("2026-11-24", 4, 4)]
    hall.close()


def test_a_backward_step_raises_one_clock_step_alert_naming_the_clock(tmp_path):
    hall = Hall(tmp_path / "hall.db")
    hall.issue()
    hall.step(-DAY)
    for _ in range(5):  # the hub ticks every second: still one alert
        hall.wait(1)
        hall.send("tick")
    alerts = hall.clock_alerts()
    assert len(alerts) == 1
    assert "2026-11-23 10:00" in alerts[0]["message"] and "2026-11-24" in alerts[0]["message"]
    assert "不会重号" in alerts[0]["message"]
    [event] = [e for e in hall.events if e["event"] == "alert"]
    assert event["kind"] == "clock_step" and event["alert_id"] == alerts[0]["id"]
    hall.close()


def test_a_backward_step_within_the_day_is_seen_too(tmp_path):
    hall = Hall(tmp_path / "hall.db")
    hall.issue()
    hall.step(-1800)  # 10:00 -> 09:30, same business day
    assert hall.issue() == "A002"
    assert len(hall.clock_alerts()) == 1
    hall.step(1800)  # forward steps are the clock catching up: no alert
    hall.wait(1)
    assert hall.issue() == "A003"
    assert len(hall.clock_alerts()) == 1
    hall.close()


def test_a_hub_restarted_with_its_clock_behind_keeps_numbering_the_later_day(tmp_path):
    hall = Hall(tmp_path / "hall.db")
    hall.issue()
    hall.issue()
    hall.step(-DAY)  # the RTC is a day behind at boot
    hall.restart()
    assert hall.issue() == "A003"
    assert hall.engine.meta.day == "2026-11-24"
    assert len(hall.clock_alerts()) == 1
    hall.close()


def test_a_new_hall_keeps_its_first_day_even_before_any_ticket(tmp_path):
    hall = Hall(tmp_path / "hall.db")
    hall.send("tick")  # the hub's first tick stores the business day
    hall.step(-DAY)
    hall.restart()
    assert hall.engine.meta.day == "2026-11-24"
    hall.close()


def test_rolling_to_a_day_continues_the_counters_the_store_has_for_it(tmp_path):
    """Wednesday already has numbers in the store (the clock ran ahead once, then the
    business day was put back): rolling to Wednesday continues them."""
    hall = Hall(tmp_path / "hall.db")
    hall.step(DAY)
    assert [hall.issue(), hall.issue()] == ["A001", "A002"]
    hall.close()
    with sqlite3.connect(hall.path) as conn:
        conn.execute("""UPDATE meta SET value = '"2026-11-24"' WHERE key = 'day'""")
    hall.step(-DAY)
    hall.restart()
    assert hall.issue() == "A001"  # Tuesday's own numbering
    hall.step(DAY)
    assert hall.issue() == "A003"
    hall.close()


def test_a_rating_times_out_on_the_monotonic_clock_not_on_a_stepped_one(tmp_path):
    hall = Hall(tmp_path / "hall.db")
    hall.send("login", window="1", staff="1001")
    hall.issue()
    hall.send("call_next", window="1")
    hall.send("finish", window="1")
    hall.step(3600)  # the clock jumps an hour ahead: the citizen still has 15 seconds
    hall.wait(1)
    hall.send("tick")
    assert hall.send("rate", window="1", level="satisfied")["ok"]

    hall.issue()
    hall.send("call_next", window="1")
    hall.send("finish", window="1")
    hall.step(-DAY)  # a day back: the rating still ends 15 seconds later
    hall.wait(16)
    hall.send("tick")
    timeouts = [e for e in hall.events if e["event"] == "rating_timeout"]
    assert [e["ticket"]["number"] for e in timeouts] == ["A002"]
    hall.close()


def test_a_rating_restored_by_a_restart_keeps_its_remaining_time(tmp_path):
    hall = Hall(tmp_path / "hall.db")
    hall.send("login", window="1", staff="1001")
    hall.issue()
    hall.send("call_next", window="1")
    hall.send("finish", window="1")
    hall.wait(10)
    hall.restart()
    hall.wait(3)
    hall.send("tick")
    assert not [e for e in hall.events if e["event"] == "rating_timeout"]
    hall.wait(3)
    hall.send("tick")
    assert [e["event"] for e in hall.events].count("rating_timeout") == 1
    hall.close()


step = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(["a", "b", "c"])),
    st.tuples(st.just("step"), st.floats(-3 * DAY, 3 * DAY)),
    st.tuples(st.just("wait"), st.floats(0, 4 * 3600)),
    st.tuples(st.just("restart"), st.none()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=5, max_size=40))
def test_no_clock_jumps_and_restarts_ever_issue_a_number_twice(tmp_path_factory, steps):
    hall = Hall(tmp_path_factory.mktemp("db") / "hall.db")
    seen: set[tuple[str, str]] = set()
    day = hall.engine.meta.day
    for kind, value in steps:
        if kind == "issue":
            reply = hall.send("issue_ticket", service=value)
            if reply["ok"]:
                key = (hall.engine.meta.day, reply["ticket"]["number"])
                assert key not in seen, f"{key[1]} issued twice for {key[0]}"
                seen.add(key)
        elif kind == "restart":
            hall.restart()
        else:
            getattr(hall, kind)(value)
            hall.send("tick")
        assert hall.engine.meta.day >= day, "the business day moved backwards"
        day = hall.engine.meta.day
    stored = hall.stored_numbers()
    assert len(stored) == len(set(stored)) == len(seen)
    hall.close()
