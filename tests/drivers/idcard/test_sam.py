"""SAM framing (drivers.idcard.sam): published examples, and whatever the line does to it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.idcard import sam
from drivers.idcard.sam import Answer, Command, FrameParser, encode_answer, encode_command


def test_commands_match_the_published_frames() -> None:
    assert encode_command(sam.FIND_CARD) == bytes.fromhex("AAAAAA9669 0003 2001 22")
    assert encode_command(sam.SELECT_CARD) == bytes.fromhex("AAAAAA9669 0003 2002 21")
    assert encode_command(sam.READ_BASE) == bytes.fromhex("AAAAAA9669 0003 3001 32")
    assert encode_command(sam.RESET) == bytes.fromhex("AAAAAA9669 0003 10FF EC")


def test_published_answers_parse() -> None:
    found = bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")
    selected = bytes.fromhex("AAAAAA9669 000C 000090 0000000000000000 9C")
    no_card = bytes.fromhex("AAAAAA9669 0004 000080 84")
    assert FrameParser().feed(found + selected + no_card) == [
        Answer(sam.SW_FOUND, bytes(4)), Answer(sam.SW_OK, bytes(8)), Answer(sam.SW_NO_CARD)]
    assert encode_answer(Answer(sam.SW_FOUND, bytes(4))) == found


def test_bad_check_byte_is_dropped_and_the_next_frame_still_parses() -> None:
    bad = bytearray(encode_answer(Answer(sam.SW_OK, b"abc")))
    bad[-1] ^= 1
    parser = FrameParser()
    assert parser.feed(bytes(bad) + encode_answer(Answer(sam.SW_NO_CARD))) == [Answer(sam.SW_NO_CARD)]
    assert parser.bad_frames == 1


def test_truncated_frame_is_given_up_when_the_line_goes_quiet() -> None:
    parser = FrameParser()
    assert parser.feed(encode_answer(Answer(sam.SW_OK, bytes(100)))[:50]) == []
    assert parser.buffered == 50
    assert parser.flush() == []
    assert (parser.buffered, parser.bad_frames) == (0, 1)


def test_truncated_frame_followed_by_a_good_one() -> None:
    good = encode_answer(Answer(sam.SW_FOUND, bytes(4)))
    parser = FrameParser()
    # A length far beyond the bytes: the good frame sits inside the cut one.
    frames = parser.feed(encode_answer(Answer(sam.SW_OK, bytes(100)))[:20] + good)
    assert frames + parser.flush() == [Answer(sam.SW_FOUND, bytes(4))]


def test_length_out_of_range_is_noise() -> None:
    parser = FrameParser()
    assert parser.feed(sam.PREAMBLE + b"\xff\xff" + bytes(10)) == []
    assert parser.feed(sam.PREAMBLE + b"\x00\x01\x00") == []
    assert parser.flush() == []
    assert parser.buffered == 0


def test_reader_side_parses_commands() -> None:
    parser = FrameParser(answers=False)
    assert parser.feed(encode_command(sam.FIND_CARD) + encode_command(Command(0x30, 0x01, b"x"))) == [
        Command(0x20, 0x01), Command(0x30, 0x01, b"x")]


answers = st.builds(Answer, st.integers(0, 255), st.binary(max_size=300),
                    st.integers(0, 255), st.integers(0, 255))


@settings(max_examples=150, deadline=None)
@given(st.lists(answers, max_size=5), st.data())
def test_any_chunking_gives_the_frames_back(frames: list[Answer], data: st.DataObject) -> None:
    stream = b"".join(encode_answer(f) for f in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    parser = FrameParser()
    out: list = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += parser.feed(stream[start:end])
    assert out + parser.flush() == frames
    assert parser.bad_frames == 0


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), answers, st.binary(max_size=50))
def test_garbage_around_a_frame_never_hides_it_or_grows_the_buffer(
        before: bytes, frame: Answer, after: bytes) -> None:
    parser = FrameParser()
    out = parser.feed(before) + parser.flush()
    out += parser.feed(encode_answer(frame)) + parser.feed(after) + parser.flush()
    assert frame in out
    assert parser.buffered == 0


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(noise: bytes) -> None:
    parser = FrameParser()
    for answer in parser.feed(noise) + parser.flush():
        assert isinstance(answer, Answer)
    assert parser.buffered == 0
