"""What the wall shows, fed by the real engine's snapshot and events (no Kivy, no sockets)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caller.core.config import load_config
from display.wall.model import WallModel
from display.wall.strings import date_line, words
from tests.caller.halls import Driver
from tests.hubproc import DEMO_CONFIG

CFG = load_config(DEMO_CONFIG)


class Hall:
    """The engine with a wall model listening, like a wall connected from the start."""

    def __init__(self, rows: int = 8, area: str = "") -> None:
        self.hall = Driver(CFG)
        self.wall = WallModel(rows=rows, area=area)
        self.wall.load(self.hall.engine.snapshot(self.hall.clock.now))
        self.changes = []

    def __call__(self, command: str, **args) -> dict:
        seen = len(self.hall.events)
        reply = self.hall(command, **args)
        self.changes = [self.wall.apply(e) for e in self.hall.events[seen:]]
        if any(c.needs_snapshot for c in self.changes):  # as the wall app does
            self.wall.sync_windows(self.hall.engine.snapshot(self.hall.clock.now))
        return reply

    def ok(self, command: str, **args) -> dict:
        reply = self(command, **args)
        assert reply["ok"], reply
        return reply

    def fresh(self) -> WallModel:
        """A wall that connects now and loads the snapshot."""
        model = WallModel(rows=self.wall.rows, area=self.wall.area)
        model.load(self.hall.engine.snapshot(self.hall.clock.now))
        return model

    def rows(self) -> list[tuple[str, str, str]]:
        return [(r.number, r.window_name, words("zh")("status_" + r.status, target=r.target))
                for r in self.wall.recent]


def opened(rows: int = 8, area: str = "") -> Hall:
    h = Hall(rows, area)
    for wid in CFG.windows:
        h.ok("login", window=wid, staff=f"10{wid}")
    return h


def test_the_newest_call_is_on_top_and_a_recall_moves_it_back_up():
    h = opened()
    for _ in range(4):
        h.ok("issue_ticket", service="civil")
    h.ok("call_next", window="1")
    h.ok("call_next", window="2")
    assert h.wall.newest.number == "A002" and h.wall.newest.window_name == "2号窗口"
    assert any(c.newest for c in h.changes)
    h.ok("call_next", window="1")  # A001 is done, A003 called
    assert h.rows() == [("A003", "1号窗口", "呼叫中"), ("A002", "2号窗口", "呼叫中"),
                        ("A001", "1号窗口", "已办结")]
    h.ok("recall", window="2")
    assert [r[0] for r in h.rows()] == ["A002", "A003", "A001"]
    assert h.wall.newest.number == "A002" and h.wall.newest.recalls == 1


def test_the_recent_list_keeps_a_fixed_number_of_rows_without_repeats():
    h = opened(rows=3)
    for _ in range(6):
        h.ok("issue_ticket", service="labour")
    for _ in range(5):
        h.ok("call_next", window="3")
    h.ok("recall", window="3")
    assert [r[0] for r in h.rows()] == ["B005", "B004", "B003"]


def test_a_held_ticket_is_not_counted_as_waiting_and_says_so_in_the_list():
    h = opened()
    h.ok("issue_ticket", service="civil")
    h.ok("issue_ticket", service="civil")
    h.ok("call_next", window="1")
    assert h.wall.services["civil"].waiting == 1
    h.ok("hold", window="1")
    assert h.wall.services["civil"].waiting == 1
    assert h.rows()[0] == ("A001", "1号窗口", "暂缓办理")
    assert h.wall.windows["1"].state == "idle"
    h.ok("call_held", window="1", ticket="A001")
    assert h.rows()[0] == ("A001", "1号窗口", "呼叫中")
    assert h.wall.newest.number == "A001"


def test_a_transferred_ticket_shows_where_it_went_and_its_next_call_normally():
    h = opened()
    h.ok("issue_ticket", service="civil")
    h.ok("call_next", window="1")
    h.ok("transfer", window="1", to_service="family")
    assert h.rows()[0] == ("A001", "1号窗口", "转至计生服务")
    assert h.wall.services["family"].waiting == 1
    h.ok("call_next", window="2")  # window 2 serves family first
    assert h.rows() == [("A001", "2号窗口", "呼叫中")]
    assert h.wall.newest.window_name == "2号窗口"
    h.ok("transfer", window="2", to_window="5")
    assert h.rows()[0][2] == "转至5号窗口"


def test_paused_windows_and_passed_tickets():
    h = opened()
    h.ok("issue_ticket", service="party")
    h.ok("call_next", window="5")
    h.ok("skip", window="5")  # the demo hall re-queues passed tickets
    assert h.rows()[0] == ("D001", "5号窗口", "过号顺延")
    h.ok("pause", window="5", reason="午休")
    assert h.wall.windows["5"].state == "paused" and h.wall.windows["5"].reason == "午休"
    assert h.changes[-1].windows == {"5"} and not h.changes[-1].recent
    h.ok("resume", window="5")
    assert h.wall.windows["5"].state == "idle"
    h.ok("logout", window="5")
    assert h.wall.windows["5"].state == "closed"


def test_a_clerk_taking_over_a_paused_window_keeps_it_paused_and_the_wall_agrees():
    h = opened()
    h.ok("pause", window="3", reason="午休")
    h.ok("login", window="3", staff="3002")  # window_logout then window_login
    assert any(c.needs_snapshot for c in h.changes)
    assert h.wall.windows["3"].state == "paused"
    h.ok("logout", window="3")
    h.ok("login", window="3", staff="3003")
    assert h.wall.windows["3"].state == "idle"


def test_only_what_changed_is_named():
    h = opened()
    h.ok("issue_ticket", service="civil")
    assert [c.services for c in h.changes if c] == [{"civil"}]
    h.ok("set_notice", text="系统维护")
    assert h.wall.notice == "系统维护" and [c.notice for c in h.changes] == [True]
    h.ok("call_next", window="1")
    called = next(c for c in h.changes if c.newest)
    assert called.windows == {"1"} and not called.services and not called.notice


def test_an_area_wall_shows_only_its_windows_and_their_services():
    h = opened(area="二楼")
    assert list(h.wall.windows) == ["6", "7"]
    assert list(h.wall.services) == ["build", "finance"]
    h.ok("issue_ticket", service="civil")
    h.ok("call_next", window="1")
    assert h.wall.newest is None and not any(h.changes)
    h.ok("issue_ticket", service="build")
    h.ok("call_next", window="6")
    assert h.wall.newest.number == "E001" and h.rows() == [("E001", "6号窗口", "呼叫中")]
    assert [r.number for r in h.fresh().recent] == ["E001"]


def test_a_wall_starting_late_shows_what_the_snapshot_knows():
    h = opened()
    for _ in range(3):
        h.ok("issue_ticket", service="civil")
    h.ok("call_next", window="1")
    h.ok("call_next", window="2")
    h.ok("start", window="2")
    h.ok("hold", window="1")
    late = h.fresh()
    assert [(r.number, r.status) for r in late.recent] == [("A002", "serving"), ("A001", "held")]
    assert late.newest.number == "A002"
    assert late.services["civil"].waiting == 1


def test_the_date_line_has_the_weekday_in_chinese():
    from datetime import date

    assert date_line("zh", date(2026, 11, 23)) == "2026年11月23日 星期一"
    assert date_line("en", date(2026, 11, 29)) == "2026-11-29 Sunday"


def test_the_call_is_worded_per_language_with_no_empty_words():
    """The banner draws each word apart: English has no 号, so it has no word for it."""
    assert words("zh")("call_number").split() == ["请", "{number}", "号"]
    assert words("en")("call_number").split() == ["Ticket", "{number}"]
    assert words("en")("call_window").split() == ["to", "{window}"]
    assert words("en")("status_transferred", target="3号窗口") == "To 3号窗口"
    with pytest.raises(ValueError, match="'fr'"):
        words("fr")


STEP = st.tuples(
    st.sampled_from(["issue"] * 4 + ["call"] * 4 + ["finish", "recall", "skip", "hold",
                    "call_held", "to_service", "to_window", "pause", "resume", "start",
                    "login", "logout", "notice"]),
    st.sampled_from(["1", "2", "3", "5"]),
    st.sampled_from(["civil", "labour", "family", "party"]),
    st.integers(0, 3))


def command(kind: str, w: str, s: str, n: int) -> tuple[str, dict]:
    return {
        "issue": ("issue_ticket", {"service": s}),
        "call": ("call_next", {"window": w}),
        "finish": ("finish", {"window": w}),
        "recall": ("recall", {"window": w}),
        "skip": ("skip", {"window": w}),
        "hold": ("hold", {"window": w}),
        "call_held": ("call_held", {"window": w, "ticket": f"A00{n + 1}"}),
        "to_service": ("transfer", {"window": w, "to_service": s}),
        "to_window": ("transfer", {"window": w, "to_window": ["1", "2", "3", "5"][n]}),
        "pause": ("pause", {"window": w, "reason": ["", "午休"][n % 2]}),
        "resume": ("resume", {"window": w}),
        "start": ("start", {"window": w}),
        "login": ("login", {"window": w, "staff": f"200{n}"}),
        "logout": ("logout", {"window": w}),
        "notice": ("set_notice", {"text": ["", "请排队"][n % 2]}),
    }[kind]


def view(model: WallModel) -> dict:
    return {
        "recent": [(r.number, r.window_name) for r in model.recent],
        "at_windows": {r.number: r.status for r in model.recent
                       if r.status in ("calling", "serving", "held")},
        "windows": {w.id: (w.state, w.number, w.reason) for w in model.windows.values()},
        "waiting": {s.id: s.waiting for s in model.services.values()},
        "newest": model.newest and (model.newest.number, model.newest.window),
        "notice": model.notice,
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, max_size=60))
def test_following_events_shows_the_same_as_loading_a_fresh_snapshot(steps):
    h = opened()
    for step in steps:
        kind, args = command(*step)
        h(kind, **args)
        assert len(h.wall.recent) <= h.wall.rows
        numbers = [r.ticket_id for r in h.wall.recent]
        assert len(numbers) == len(set(numbers))
    live, fresh = view(h.wall), view(h.fresh())
    # A fresh wall cannot know what became of tickets no longer at a window; the rest must agree.
    assert {k: v for k, v in live["at_windows"].items() if k in fresh["at_windows"]} \
        == fresh["at_windows"]
    assert {**live, "at_windows": None} == {**fresh, "at_windows": None}


def test_after_a_reconnect_the_wall_remembers_what_it_saw_happen():
    h = opened()
    for _ in range(3):
        h.ok("issue_ticket", service="civil")
    h.ok("call_next", window="1")
    h.ok("transfer", window="1", to_window="5")
    h.ok("call_next", window="2")
    h.ok("call_next", window="2")  # A002 done
    h.wall.load(h.hall.engine.snapshot(h.hall.clock.now))  # the welcome after a reconnect
    assert h.rows() == [("A003", "2号窗口", "呼叫中"), ("A002", "2号窗口", "已办结"),
                        ("A001", "1号窗口", "转至5号窗口")]
