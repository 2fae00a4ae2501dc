"""The LED bridge's pure core: which look each window gets, how looks play, how frames queue.

Window states come from the real queue engine on the demo hall, not from made-up events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from caller.core.config import load_config
from caller.hub.engine import Engine
from display.led.options import LedSettings, led_settings
from display.led.rules import (
    BLANK,
    Look,
    LookChange,
    Program,
    StripSchedule,
    StripTexts,
    StripTiming,
    WindowBoard,
    WriteQueue,
    program_for,
)
from drivers.led import StripText
from tests.hubproc import DEMO_CONFIG

CFG = load_config(DEMO_CONFIG)
WINDOWS = list(CFG.windows)
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TEXTS = StripTexts()
TIMING = StripTiming(flashes=2, flash_on_s=0.5, flash_off_s=0.3, rotate_s=5.0)


class Hall:
    """The real engine plus a board fed only with its events, as the bridge is."""

    def __init__(self) -> None:
        self.now = MONDAY_9AM
        self.engine = Engine(CFG, self.now)
        self.board = WindowBoard()
        self.board.load(self.engine.snapshot(self.now))
        self.changes: list[LookChange] = []

    def __call__(self, kind: str, **args: object) -> dict:
        self.now += timedelta(seconds=7)
        reply, events = self.engine.handle({"type": kind, **args}, self.now)
        for event in events:
            self.changes += self.board.apply(event)
        return reply

    def snapshot_board(self) -> WindowBoard:
        board = WindowBoard()
        board.load(self.engine.snapshot(self.now))
        return board


def test_a_window_day_gives_the_looks_the_hall_expects() -> None:
    hall = Hall()
    assert hall.board.look("1") == Look("closed")
    hall("issue_ticket", service="civil")
    assert hall.changes == []  # a ticket taken changes no strip

    hall("login", window="1", staff="1001")
    hall("call_next", window="1")
    hall("recall", window="1")
    hall("start", window="1")  # serving looks like calling: no rewrite
    hall("pause", window="1")
    hall("resume", window="1")
    hall("finish", window="1")
    hall("logout", window="1")

    assert hall.changes == [
        LookChange("1", Look("idle", staff="1001")),
        LookChange("1", Look("call", number="A001"), flash=True),
        LookChange("1", Look("call", number="A001"), flash=True),
        LookChange("1", Look("paused")),
        LookChange("1", Look("call", number="A001")),
        LookChange("1", Look("idle", staff="1001")),
        LookChange("1", Look("closed")),
    ]


def test_a_pause_wins_over_the_ticket_at_the_window_in_a_snapshot() -> None:
    hall = Hall()
    hall("issue_ticket", service="labour")
    hall("login", window="3", staff="2002")
    hall("call_next", window="3")
    hall("pause", window="3", reason="午休")
    assert hall.snapshot_board().look("3") == Look("paused")
    hall("resume", window="3")
    assert hall.snapshot_board().look("3") == Look("call", number="B001")


LEVELS = ["very_satisfied", "dissatisfied"]
KINDS = (["issue"] * 5 + ["call"] * 4 + ["finish"] * 2 + ["login"] * 2 + [
    "recall", "skip", "hold", "call_held", "pause", "resume", "logout", "start", "to_service",
    "to_window", "rate", "tick"])


def command(hall: Hall, kind: str, window: str, n: int) -> dict:
    services = sorted(CFG.windows[window].services)
    if kind == "issue":
        return {"kind": "issue_ticket", "service": services[n % len(services)]}
    if kind == "call":
        return {"kind": "call_next", "window": window}
    if kind == "login":
        return {"kind": "login", "window": window, "staff": f"100{n}"}
    if kind == "call_held":
        held = [t.id for t in hall.engine.tickets.values() if t.state == "held" and t.window == window]
        return {"kind": "call_held", "window": window, "ticket": held[n % len(held)] if held else n}
    if kind == "to_service":
        return {"kind": "transfer", "window": window, "to_service": services[n % len(services)]}
    if kind == "to_window":
        return {"kind": "transfer", "window": window, "to_window": WINDOWS[n]}
    if kind == "rate":
        return {"kind": "rate", "window": window, "level": LEVELS[n % 2]}
    if kind == "tick":
        return {"kind": "tick"}
    return {"kind": kind, "window": window}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(WINDOWS[:4]),
                          st.integers(0, 3)), max_size=60))
def test_the_board_kept_from_events_always_matches_the_snapshot(steps) -> None:
    hall = Hall()
    for kind, window, n in steps:
        hall(**command(hall, kind, window, n))
        fresh = hall.snapshot_board()
        assert {w: hall.board.look(w) for w in WINDOWS} == {w: fresh.look(w) for w in WINDOWS}


def test_a_fresh_call_flashes_then_stays() -> None:
    call = StripText.plain("请A023号办理", "green")
    program = program_for(Look("call", number="A023"), True, TEXTS, TIMING)
    assert program == Program(((call, 0.5), (BLANK, 0.3), (call, 0.5), (BLANK, 0.3), (call, 0.0)))
    assert not program.loop
    assert program_for(Look("call", number="A023"), False, TEXTS, TIMING) == Program.steady(call)


def test_texts_and_colours_for_paused_idle_and_closed() -> None:
    assert program_for(Look("paused"), False, TEXTS, TIMING) == Program.steady(
        StripText.plain("暂停服务", "yellow"))
    assert program_for(Look("closed"), False, TEXTS, TIMING) == Program.steady(
        StripText.plain("窗口关闭", "red"))
    idle = program_for(Look("idle", staff="1001"), False, TEXTS, TIMING)
    assert idle.loop
    assert [(c.text, c.segments[0][1], hold) for c, hold in idle.frames] == [
        ("热情为您服务", "red", 5.0), ("工号1001为您服务", "red", 5.0)]
    only_idle = program_for(Look("idle", staff="1001"), False, StripTexts("欢迎光临"),
                            StripTiming(rotate_s=0))
    assert only_idle == Program.steady(StripText.plain("欢迎光临", "red"))


def test_english_texts_are_available() -> None:
    english = program_for(Look("call", number="A023"), False, StripTexts(lang="en"), TIMING)
    assert english.frames[0][0].text == "No. A023 please"


def play(schedule: StripSchedule, address: int, line_delay: float) -> list[tuple[str, float]]:
    """Run a schedule as the line worker does, every frame written ``line_delay`` after it
    was queued; return each frame's text and when it was written."""
    shown: list[tuple[str, float]] = []
    while (now := schedule.next_due()) != float("inf"):
        [(queued_for, content)] = schedule.due(now)
        assert queued_for == address
        assert schedule.due(now + 100) == []  # nothing overtakes a frame not yet written
        schedule.written(address, now + line_delay)
        shown.append((content.text, round(now + line_delay, 6)))
    return shown


