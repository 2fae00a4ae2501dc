"""The counter bridge's decisions, without a line or a hub: settings, what a frame means,
which command a key asks for, and what the line thread writes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caller.core.config import ConfigError, load_config, parse_config
from caller.counter.rules import (
    KeyPress,
    Outbox,
    Plan,
    RatingPress,
    WindowView,
    call_number_candidates,
    classify,
    counter_settings,
    line_time,
    pick_held,
    plan_key,
    target_window,
    window_view,
)
from drivers.bus.ft12 import Frame
from drivers.bus.models import DEFAULT_KEYPAD, FIVE_KEY, FOUR_KEY, KeypadAction
from tests.caller.halls import raw
from tests.hubproc import DEMO_CONFIG

DEMO = load_config(DEMO_CONFIG)


def line_config(**options: object):
    bus = {"id": "bus", "role": "counter", "token": "t", "windows": ["1", "2"], "port": "/dev/ttyUSB0",
           "addresses": {"1": 11, "2": 12}, **options}
    return parse_config(raw(devices=[bus]), "hall.toml")


# --- settings ------------------------------------------------------------------------


def test_the_demo_line_settings():
    settings = counter_settings(DEMO, "counter-a")
    assert settings.port == "out/dev/counter-a" and settings.baudrate == 9600
    assert dict(settings.addresses) == {w: int(w) for w in "34567"}
    assert dict(settings.staff) == {w: f"K{w}" for w in "34567"}
    assert settings.keypad is DEFAULT_KEYPAD and settings.evaluator is FIVE_KEY
    assert settings.window_at(5) == "5" and settings.window_at(1) is None


def test_port_and_staff_from_the_command_line_win():
    settings = counter_settings(DEMO, "counter-a", port="socket://10.0.0.5:4001", staff={"3": "1003"})
    assert settings.port == "socket://10.0.0.5:4001"
    assert settings.staff["3"] == "1003" and settings.staff["4"] == "K4"


def test_evaluator_models_and_none():
    assert counter_settings(line_config(evaluator="4key"), "bus").evaluator is FOUR_KEY
    assert counter_settings(line_config(evaluator=""), "bus").evaluator is None


@pytest.mark.parametrize("device, staff, expected", [
    ("led-a", None, "devices (id 'led-a').role: expected \"counter\", got 'led'"),
    ("nobody", None, "devices: no device 'nobody'; the counter devices in this config: counter-a"),
    ("counter-a", {"1": "1001"}, "--staff 1=…: window '1' is not on this line (its windows: 3, 4, 5, 6, 7)"),
])
def test_settings_errors_name_the_file_and_the_key(device, staff, expected):
    with pytest.raises(ConfigError) as error:
        counter_settings(DEMO, device, staff=staff)
    assert error.value.path == str(DEMO_CONFIG) and expected in str(error.value)


def test_an_unknown_keypad_model_is_a_config_error():
    with pytest.raises(ConfigError) as error:
        counter_settings(line_config(keypad="fancy"), "bus")
    assert "hall.toml: devices (id 'bus').keypad: unknown keypad model 'fancy'; known: default" in str(
        error.value)


# --- frames --------------------------------------------------------------------------


def test_classify_keys_ratings_and_strangers():
    settings = counter_settings(line_config(), "bus")
    assert classify(Frame(11, 0x01, bytes([0, 2, 3, 0x0C])), settings) == KeyPress(
        "1", KeypadAction(11, "call_number", "023"))
    assert classify(Frame(12, 0x11, b"\x05"), settings) == RatingPress("2", 12, "very_dissatisfied")
    assert classify(Frame(13, 0x01, b"\x0C"), settings) is None  # nobody of ours at 13
    assert classify(Frame(11, 0x01, b"\x42"), settings) is None  # no such key
    assert classify(Frame(11, 0x02, bytes(6)), settings) is None  # a display frame (an echo)
    no_evaluator = counter_settings(line_config(evaluator=""), "bus")
    assert classify(Frame(12, 0x11, b"\x05"), no_evaluator) is None


def test_four_key_pads_map_to_the_national_scale():
    settings = counter_settings(line_config(evaluator="4key"), "bus")
    assert classify(Frame(11, 0x11, b"\x00"), settings) == RatingPress("1", 11, "dissatisfied")  # 差
    assert classify(Frame(11, 0x11, b"\x03"), settings) == RatingPress("1", 11, "very_satisfied")  # 很好


# --- keys → commands -----------------------------------------------------------------


def test_call_by_number_tries_this_windows_services_first():
    # Window 3 serves labour (B, weight 2) and finance (F, weight 0); a ticket transferred
    # to it may be of any other service, tried last in config order.
    assert call_number_candidates(DEMO, "3", "23") == ["B023", "F023", "A023", "C023", "D023", "E023", "V023"]
    assert call_number_candidates(DEMO, "5", "0007")[:2] == ["D007", "A007"]
    assert call_number_candidates(DEMO, "3", "1000") == []  # above every service's numbers
    action = KeypadAction(3, "call_number", "1000")
    assert plan_key(action, "3", WindowView(), DEMO) is None


def test_call_by_number_plan_moves_on_only_when_that_ticket_is_not_waiting():
    plan = plan_key(KeypadAction(3, "call_number", "023"), "3", WindowView(), DEMO)
    assert plan is not None and plan.next_on == {"unknown_ticket"}
    assert plan.commands[0] == ("call_next", {"number": "B023"})


def test_pause_key_follows_the_window_state():
    paused = plan_key(KeypadAction(3, "pause_toggle"), "3", WindowView(paused=True), DEMO)
    serving = plan_key(KeypadAction(3, "pause_toggle"), "3", WindowView(), DEMO)
    assert paused == Plan((("resume", {}), ("pause", {})), frozenset({"window_paused", "window_not_paused"}))
    assert serving is not None and serving.commands[0] == ("pause", {})


def test_transfer_digits_name_a_window():
    assert target_window(DEMO, "4") == "4"
    assert target_window(DEMO, "04") == "4"
    assert target_window(DEMO, "99") == "99"  # the hub answers unknown_window
    plan = plan_key(KeypadAction(3, "transfer", "07"), "3", WindowView(), DEMO)
    assert plan == Plan((("transfer", {"to_window": "7"}),))


def test_call_back_picks_the_held_ticket():
    held = ("B007", "A012", "F007")
    assert pick_held(held, "") == "B007"
    assert pick_held(held, "12") == "A012"
    assert pick_held(held, "007") == "B007"
    assert pick_held(held, "5") is None
    assert pick_held((), "") is None
    view = WindowView(held=held)
    assert plan_key(KeypadAction(3, "call_held", "12"), "3", view, DEMO) == Plan(
        (("call_held", {"ticket": "A012"}),))
    assert plan_key(KeypadAction(3, "call_held"), "3", WindowView(), DEMO) is None


@pytest.mark.parametrize("key", ["call_next", "recall", "finish", "skip", "hold"])
def test_plain_keys_are_the_commands_of_the_same_name(key):
    assert plan_key(KeypadAction(3, key), "3", WindowView(), DEMO) == Plan(((key, {}),))


def test_window_view_keeps_held_tickets_in_the_order_they_were_held():
    def entry(*held: str, **fields: object) -> dict:
        return {"held": [{"number": n} for n in held], **fields}

    first = window_view(entry("B009", state="paused", waiting=4, staff="K3"), WindowView())
    assert first == WindowView(ticket=None, waiting=4, paused=True, staff="K3", held=("B009",))
    # The snapshot lists held tickets by id; B002 was held after B009.
    later = window_view(entry("B002", "B009", ticket={"number": "B005"}, rating_pending=True), first)
    assert later.held == ("B009", "B002") and later.ticket == "B005" and later.rating_pending
    assert window_view(entry("B002"), later).held == ("B002",)


# --- the outbox ----------------------------------------------------------------------


def drain(box: Outbox) -> list[bytes]:
    out = []
    while (data := box.take()) is not None:
        out.append(data)
    return out


def test_only_the_newest_display_is_written_and_only_when_it_changes():
    box = Outbox()
    box.set(("keypad", 3), b"old")
    box.set(("keypad", 3), b"new")
    box.set(("evaluator", 3), b"dark")
    assert drain(box) == [b"new", b"dark"]
    box.set(("keypad", 3), b"new")
    assert drain(box) == []


def test_one_shot_frames_go_first_and_a_blanking_one_gets_the_display_redrawn():
    box = Outbox()
    box.set(("keypad", 3), b"001  1")
    assert drain(box) == [b"001  1"]
    box.send(b"fail", overwrites=("keypad", 3))
    box.set(("keypad", 4), b"     2")
    assert drain(box) == [b"fail", b"     2"]
    box.set(("keypad", 3), b"001  1")  # the redraw after the blank
    assert drain(box) == [b"001  1"]


def test_a_reopened_line_gets_every_state_again_and_no_stale_beeps():
    box = Outbox()
    box.set(("keypad", 3), b"a")
    box.set(("evaluator", 3), b"lit")
    drain(box)
    box.send(b"beep")
    box.line_reset()
    assert drain(box) == [b"a", b"lit"]


KEYS = [("keypad", 3), ("keypad", 4), ("evaluator", 3)]
OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), st.sampled_from(KEYS), st.integers(0, 3)),
    st.tuples(st.just("send"), st.sampled_from([*KEYS, None])),
    st.tuples(st.just("take")),
    st.tuples(st.just("reset")),
), max_size=40)


@given(OPS)
def test_every_device_ends_up_showing_its_latest_state(ops):
    """Whatever the order of updates, blanking frames, writes and reopened lines, once the
    line has written everything and the bridge has redrawn (as it does after a blank),
    each device shows what the bridge asked for last."""
    box = Outbox()
    frames = {f"{key}={n}".encode(): key for key in KEYS for n in range(4)}
    blanks = {f"once {key}".encode(): key for key in KEYS}
    device: dict = {}
    desired: dict = {}

    def write(data: bytes) -> None:
        if data in frames:
            device[frames[data]] = data
        elif data in blanks:
            device[blanks[data]] = None

    for op in ops:
        if op[0] == "set":
            desired[op[1]] = f"{op[1]}={op[2]}".encode()
            box.set(op[1], desired[op[1]])
        elif op[0] == "send":
            box.send(f"once {op[1]}".encode() if op[1] else b"beep", overwrites=op[1])
        elif op[0] == "take" and (data := box.take()) is not None:
            write(data)
        elif op[0] == "reset":
            device.clear()  # unknown after a replug
            box.line_reset()
    for data in drain(box):
        write(data)
    for key, data in desired.items():
        box.set(key, data)
    for data in drain(box):
        write(data)
    assert {key: device.get(key) for key in desired} == desired


def test_line_time_at_9600_baud():
    assert line_time(10, 9600) == pytest.approx(10 * 10 / 9600)
