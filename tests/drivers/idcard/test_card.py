"""The card's text block and ID numbers (drivers.idcard.card)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caller.core.personal import check_character, valid_id_number
from drivers.idcard.card import (
    CardDataError,
    encode_base_info,
    encode_text,
    parse_base_info,
    parse_text,
)
from drivers.idcard.identities import RESIDENTS, make_card


def test_check_character_of_the_standard_example() -> None:
    assert check_character("11010519491231002") == "X"
    assert valid_id_number("11010519491231002X")
    assert not valid_id_number("110105194912310021")


def test_every_simulated_resident_has_a_valid_number() -> None:
    for card in RESIDENTS.values():
        assert valid_id_number(card.id_number), card


def test_text_block_round_trip_and_layout() -> None:
    card = RESIDENTS["wang"]
    block = encode_text(card)
    assert len(block) == 256
    assert block[:4] == "王建".encode("utf-16-le")
    assert block[30:32] == b"1\x00"  # gender after the 15-character name
    assert parse_text(block) == card
    assert card.valid_until is None  # 长期


def test_base_info_skips_the_photo() -> None:
    card = RESIDENTS["li"]
    assert parse_base_info(encode_base_info(card, photo=b"\x99" * 1024)) == card


def test_repr_never_shows_the_name_or_the_number() -> None:
    card = RESIDENTS["zhang"]
    assert card.name not in repr(card) and card.id_number[:14] not in repr(card)


def test_an_id_number_of_the_wrong_shape_is_refused() -> None:
    card = RESIDENTS["zhang"]
    with pytest.raises(CardDataError, match="17 digits"):
        parse_text(encode_text(replace(card, id_number=card.id_number[:17] + "Y")))


def test_birth_date_must_match_the_number() -> None:
    card = RESIDENTS["zhang"]
    with pytest.raises(CardDataError, match="birth date"):
        parse_text(encode_text(replace(card, birth_date=date(1985, 3, 15))))


@pytest.mark.parametrize("block", [b"", bytes(255), b"\x00\xd8" * 128, " ".encode("utf-16-le") * 128])
def test_broken_blocks_are_card_data_errors(block: bytes) -> None:
    with pytest.raises(CardDataError):
        parse_text(block)


def test_short_base_info_is_refused() -> None:
    with pytest.raises(CardDataError):
        parse_base_info(encode_base_info(RESIDENTS["li"])[:300])


def test_expiry_and_age() -> None:
    chen, wang = RESIDENTS["chen"], RESIDENTS["wang"]
    assert chen.expired(date(2026, 12, 1)) and not chen.expired(date(2021, 1, 9))
    assert not wang.expired(date(2099, 1, 1))
    assert wang.age(date(2026, 9, 30)) == 77 and wang.age(date(2026, 10, 1)) == 78


@settings(max_examples=100, deadline=None)
@given(st.dates(date(1900, 1, 1), date(2025, 12, 31)), st.integers(0, 999))
def test_made_up_cards_always_parse(birth: date, sequence: int) -> None:
    first17 = f"110105{birth:%Y%m%d}{sequence:03d}"
    card = make_card("测试", first17 + check_character(first17))
    assert parse_text(encode_text(card)) == card


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=256, max_size=256))
def test_random_blocks_parse_or_raise_card_data_error(block: bytes) -> None:
    try:
        card = parse_text(block)
    except CardDataError:
        return
    assert len(card.id_number) == 18