def test_each_flash_step_is_held_from_when_it_was_written() -> None:
    schedule = StripSchedule()
    schedule.set(1, program_for(Look("call", number="A001"), True, TEXTS, TIMING), now=0.0)

    shown = play(schedule, 1, line_delay=0.25)  # a busy line: each frame goes out late

    # Each step stays its full time (0.5 s lit, 0.3 s blank) plus the line's delay.
    assert shown == [("请A001号办理", 0.25), ("", 1.0), ("请A001号办理", 1.55), ("", 2.3),
                     ("请A001号办理", 2.85)]
    assert schedule.showing() == {1: StripText.plain("请A001号办理", "green")}


def test_an_idle_rotation_loops_and_a_new_program_replaces_it() -> None:
    schedule = StripSchedule()
    schedule.set(2, program_for(Look("idle", staff="7"), False, TEXTS, TIMING), now=0.0)
    shown = []
    now = 0.0
    for _ in range(4):
        now = schedule.next_due()
        shown += [c.text for _, c in schedule.due(now)]
        schedule.written(2, now)
    assert shown == ["热情为您服务", "工号7为您服务", "热情为您服务", "工号7为您服务"]
    schedule.set(2, Program.steady(TEXTS.paused()), now)
    assert schedule.due(now) == [(2, TEXTS.paused())]


def test_a_repaint_of_a_held_step_does_not_advance_the_program() -> None:
    schedule = StripSchedule()
    schedule.set(3, program_for(Look("idle", staff="7"), False, TEXTS, TIMING), now=0.0)
    schedule.due(0.0)
    schedule.written(3, 0.0)
    schedule.written(3, 2.0)  # a refresh of the same frame
    assert schedule.next_due() == 5.0


@given(st.lists(st.one_of(st.tuples(st.integers(0, 7), st.text("ab", max_size=3)),
                          st.just("pop"))))
def test_the_queue_keeps_one_frame_per_strip_and_sends_the_newest(operations) -> None:
    queue = WriteQueue()
    newest: dict[int, str] = {}
    for op in operations:
        if op == "pop":
            if queue:
                address, content = queue.pop()
                assert content.text == newest.pop(address)
        else:
            address, text = op
            queue.put(address, StripText.plain(text))
            newest[address] = text
        assert len(queue) == len(newest) <= 8
    assert queue.high_water <= 8


def test_settings_come_from_the_led_device_and_name_what_cannot_work() -> None:
    settings = led_settings(CFG, "led-a", port="/tmp/other-line")
    assert settings.port == "/tmp/other-line" and settings.protocol == "gbk-color"
    assert settings.strips["8"] == 8 and settings.idle_text == "热情为您服务"
    assert settings.problems() == []

    broken = LedSettings(port="x", strips={"1": 300}, idle_text="长" * 600)
    assert broken.problems() == [
        "strips.1: expected a gbk-color address 0-255, got 300",
        "idle_text: expected at most 32 columns for one strip (a Chinese character takes 2), "
        "got 1200",
    ]
