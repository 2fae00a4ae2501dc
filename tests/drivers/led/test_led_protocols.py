"""LED strip wire protocols: frames checked against hand-derived bytes, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.led import COLOURS, EFFECTS, PROTOCOLS, StripText, bx5, gbk_color, get_protocol

CALL_A001 = StripText.plain("请A001号办理", "red")


# --- gbk-color ----------------------------------------------------------------------


def test_gbk_color_frame_for_a_call_matches_the_spec_byte_for_byte() -> None:
    # Strip 1 shows 请A001号办理 in red. GBK: 请 C7 EB, A 41, 0 30, 0 30, 1 31,
    # 号 BA C5, 办 B0 EC, 理 C0 ED; every character is followed by colour 00 (red).
    # Payload = 4 Chinese x 3 bytes + 4 ASCII x 2 bytes = 20 = 0x0014.
    # XOR over 01 A5 00 14 and the payload, character by character:
    #   01^A5^00^14 = B0; 请 C7^EB = 2C; A001 41^30^30^31 = 70; 号 BA^C5 = 7F;
    #   办 B0^EC = 5C; 理 C0^ED = 2D;  B0^2C^70^7F^5C^2D = E2.
    expected = bytes.fromhex(
        "A0 90 01 A5 00 14"
        " C7 EB 00  41 00  30 00  30 00  31 00  BA C5 00  B0 EC 00  C0 ED 00"
        " E2"
    )
    assert gbk_color.encode(1, CALL_A001) == expected


def test_gbk_color_frame_carries_one_colour_byte_per_character() -> None:
    # Strip 42 (0x2A): "A1" green (01), "停" (GBK CD A3) yellow (02). Payload 7 bytes.
    # XOR: 2A^A5^00^07 = 88; 41^01 = 40; 31^01 = 30; CD^A3^02 = 6C; 88^40^30^6C = 94.
    content = StripText((("A1", "green"), ("停", "yellow")))
    expected = bytes.fromhex("A0 90 2A A5 00 07  41 01  31 01  CD A3 02  94")
    assert gbk_color.encode(42, content) == expected


def test_gbk_color_blank_strip_is_an_empty_payload() -> None:
    # 05 ^ A5 ^ 00 ^ 00 = A0
    assert gbk_color.encode(5, StripText()) == bytes.fromhex("A0 90 05 A5 00 00 A0")


def test_gbk_color_ignores_flash_because_the_caller_alternates_writes() -> None:
    flashing = StripText.plain("请A001号办理", "red", effect="flash")
    assert gbk_color.encode(1, flashing) == gbk_color.encode(1, CALL_A001)


def test_characters_gbk_cannot_encode_become_question_marks() -> None:
    frame = gbk_color.encode(1, StripText.plain("A😀€"))
    assert frame[6:-1] == bytes.fromhex("41 00 3F 00 3F 00")
    (decoded,) = gbk_color.Decoder().feed(frame)
    assert decoded == (1, StripText.plain("A??"))


@pytest.mark.parametrize("address", [-1, 256])
def test_gbk_color_rejects_addresses_outside_one_byte(address: int) -> None:
    with pytest.raises(ValueError, match="0-255"):
        gbk_color.encode(address, CALL_A001)


def test_gbk_color_decoder_drops_a_frame_with_a_bad_check_and_finds_the_next() -> None:
    good = gbk_color.encode(2, StripText.plain("暂停服务", "yellow"))
    corrupt = bytearray(gbk_color.encode(1, CALL_A001))
    corrupt[7] ^= 0x01
    decoder = gbk_color.Decoder()
    assert decoder.feed(bytes(corrupt) + b"\x00\xa0\x13" + good) == [
        (2, StripText.plain("暂停服务", "yellow"))
    ]


def test_gbk_color_decoder_rejects_unknown_colour_bytes() -> None:
    # 01 A5 00 02 41 03 -> XOR = 01^A5^00^02^41^03 = E4
    assert gbk_color.Decoder().feed(bytes.fromhex("A0 90 01 A5 00 02 41 03 E4")) == []


# --- bx5 ----------------------------------------------------------------------------


def test_bx5_crc_is_crc16_arc() -> None:
    # CRC-16/ARC check value; CRC-16/MODBUS (init FFFF) would give 0x4B37.
    assert bx5.crc16(b"123456789") == 0xBB3D


def test_bx5_frame_with_bytes_that_need_escaping_matches_the_spec() -> None:
    # Screen 165 (0xA5) shows 处[Z] in red: 处 is GBK B4 A6, "[" 5B, "Z" 5A, "]" 5D,
    # so all four escapes occur (A5 in the address, A6, 5B and 5A in the text).
    # Text = \C1 (5C 43 31, red) + B4 A6 5B 5A 5D = 8 bytes.
    # Area = 27-byte header + 8 = 35 = 0x23:
    #   00 | X 00 00 | Y 00 00 | W 10 00 (16 bytes = 128 dots) | H 10 00 (16 dots)
    #   id 00 | spacing 00 | run 01 | timeout 00 00 | reserved 00 00 00
    #   single line 01 | no wrap 01 | static 01 | exit 00 | speed 00 | stay 0A
    #   text length 08 00 00 00
    # Data = A3 06 | no reply 02 | 00 00 | delete 00 | areas 01 | 23 00 | area
    #      = 9 + 35 = 44 = 0x2C bytes.
    # Packet = dst A5 00 | src 00 80 | 00 x6 | type FE | version 02 | 2C 00 | data.
    # CRC-16/ARC of the packet = 0x3318 -> 18 33 (little-endian).
    # Escaped: A5 -> A6 02, A6 -> A6 01, 5B -> 5B 01, 5A -> 5B 02; then end 5A.
    expected = bytes.fromhex(
        "A5 A5 A5 A5 A5 A5 A5 A5"
        " A6 02 00  00 80  00 00 00 00 00 00  FE  02  2C 00"
        " A3 06  02  00 00  00  01  23 00"
        " 00  00 00  00 00  10 00  10 00  00  00  01  00 00  00 00 00"
        " 01  01  01  00  00  0A  08 00 00 00"
        " 5C 43 31  B4 A6 01  5B 01  5B 02  5D"
        " 18 33"
        " 5A"
    )
    assert bx5.encode(0xA5, StripText.plain("处[Z]", "red")) == expected


def test_bx5_decoder_reads_a_published_onbon_capture() -> None:
    # "发送实时显示信息实例" as published with its field-by-field breakdown (see the
    # bx5 module docstring), area width restored to 0x18: the only single-byte change
    # that makes the published CRC A8 7D valid. Reply flag 01, reserved 2D 00, one
    # area, display mode 03 (move left), text "012345QRSTTV'B" with no colour code.
    capture = bytes.fromhex(
        "A5 A5 A5 A5 A5 A5 A5 A5 01 00 00 80 00 00 00 00 00 00 FE 02 32 00 A3 06 01 2D"
        " 00 00 01 29 00 00 00 00 00 00 18 00 20 00 00 00 00 02 00 00 00 00 02 02 03 00"
        " 04 05 0E 00 00 00 30 31 32 33 34 35 51 52 53 54 54 56 27 42 A8 7D 5A"
    )
    assert bx5.Decoder().feed(capture) == [(1, StripText.plain("012345QRSTTV'B", "red"))]


def test_bx5_colours_are_in_text_codes() -> None:
    frame = bx5.encode(1, StripText((("A001", "green"), ("暂停", "yellow"))))
    assert b"\\C2A001\\C3" + "暂停".encode("gbk") in frame


def test_bx5_sends_a_backslash_as_its_full_width_form() -> None:
    (decoded,) = bx5.Decoder().feed(bx5.encode(1, StripText.plain("A\\C2B")))
    assert decoded == (1, StripText.plain("A＼C2B"))


def test_bx5_decoder_drops_a_frame_with_a_bad_crc() -> None:
    frame = bytearray(bx5.encode(7, CALL_A001))
    frame[-5] ^= 0x01  # a text byte
    good = bx5.encode(8, StripText.plain("欢迎光临", "green"))
    assert bx5.Decoder().feed(bytes(frame) + good) == [(8, StripText.plain("欢迎光临", "green"))]


@pytest.mark.parametrize("address", [-1, 0x10000])
def test_bx5_rejects_addresses_outside_two_bytes(address: int) -> None:
    with pytest.raises(ValueError, match="address"):
        bx5.encode(address, CALL_A001)


# --- registry -----------------------------------------------------------------------


def test_get_protocol_names_the_valid_choices() -> None:
    assert get_protocol("bx5").encode(1, CALL_A001) == bx5.encode(1, CALL_A001)
    with pytest.raises(ValueError, match="bx5, gbk-color"):
        get_protocol("bx6")


def test_strip_text_rejects_unknown_colours_and_effects() -> None:
    with pytest.raises(ValueError, match="red, green, yellow"):
        StripText.plain("A001", "blue")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="steady, flash"):
        StripText.plain("A001", effect="blink")  # type: ignore[arg-type]


def test_strip_text_merges_neighbours_of_one_colour() -> None:
    merged = StripText((("请", "red"), ("", "green"), ("A001", "red")))
    assert merged == StripText.plain("请A001")


# --- round trip ---------------------------------------------------------------------

# Printable ASCII except the backslash (bx5 sends it as "＼") plus CJK ideographs,
# every one of which GBK encodes.
ALPHABET = st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\\"),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
)
CONTENTS = st.builds(
    StripText,
    st.lists(
        st.tuples(st.text(ALPHABET, max_size=8), st.sampled_from(COLOURS)), max_size=4
    ).map(tuple),
    st.sampled_from(EFFECTS),
)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_decoder_recovers_every_frame_from_a_chunked_noisy_stream(
    name: str, data: st.DataObject
) -> None:
    protocol = PROTOCOLS[name]
    garbage = st.binary(max_size=24)
    if name == "gbk-color":
        # gbk-color reserves no byte, so noise shaped like a frame start would hold the
        # decoder until as many bytes as its length field claims have arrived.
        garbage = garbage.filter(lambda noise: gbk_color.START not in noise)
    writes = data.draw(
        st.lists(st.tuples(st.integers(0, protocol.max_address), CONTENTS), max_size=5)
    )
    stream = data.draw(garbage)
    for address, content in writes:
        stream += protocol.encode(address, content) + data.draw(garbage)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))

    decoder = protocol.new_decoder()
    decoded = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        decoded += decoder.feed(stream[start:end])

    # Neither wire format carries flash: the bridge flashes by alternating writes.
    assert decoded == [
        (address, StripText(content.segments, "steady")) for address, content in writes
    ]
