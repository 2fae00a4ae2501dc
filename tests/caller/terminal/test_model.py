"""The window model, fed by the real engine: what it shows after events equals what a
fresh snapshot says, and the buttons follow the window's state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caller.core.config import load_config
from caller.hub.engine import Engine
from caller.terminal.controller import Terminal
from caller.terminal.model import WindowModel
from caller.terminal.shortcuts import ACTIONS
from caller.terminal.strings import strings
from tests.hubproc import DEMO_CONFIG, MONDAY_9AM

CFG = load_config(DEMO_CONFIG)
START = datetime.fromisoformat(MONDAY_9AM)
WINDOWS = list(CFG.windows)
SERVICES = list(CFG.services)


class Hall:
    """The engine plus one model per window, kept current only by events (as terminals are)."""

    def __init__(self) -> None:
        self.now = START
        self.engine = Engine(CFG, self.now)
        self.models = {w: WindowModel(CFG, w, connected=True) for w in WINDOWS}
        for m in self.models.values():
            m.load_snapshot(self.engine.snapshot(self.now))

    def do(self, kind: str, advance: float = 1.0, **args: object) -> dict:
        self.now += timedelta(seconds=advance)
        reply, events = self.engine.handle({"type": kind, **args}, self.now)
        self.engine.take_changes()
        for m in self.models.values():
            for e in events:
                m.apply(e)
            if m.needs_snapshot:  # what the controller does: ask the hub
                m.load_snapshot(self.engine.snapshot(self.now))
        return reply

    def fresh(self, window: str) -> WindowModel:
        m = WindowModel(CFG, window, connected=True)
        m.load_snapshot(self.engine.snapshot(self.now))
        return m


def comparable(m: WindowModel) -> dict:
    out = m.summary()
    out["held"] = sorted(out["held"])
    out["rating_pending"] = m.rating is not None and m.rating.status == "pending"
    del out["rating"], out["rating_ticket"]
    return out


KINDS = ["call_next"] * 4 + ["finish"] * 3 + ["issue_ticket"] * 3 + [
    "recall", "skip", "hold", "start", "start", "resume", "resume", "pause", "logout", "login",
    "login", "request_rating", "call_held", "call_held", "transfer_service", "transfer_window",
    "rate", "rate"]
WINDOW = st.sampled_from(["1", "2", "3"])  # 1 and 2 are AB backups of each other


def build(kind: str, w: str, service: str, other: str, pick: int, level: str) -> tuple[str, dict]:
    args: dict = {"window": w}
    if kind == "issue_ticket":
        args = {"service": service}
    elif kind == "login":
        args["staff"] = f"10{w}"
    elif kind == "pause":
        args["reason"] = "午休"
    elif kind == "transfer_service":
        kind, args["to_service"] = "transfer", service
    elif kind == "transfer_window":
        kind, args["to_window"] = "transfer", other
    elif kind == "call_held":
        args["ticket"] = pick  # the pick-th held ticket of the window, resolved when run
    elif kind == "rate":
        args["level"] = level
    return kind, args


command = st.builds(build, st.sampled_from(KINDS), WINDOW, st.sampled_from(SERVICES), WINDOW,
                    st.integers(0, 3),
                    st.sampled_from(["satisfied", "dissatisfied"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(command, st.sampled_from([1.0, 5.0, 20.0])), min_size=10, max_size=70))
def test_events_keep_every_window_as_a_fresh_snapshot_shows_it(commands):
    hall = Hall()
    for service in ("civil", "labour", "family", "civil", "labour", "green"):
        hall.do("issue_ticket", service=service)
    for w in ("1", "2", "3"):
        hall.do("login", window=w, staff=f"10{w}")
    for (kind, args), advance in commands:
        if kind == "call_held":
            held = hall.engine.snapshot(hall.now)["windows"][int(args["window"]) - 1]["held"]
            args = {**args, "ticket": held[args["ticket"] % len(held)]["number"] if held else "A001"}
        hall.do(kind, advance, **args)
        for w in WINDOWS:
            assert comparable(hall.models[w]) == comparable(hall.fresh(w)), (kind, args, w)


def test_the_waiting_count_follows_the_windows_services_and_directed_tickets():
    hall = Hall()
    for service in ("civil", "civil", "labour", "family", "green"):
        hall.do("issue_ticket", service=service)
    # window 1 serves civil, green and family; not labour
    assert hall.models["1"].waiting == 4
    assert hall.models["3"].waiting == 1
    hall.do("login", window="3", staff="2001")
    hall.do("call_next", window="3")
    hall.do("transfer", window="3", to_window="1")  # B001 now waits for window 1 only
    assert hall.models["1"].waiting == 5
    assert hall.models["3"].waiting == 0


def test_window_2_counts_window_1s_directed_tickets_while_window_1_is_away():
    hall = Hall()  # the demo hall pairs 1 and 2 as AB backups
    hall.do("issue_ticket", service="labour")
    hall.do("login", window="3", staff="2001")
    hall.do("call_next", window="3")
    hall.do("transfer", window="3", to_window="1")
    hall.do("login", window="2", staff="2002")
    assert hall.models["2"].waiting == 1  # window 1 is closed: 2 may call its ticket
    hall.do("login", window="1", staff="2003")
    assert hall.models["2"].waiting == 0
    hall.do("pause", window="1", reason="午休")
    assert hall.models["2"].waiting == 1


def test_buttons_follow_the_window_state():
    hall = Hall()
    m = hall.models["1"]
    assert [a for a in ACTIONS if m.enabled(a)] == ["login"]
    hall.do("login", window="1", staff="1001")
    assert not m.enabled("recall") and not m.enabled("skip") and not m.enabled("finish")
    assert m.enabled("call_next") and m.enabled("pause")
    hall.do("issue_ticket", service="civil")
    hall.do("call_next", window="1")
    assert m.state == "calling"
    assert all(m.enabled(a) for a in ("recall", "skip", "transfer", "hold", "start", "finish"))
    hall.do("start", window="1")
    assert m.state == "serving" and not m.enabled("start")
    hall.do("pause", window="1", reason="临时离开")
    assert m.state == "paused" and m.pause_reason == "临时离开"
    assert not m.enabled("call_next") and not m.enabled("recall") and not m.enabled("call_number")
    assert m.enabled("finish") and m.enabled("pause")
    m.connected = False
    assert not any(m.enabled(a) for a in ACTIONS)


def test_held_tickets_are_listed_until_called_back():
    hall = Hall()
    hall.do("issue_ticket", service="civil")
    hall.do("issue_ticket", service="civil")
    hall.do("login", window="1", staff="1001")
    hall.do("call_next", window="1")
    hall.do("hold", window="1")
    m = hall.models["1"]
    assert m.summary()["held"] == ["A001"] and m.ticket is None and m.enabled("call_held")
    hall.do("call_next", window="1")
    hall.do("call_held", window="1", ticket="A001")
    assert m.summary()["held"] == [] and m.ticket["number"] == "A001"


def test_ratings_read_in_chinese():
    hall = Hall()
    terminal = Terminal(CFG, "term-1", "1", strings("zh"))
    terminal.model = hall.models["1"]
    assert terminal.rating_text() == "评价：—"
    hall.do("issue_ticket", service="civil")
    hall.do("login", window="1", staff="1001")
    hall.do("call_next", window="1")
    hall.do("finish", window="1")  # window 1 has an evaluator: the rating starts
    assert terminal.rating_text() == "评价：A001 等待评价…"
    hall.do("rate", window="1", level="very_satisfied")
    assert terminal.rating_text() == "评价：A001 非常满意"
    refused = hall.do("request_rating", window="1")
    assert refused["error"]["code"] == "already_rated"  # one rating per service
    assert terminal.rating_text() == "评价：A001 非常满意"
    hall.do("issue_ticket", service="civil")
    hall.do("call_next", window="1")
    hall.do("finish", window="1")
    hall.do("tick", advance=CFG.calling.rating_timeout_s + 1)
    assert terminal.rating_text() == "评价：A002 未评价"
    for level, words in [("satisfied", "满意"), ("basic", "基本满意"), ("dissatisfied", "不满意"),
                         ("very_dissatisfied", "非常不满意")]:
        assert strings("zh").get(f"level.{level}") == words


def test_events_already_in_the_snapshot_are_not_applied_twice():
    hall = Hall()
    hall.do("issue_ticket", service="civil")
    hall.do("login", window="1", staff="1001")
    called = hall.engine.handle({"type": "call_next", "window": "1"}, hall.now)[1]
    finished = hall.engine.handle({"type": "finish", "window": "1"}, hall.now)[1]
    m = WindowModel(CFG, "1", connected=True)
    m.load_snapshot(hall.engine.snapshot(hall.now), seq=10)
    replay = [{**e, "seq": 5 + i} for i, e in enumerate(called + finished)]
    for e in replay:  # a replay after a reconnect: all at or before the snapshot's seq
        m.apply(e)
    assert m.ticket is None and m.state == "idle"
    assert m.rating is not None and m.rating.status == "pending" and m.rating.number == "A001"


def test_the_terminal_speaks_chinese_and_english():
    assert strings("en")("waiting", n=3) == "3 waiting"
    assert strings()("waiting", n=3) == "等候 3 人"
    assert strings("en").series("pause_reason") == ["Lunch", "Away", "Consulting", "Meeting",
                                                    "Equipment fault"]
    assert strings("zh").series("pause_reason")[0] == "午休"
    with pytest.raises(ValueError, match="'fr'; expected one of en, zh"):
        strings("fr")
