import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display.voice.reading import spoken_text

DIGITS = "零一二三四五六七八九"
UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_to_int(words: str) -> int:
    """An independent reader of Chinese numerals, to check readings against."""
    total, digit = 0, None
    for ch in words:
        if ch in UNITS:
            total += (1 if digit is None else digit) * UNITS[ch]
            digit = None
        else:
            digit = DIGITS.index(ch)
    return total + (digit or 0)


def assert_canonical_quantity(words: str, n: int) -> None:
    assert chinese_to_int(words) == n
    assert set(words) <= set(DIGITS) | set(UNITS)
    assert "零零" not in words
    if n:
        assert not words.endswith("零"), words
    assert not words.startswith("一十"), words  # 10–19 are 十, 十一…
    if n >= 100 and n % 100 >= 10:
        assert "百零" not in words, words  # 110 is 一百一十, not 一百零十


def unspell(phrase: str, one: str = "一") -> str:
    digits = DIGITS.replace("一", one)
    return "".join(
        item if item.isalpha() and item.isascii() else str(digits.index(item))
        for item in phrase.split(" ")
    )


def test_the_standard_call_reads_as_a_hall_voice_says_it():
    assert spoken_text("请A023号到3号窗口办理") == "请，A 零 二 三 号，到三号窗口办理"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "零"),
        (1, "一"),
        (9, "九"),
        (10, "十"),
        (11, "十一"),
        (19, "十九"),
        (20, "二十"),
        (21, "二十一"),
        (99, "九十九"),
        (100, "一百"),
        (101, "一百零一"),
        (110, "一百一十"),
        (111, "一百一十一"),
        (120, "一百二十"),
        (305, "三百零五"),
        (999, "九百九十九"),
        (1000, "一千"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        (1100, "一千一百"),
        (2019, "二千零一十九"),
        (9999, "九千九百九十九"),
    ],
)
def test_window_numbers_are_read_as_quantities(n, words):
    assert spoken_text(f"{n}号窗口") == f"{words}号窗口"


def test_every_window_number_from_0_to_999_reads_correctly():
    for n in range(1000):
        out = spoken_text(f"请A023号到{n}号窗口办理")
        match = re.fullmatch(r"请，A 零 二 三 号，到(.+)号窗口办理", out)
        assert match, out
        assert_canonical_quantity(match.group(1), n)


def test_every_ticket_of_a_letter_and_three_digits_is_spelled():
    for letter in string.ascii_uppercase:
        for n in range(1000):
            ticket = f"{letter}{n:03d}"
            out = spoken_text(f"请{ticket}号到5号窗口办理")
            head, code, tail = out.split("，")
            assert (head, tail) == ("请", "到五号窗口办理")
            assert code.endswith(" 号")
            assert unspell(code.removesuffix(" 号")) == ticket


def test_every_ticket_of_a_letter_and_four_digits_is_spelled():
    for n in range(10000):
        ticket = f"C{n:04d}"
        code = spoken_text(f"请{ticket}号")
        assert code == "请，" + " ".join(["C", *(DIGITS[int(d)] for d in f"{n:04d}"), "号"])


@given(
    prefix=st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=3),
    digits=st.text(alphabet=string.digits, min_size=3, max_size=4),
    window=st.integers(min_value=0, max_value=9999),
    one=st.sampled_from(["一", "幺"]),
)
def test_any_ticket_and_window_round_trip(prefix, digits, window, one):
    out = spoken_text(f"请{prefix}{digits}号到{window}号窗口办理", one=one)
    head, code, tail = out.split("，")
    assert head == "请"
    assert unspell(code.removesuffix(" 号"), one) == prefix + digits
    assert_canonical_quantity(tail.removeprefix("到").removesuffix("号窗口办理"), window)


def test_yao_is_used_for_one_only_inside_codes():
    assert spoken_text("请A101号到11号窗口办理", one="幺") == "请，A 幺 零 幺 号，到十一号窗口办理"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # a window name with a letter and digit is spelled too
        ("请A023号到B2窗口办理", "请，A 零 二 三 号，到，B 二，窗口办理"),
        # spaces as some templates write them
        ("请 A023 号 到 12 号窗口 办理", "请，A 零 二 三 号，到十二号窗口办理"),
        # full-width characters from a Chinese input method
        ("请Ａ０２３号到１２号窗口办理", "请，A 零 二 三 号，到十二号窗口办理"),
        ("请a023号到3号窗口办理", "请，A 零 二 三 号，到三号窗口办理"),
        # a ticket without prefix: the leading zero marks it as a code
        ("请023号到10号窗口办理", "请，零 二 三 号，到十号窗口办理"),
        # more than four digits cannot be a window: spelled
        ("请12345号到20号窗口办理", "请，一 二 三 四 五 号，到二十号窗口办理"),
        ("请A023号到3号窗口办理。谢谢！", "请，A 零 二 三 号，到三号窗口办理，谢谢"),
        ("请VIP007号到101号窗口办理", "请，V I P 零 零 七 号，到一百零一号窗口办理"),
        ("A区3号窗口暂停服务", "A区三号窗口暂停服务"),
        ("", ""),
    ],
)
def test_mixed_texts(text, spoken):
    assert spoken_text(text) == spoken


def test_a_listed_code_is_spelled_even_when_it_looks_like_a_quantity():
    assert spoken_text("请123号到3号窗口办理") == "请一百二十三号到三号窗口办理"
    assert spoken_text("请123号到3号窗口办理", codes=["123"]) == "请，一 二 三 号，到三号窗口办理"


def test_cantonese_uses_the_same_written_reading():
    assert spoken_text("请A023号到12号窗口办理", "yue") == "请，A 零 二 三 号，到十二号窗口办理"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("请A023号到3号窗口办理", "Number A, 0 2 3, please go to window 3"),
        ("请A023号到12号窗口办理", "Number A, 0 2 3, please go to window 12"),
        ("请 B0101 号到 03 号窗口办理", "Number B, 0 1 0 1, please go to window 3"),
        ("请023号到7号窗口办理", "Number 0 2 3, please go to window 7"),
        ("请A023号到B2窗口办理", "Number A, 0 2 3, please go to window B 2"),
        ("请A023号到综合窗口办理", "Number A, 0 2 3, please go to the service window"),
    ],
)
def test_english_reading_of_the_standard_call(text, spoken):
    assert spoken_text(text, "en") == spoken


def test_english_needs_a_ticket_number():
    with pytest.raises(ValueError, match="cannot read"):
        spoken_text("暂停服务", "en")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown reading language 'fr'"):
        spoken_text("请A023号到3号窗口办理", "fr")


@given(st.text(alphabet=string.ascii_letters + string.digits + "请号到窗口办理，。 ", max_size=40))
def test_output_keeps_the_contract_the_announcer_relies_on(text):
    out = spoken_text(text)
    assert not any(c in string.digits for c in out)  # every digit is read out
    assert out == out.strip() and "，，" not in out and not out.startswith("，")
    for phrase in out.split("，") if out else []:
        assert phrase
        if " " in phrase:  # spaces only separate spelled items
            assert all(len(item) == 1 for item in phrase.split(" ")), phrase
