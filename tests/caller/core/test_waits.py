"""The wait estimate (caller/core/waits.py): a pure function of the hall's state and the
windows' recent pace, with the invariants a citizen relies on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from caller.core.waits import (
    DEFAULT_STINT_S,
    Paces,
    WindowNow,
    directed_rate,
    minutes,
    service_rate,
    wait_seconds,
)
from tests.caller.halls import Driver


def window(wid: str, services: dict[str, int], *, open_: bool = True, idle: bool = False,
           pace: float = 300.0, backup: str | None = None) -> WindowNow:
    return WindowNow(wid, services, open_, idle and open_, pace, backup)


def test_two_busy_windows_of_five_minutes_clear_a_queue_of_six_in_about_sixteen_minutes():
    windows = [window("1", {"a": 1}), window("2", {"a": 1})]
    rate, idle = service_rate("a", windows, {"a": 7})
    assert (rate, idle) == (2 / 300, 0)
    assert minutes(wait_seconds(6, rate, idle)) == 16  # (6 + 0.5) / (2 per 5 min)


def test_an_idle_window_takes_the_next_at_once_and_no_open_window_means_no_estimate():
    rate, idle = service_rate("a", [window("1", {"a": 1}, idle=True)], {"a": 1})
    assert wait_seconds(0, rate, idle) == 0.0 and minutes(0.0) == 0
    rate, idle = service_rate("a", [window("1", {"a": 1}, open_=False)], {"a": 3})
    assert wait_seconds(2, rate, idle) is None and minutes(None) is None


def test_a_window_shares_its_time_by_weight_and_queue():
    w = window("1", {"a": 2, "b": 1})
    rate_a, _ = service_rate("a", [w], {"a": 5, "b": 10})
    rate_b, _ = service_rate("b", [w], {"a": 5, "b": 10})
    assert rate_a == rate_b == 0.5 / 300  # 2 x 5 against 1 x 10
    only_when_idle = window("2", {"a": 0})
    assert service_rate("a", [only_when_idle], {"a": 3})[0] > 0  # nobody else: it serves


def test_a_transferred_ticket_waits_for_its_window_or_its_backup():
    a, b = window("1", {"a": 1}, open_=False, backup="2"), window("2", {"a": 1}, pace=200.0)
    assert directed_rate("1", [a, b]) == (1 / 200, 0)
    assert directed_rate("1", [a, window("2", {"a": 1}, open_=False)])[0] == 0.0


def test_the_pace_is_the_recent_stints_then_the_halls_then_the_default():
    paces = Paces(keep=2)
    assert paces.mean("1") == DEFAULT_STINT_S
    for s in (100.0, 200.0, 400.0):
        paces.add("1", s)
    assert paces.mean("1") == 300.0 and paces.mean("2") == 300.0


@given(ahead=st.integers(0, 200), more=st.integers(1, 50), windows=st.integers(1, 8),
       pace=st.floats(60, 1800), idle=st.integers(0, 8))
def test_more_ahead_never_waits_less_and_more_windows_never_more(ahead, more, windows, pace, idle):
    idle = min(idle, windows)
    staff = [window(str(i), {"a": 1}, idle=i < idle, pace=pace) for i in range(windows)]
    rate, free = service_rate("a", staff, {"a": ahead + 1})
    assert wait_seconds(ahead + more, rate, free) >= wait_seconds(ahead, rate, free) >= 0
    bigger = [*staff, window("x", {"a": 1}, pace=pace)]
    rate2, free2 = service_rate("a", bigger, {"a": ahead + 1})
    assert wait_seconds(ahead, rate2, free2) <= wait_seconds(ahead, rate, free)


def test_the_engine_estimates_from_its_windows_and_learns_their_pace():
    hall = Driver()
    assert hall.ok("issue_ticket", service="c")["wait_min"] is None  # nobody staffs 3: no promise
    hall.ok("login", window="1", staff="1")
    for _ in range(4):
        last = hall.ok("issue_ticket", service="a")
    assert last["ahead"] == 3 and last["wait_min"] > 0
    status = {t["number"]: t for t in hall.engine.queue_status()["tickets"]}
    assert status["A004"]["ahead"] == 3 and status["A004"]["wait_min"] == last["wait_min"]
    hall.ok("call_next", window="1")
    hall.clock.advance(120)
    hall.ok("finish", window="1")
    assert hall.engine.paces.mean("1") == 120.0
    text = str(hall.engine.queue_status())
    assert "code" not in text and "holder" not in text
