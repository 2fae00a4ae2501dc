"""Counter-line framing (drivers.bus.ft12) and the keypad/evaluator key models (drivers.bus.models)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.bus.ft12 import MAX_DATA, Frame, FrameParser, encode_frame
from drivers.bus.models import (
    DIGITS_OPTIONAL,
    DIGITS_REQUIRED,
    EVALUATOR_MODELS,
    FOUR_KEY,
    KEYPAD_ACTIONS,
    KEYPAD_MODELS,
    LEVELS,
    EvaluatorModel,
    KeypadAction,
    KeypadModel,
    decode_display,
    decode_evaluator,
    decode_evaluator_control,
    decode_keypad,
    evaluator_model,
    evaluator_press,
    evaluator_start,
    evaluator_stop,
    keypad_beep,
    keypad_display,
    keypad_fail,
    keypad_press,
    keypad_success,
)

WORKED_EXAMPLE = bytes.fromhex("FF 68 03 03 68 05 01 0C 12 16")


def parse_all(data: bytes) -> list[Frame]:
    parser = FrameParser()
    return parser.feed(data) + parser.flush()


# --- framing: examples ------------------------------------------------------------------


def test_worked_example_encodes_byte_for_byte() -> None:
    assert encode_frame(Frame(5, 0x01, b"\x0c")) == WORKED_EXAMPLE
    assert keypad_press(5, "call_next") == WORKED_EXAMPLE


def test_worked_example_parses_with_and_without_wake_byte() -> None:
    expected = [Frame(5, 0x01, b"\x0c")]
    assert FrameParser().feed(WORKED_EXAMPLE) == expected
    assert FrameParser().feed(WORKED_EXAMPLE[1:]) == expected
    assert decode_keypad(expected[0]) == KeypadAction(5, "call_next", "")


def test_frame_split_byte_by_byte_comes_out_with_its_last_byte() -> None:
    parser = FrameParser()
    outputs = [parser.feed(bytes([b])) for b in WORKED_EXAMPLE]
    assert outputs[:-1] == [[]] * (len(WORKED_EXAMPLE) - 1)
    assert outputs[-1] == [Frame(5, 0x01, b"\x0c")]


def test_several_frames_in_one_chunk_come_out_in_order() -> None:
    frames = [Frame(1, 0x01, b"\x0c"), Frame(2, 0x02, bytes(6)), Frame(3, 0x03)]
    assert FrameParser().feed(b"".join(encode_frame(f) for f in frames)) == frames


def test_noise_is_counted_and_wake_bytes_are_not() -> None:
    parser = FrameParser()
    assert parser.feed(b"\x01\x02\x03\xff\xff" + WORKED_EXAMPLE) == [Frame(5, 0x01, b"\x0c")]
    assert (parser.dropped_bytes, parser.bad_frames, parser.buffered) == (3, 0, 0)


def test_bad_checksum_is_dropped_and_the_next_frame_still_parses() -> None:
    bad = bytearray(WORKED_EXAMPLE)
    bad[-2] ^= 0x01
    parser = FrameParser()
    assert parser.feed(bytes(bad) + encode_frame(Frame(6, 0x01, b"\x0d"))) == [
        Frame(6, 0x01, b"\x0d")
    ]
    assert parser.bad_frames == 1


@pytest.mark.parametrize(
    ("broken_hex", "what"),
    [
        ("68 03 04 68 05 01 0C 12 16", "the two lengths differ"),
        ("68 01 01 68 05 01 16", "too short to hold ADDR and FC"),
        ("68 03 03 69 05 01 0C 12 16", "second start byte wrong"),
        ("68 03 03 68 05 01 0C 12 17", "wrong end byte"),
        ("68 04 04 68 05 01 0C 12 16", "length says one byte more"),
        ("68 03 03 68 05 01 0C 13 16", "wrong checksum"),
    ],
)
def test_broken_frames_never_come_out(broken_hex: str, what: str) -> None:
    broken = bytes.fromhex(broken_hex)
    parser = FrameParser()
    assert parser.feed(broken) + parser.flush() == []
    assert parser.dropped_bytes == len(broken)
    assert parser.feed(WORKED_EXAMPLE) == [Frame(5, 0x01, b"\x0c")]


def test_truncated_frame_does_not_swallow_the_good_frame_after_it() -> None:
    truncated = WORKED_EXAMPLE[:7]
    parser = FrameParser()
    assert parser.feed(truncated + WORKED_EXAMPLE) == [Frame(5, 0x01, b"\x0c")]
    assert parser.bad_frames == 1


def test_flush_gives_up_a_long_unfinished_frame_and_finds_the_one_inside() -> None:
    # The broken header promises 30 bytes; the good frame inside is shorter than that.
    parser = FrameParser()
    assert parser.feed(bytes.fromhex("68 1E 1E 68 07") + WORKED_EXAMPLE) == []
    assert parser.flush() == [Frame(5, 0x01, b"\x0c")]
    assert (parser.buffered, parser.bad_frames) == (0, 1)


def test_start_byte_in_noise_right_before_a_frame() -> None:
    assert parse_all(b"\x68\x68" + WORKED_EXAMPLE[1:]) == [Frame(5, 0x01, b"\x0c")]


def test_data_longer_than_the_limit_is_refused_unless_configured() -> None:
    long_frame = encode_frame(Frame(1, 0x02, bytes(MAX_DATA + 1)))
    assert parse_all(long_frame) == []
    assert FrameParser(max_data=64).feed(long_frame) == [Frame(1, 0x02, bytes(MAX_DATA + 1))]


def test_buffer_stays_bounded_under_endless_noise_and_a_hanging_header() -> None:
    parser = FrameParser()
    parser.feed(bytes(range(256)) * 40)
    assert parser.buffered < parser.max_frame_size
    parser.feed(bytes.fromhex("68 22 22 68") + b"\x00" * 20)
    assert parser.buffered < parser.max_frame_size


def test_frame_fields_are_checked() -> None:
    with pytest.raises(ValueError):
        Frame(256, 0x01)
    with pytest.raises(ValueError):
        Frame(1, -1)
    with pytest.raises(ValueError):
        Frame(1, 0x01, bytes(254))


# --- framing: properties ------------------------------------------------------------------

VALID_ADDRESSES = range(0, 64)
CORRUPT_ADDRESSES = range(64, 128)  # corrupted copies are made from these, never valid ones
FUNCTIONS = (0x01, 0x02, 0x03, 0x11, 0x12)
CORRUPTIONS = ("flip", "truncate", "checksum", "length", "mismatched_length", "end")


def frames(addresses: range) -> st.SearchStrategy[Frame]:
    return st.builds(
        Frame, st.sampled_from(addresses), st.sampled_from(FUNCTIONS), st.binary(max_size=MAX_DATA)
    )


@st.composite
def corrupted_copy(draw: st.DrawFn) -> bytes:
    raw = bytearray(encode_frame(draw(frames(CORRUPT_ADDRESSES))))
    if not draw(st.booleans()):
        del raw[0]  # no wake byte
    body = len(raw) - len(raw.lstrip(b"\xff"))  # index of the 68
    kind = draw(st.sampled_from(CORRUPTIONS))
    if kind == "flip":
        raw[draw(st.integers(body, len(raw) - 1))] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del raw[draw(st.integers(body + 1, len(raw) - 1)) :]
    elif kind == "checksum":
        raw[-2] = (raw[-2] + draw(st.integers(1, 255))) % 256
    elif kind == "length":
        wrong = draw(st.integers(0, 255).filter(lambda n: n != raw[body + 1]))
        raw[body + 1] = raw[body + 2] = wrong
    elif kind == "mismatched_length":
        raw[body + 2] = draw(st.integers(0, 255).filter(lambda n: n != raw[body + 1]))
    else:
        raw[-1] = draw(st.integers(0, 255).filter(lambda n: n != 0x16))
    return bytes(raw)


@st.composite
def noisy_streams(draw: st.DrawFn) -> tuple[bytes, list[Frame], set[tuple[int, Frame]]]:
    """Valid frames, noise and corrupted copies; the valid frames and where they start."""
    stream = bytearray()
    valid: list[Frame] = []
    planted: set[tuple[int, Frame]] = set()
    segments = draw(st.lists(st.sampled_from(("valid", "noise", "corrupt")), max_size=25))
    for kind in segments:
        if kind == "valid":
            frame = draw(frames(VALID_ADDRESSES))
            raw = encode_frame(frame)
            if not draw(st.booleans()):
                raw = raw[1:]
            planted.add((len(stream) + raw.index(0x68), frame))
            valid.append(frame)
            stream += raw
        elif kind == "noise":
            stream += draw(st.binary(min_size=1, max_size=20))
        else:
            stream += draw(corrupted_copy())
    return bytes(stream), valid, planted


def frames_at_every_offset(stream: bytes) -> set[tuple[int, Frame]]:
    """Every place in ``stream`` where a well-formed frame starts, overlapping or not."""
    found = set()
    for i in range(len(stream) - 5):
        n = stream[i + 1]
        if stream[i] != 0x68 or not 2 <= n <= 2 + MAX_DATA or stream[i + 2] != n:
            continue
        if stream[i + 3] != 0x68 or i + 6 + n > len(stream):
            continue
        body = stream[i + 4 : i + 4 + n]
        if stream[i + 4 + n] == sum(body) % 256 and stream[i + 5 + n] == 0x16:
            found.add((i, Frame(body[0], body[1], body[2:])))
    return found


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, pos = [], 0
    for size in sizes:
        chunks.append(data[pos : pos + size])
        pos += size
    chunks.append(data[pos:])
    return chunks


@settings(max_examples=1000, deadline=None)
@given(noisy_streams(), st.lists(st.integers(1, 64), max_size=40))
def test_every_valid_frame_comes_out_once_in_order_and_nothing_else(
    case: tuple[bytes, list[Frame], set[tuple[int, Frame]]], sizes: list[int]
) -> None:
    stream, valid, planted = case
    # Skip the (very rare) streams where noise plus a broken copy happen to spell a real
    # frame: on the wire it would be indistinguishable from one.
    assume(frames_at_every_offset(stream) == planted)
    parser = FrameParser()
    out: list[Frame] = []
    for chunk in chunked(stream, sizes):
        out += parser.feed(chunk)
        assert parser.buffered < parser.max_frame_size
    out += parser.flush()
    assert out == valid
    assert parser.buffered == 0


@settings(max_examples=500, deadline=None)
@given(noisy_streams(), st.lists(st.integers(1, 64), max_size=40))
def test_chunking_never_changes_what_comes_out(
    case: tuple[bytes, list[Frame], set[tuple[int, Frame]]], sizes: list[int]
) -> None:
    stream = case[0]
    whole, pieces = FrameParser(), FrameParser()
    from_whole = whole.feed(stream)
    from_pieces = [f for chunk in chunked(stream, sizes) for f in pieces.feed(chunk)]
    assert from_pieces == from_whole
    assert (pieces.dropped_bytes, pieces.bad_frames) == (whole.dropped_bytes, whole.bad_frames)


def keypad_presses() -> st.SearchStrategy[tuple[int, str, str]]:
    digits = st.text("0123456789", min_size=1, max_size=6)
    return st.sampled_from(KEYPAD_ACTIONS).flatmap(
        lambda action: st.tuples(
            st.sampled_from(VALID_ADDRESSES),
            st.just(action),
            digits
            if action in DIGITS_REQUIRED
            else (st.just("") | digits if action in DIGITS_OPTIONAL else st.just("")),
        )
    )


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(keypad_presses(), corrupted_copy(), st.binary(min_size=1, max_size=20)),
        max_size=20,
    ),
    st.lists(st.integers(1, 16), max_size=40),
)
def test_host_sees_exactly_the_keys_pressed_among_noise(
    items: list[tuple[int, str, str] | bytes], sizes: list[int]
) -> None:
    stream = bytearray()
    pressed: list[KeypadAction] = []
    planted: set[tuple[int, Frame]] = set()
    for item in items:
        if isinstance(item, tuple):
            raw = keypad_press(*item)
            planted.add((len(stream) + 1, FrameParser().feed(raw)[0]))
            pressed.append(KeypadAction(*item))
            stream += raw
        else:
            stream += item
    assume(frames_at_every_offset(bytes(stream)) == planted)
    parser = FrameParser()
    frames_out = [f for chunk in chunked(bytes(stream), sizes) for f in parser.feed(chunk)]
    frames_out += parser.flush()
    assert [decode_keypad(f) for f in frames_out] == pressed


# --- key models ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", KEYPAD_MODELS.values(), ids=lambda m: m.name)
@pytest.mark.parametrize("action", KEYPAD_ACTIONS)
def test_every_keypad_action_round_trips(model: KeypadModel, action: str) -> None:
    digits = "023" if action in DIGITS_REQUIRED | DIGITS_OPTIONAL else ""
    (frame,) = FrameParser().feed(keypad_press(9, action, digits, model))
    assert decode_keypad(frame, model) == KeypadAction(9, action, digits)


@settings(max_examples=300, deadline=None)
@given(keypad_presses())
def test_keypad_presses_round_trip_with_any_digits(press: tuple[int, str, str]) -> None:
    (frame,) = FrameParser().feed(keypad_press(*press))
    assert decode_keypad(frame) == KeypadAction(*press)


@pytest.mark.parametrize("model", EVALUATOR_MODELS.values(), ids=lambda m: m.name)
def test_every_evaluator_key_round_trips(model: EvaluatorModel) -> None:
    for key, level in model.keys.items():
        data = evaluator_press(3, level, model)
        assert data == encode_frame(Frame(3, 0x11, bytes([key])))
        (frame,) = FrameParser().feed(data)
        assert decode_evaluator(frame, model) == (3, level)


def test_the_models_map_the_documented_keys() -> None:
    five, four = evaluator_model("5key"), evaluator_model("4key")
    assert [five.keys[k] for k in (1, 2, 3, 4, 5)] == list(LEVELS)
    assert [four.keys[k] for k in (3, 2, 1, 0)] == list(LEVELS[:4])
    with pytest.raises(ValueError, match="no key"):
        evaluator_press(1, "very_dissatisfied", FOUR_KEY)
    with pytest.raises(ValueError, match="5key"):
        evaluator_model("3key")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("0C", ("call_next", "")),
        ("00 02 03 0C", ("call_number", "023")),
        ("0D", ("recall", "")),
        ("0B", ("finish", "")),
        ("12", ("pause_toggle", "")),
        ("03 13", ("transfer", "3")),
        ("06 0F", ("skip", "")),
        ("00 0F", ("hold", "")),
        ("03 0F", ("call_held", "")),
        ("00 02 03 03 0F", ("call_held", "023")),
    ],
)
def test_keypad_keys_from_the_domain_table(data: str, expected: tuple[str, str]) -> None:
    assert decode_keypad(Frame(4, 0x01, bytes.fromhex(data))) == KeypadAction(4, *expected)


@pytest.mark.parametrize(
    "data",
    [
        "",  # no key at all
        "0E",  # unknown key
        "01 0E",  # digits then unknown key
        "0F",  # confirm without a code
        "07 0F",  # unknown confirm code
        "01 06 0F",  # digits before pass
        "01 00 0F",  # digits before hold
        "13",  # transfer without a window
        "01 0D",  # digits before recall
        "0A 0C",  # a non-digit where digits go
    ],
)
def test_unknown_or_malformed_keys_are_no_press(data: str) -> None:
    assert decode_keypad(Frame(4, 0x01, bytes.fromhex(data))) is None


def test_other_functions_are_not_presses() -> None:
    assert decode_keypad(Frame(4, 0x02, b"\x0c")) is None
    assert decode_evaluator(Frame(4, 0x01, b"\x01")) is None
    assert decode_evaluator(Frame(4, 0x11, b"\x06")) is None
    assert decode_evaluator(Frame(4, 0x11, b"\x01\x01")) is None
    assert decode_evaluator(Frame(4, 0x11, b"\x00"), FOUR_KEY) == (4, "dissatisfied")


@pytest.mark.parametrize(
    ("ticket", "waiting", "shown"),
    [
        ("A023", 12, "023 12"),
        ("B1234", 0, "234  0"),
        ("A5", 5000, "  5999"),
        (None, 7, "     7"),
        ("VIP", 3, "     3"),
    ],
)
def test_keypad_display(ticket: str | None, waiting: int, shown: str) -> None:
    (frame,) = FrameParser().feed(keypad_display(2, ticket, waiting))
    assert (frame.address, frame.function) == (2, 0x02)
    assert decode_display(frame) == shown


def test_keypad_display_bytes_and_blank_code() -> None:
    assert keypad_display(2, "A023", 12) == encode_frame(
        Frame(2, 0x02, bytes.fromhex("00 02 03 0A 01 02"))
    )
    with pytest.raises(ValueError):
        keypad_display(2, "A023", -1)


def test_success_and_fail_indications_differ() -> None:
    success = FrameParser().feed(keypad_success(1, "A023", 4))
    fail = FrameParser().feed(keypad_fail(1))
    assert [f.function for f in success] == [0x02, 0x03]
    assert decode_display(success[0]) == "023  4"
    assert [f.function for f in fail] == [0x02, 0x03, 0x03]
    assert decode_display(fail[0]) == " " * 6
    assert keypad_beep(1) == encode_frame(Frame(1, 0x03))


def test_evaluator_control_frames() -> None:
    assert evaluator_start(1) == encode_frame(Frame(1, 0x12, b"\x01"))
    assert evaluator_stop(1) == encode_frame(Frame(1, 0x12, b"\x00"))
    assert decode_evaluator_control(FrameParser().feed(evaluator_start(1))[0]) is True
    assert decode_evaluator_control(FrameParser().feed(evaluator_stop(1))[0]) is False
    assert decode_evaluator_control(Frame(1, 0x12, b"\x02")) is None


def test_encoders_refuse_what_a_keypad_cannot_send() -> None:
    with pytest.raises(ValueError):
        keypad_press(1, "call_next", "12")  # that is call_number
    with pytest.raises(ValueError):
        keypad_press(1, "transfer")  # needs a window
    with pytest.raises(ValueError):
        keypad_press(1, "call_number", "1a")
    with pytest.raises(ValueError):
        keypad_press(1, "dance")
