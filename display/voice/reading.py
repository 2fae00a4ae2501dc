"""How an announcement is read aloud: "请A023号到3号窗口办理" → "请，A 零 二 三 号，到三号窗口办理".

The output is plain text any TTS engine can read, with a small contract the announcer relies on
to cache audio in pieces:

- a phrase separator ("，" in Chinese, ", " in English) marks a pause;
- inside a phrase, a single space separates spelled items (one letter or one digit each) of a
  code such as a ticket number; Chinese phrases contain no other spaces.

Codes (ticket numbers) are spelled digit by digit; every other number is read as a quantity
("12号窗口" → "十二号窗口"). A number counts as a code when it follows letters ("A023", "B2"),
has a leading zero ("023"), is longer than four digits, or is listed in ``codes``.
"""

import re
import unicodedata
from collections.abc import Iterable

DIGIT_WORDS = "零一二三四五六七八九"
_UNITS = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
_MAX_QUANTITY_DIGITS = 4
_TICKET_COUNTER = "号"
_CHINESE_PAUSES = frozenset("，。、！？；：,.!?;:")
_SEGMENT = re.compile(r"(?P<code>[A-Za-z]+\d+)|(?P<num>\d+)|(?P<char>.)", re.S)
_EN_CALL = re.compile(r"(?P<ticket>[A-Za-z]*\d+)\s*号?\s*到(?P<window>.*?)(?:办理.*)?$", re.S)
_EN_WINDOW_NUMBER = re.compile(r"^\s*(?P<number>\d+)\s*号?\s*窗口")

LANGUAGES = ("zh", "yue", "en")


def spoken_text(text: str, lang: str = "zh", *, one: str = "一", codes: Iterable[str] = ()) -> str:
    """Rewrite announcement text the way a hall voice says it.

    ``lang`` is "zh" (Mandarin), "yue" (Cantonese, same written form) or "en" (English, which
    understands the standard call "请<ticket>号到<window>办理"). ``one`` is how the digit 1 is
    spelled inside codes: "一" (default, what halls say) or "幺"; quantities always use "一".
    ``codes`` lists strings (e.g. the called ticket's number) that must be spelled even when
    they look like quantities.
    """
    normalized = unicodedata.normalize("NFKC", text).strip()
    code_set = {unicodedata.normalize("NFKC", c).upper() for c in codes}
    if lang in ("zh", "yue"):
        return _chinese(re.sub(r"\s+", "", normalized), one, code_set)
    if lang == "en":
        return _english(normalized)
    raise ValueError(f"unknown reading language {lang!r}; expected one of {LANGUAGES}")


def _chinese(text: str, one: str, codes: set[str]) -> str:
    digit_words = DIGIT_WORDS.replace("一", one)
    phrases: list[str] = []
    current = ""
    position = 0
    for match in _SEGMENT.finditer(text):
        if match.start() < position:  # the 号 consumed by the code before it
            continue
        kind, piece = match.lastgroup, match.group()
        if kind == "code" or (kind == "num" and _is_code(piece, codes)):
            phrases.append(current)
            current = ""
            spelled = [c.upper() if c.isalpha() else digit_words[int(c)] for c in piece]
            if text.startswith(_TICKET_COUNTER, match.end()):
                spelled.append(_TICKET_COUNTER)
                position = match.end() + len(_TICKET_COUNTER)
            phrases.append(" ".join(spelled))
        elif kind == "num":
            current += _quantity(int(piece))
        elif kind == "char" and piece in _CHINESE_PAUSES:
            phrases.append(current)
            current = ""
        elif kind == "char":
            current += piece
    phrases.append(current)
    return "，".join(p for p in phrases if p)


def _is_code(digits: str, codes: set[str]) -> bool:
    return (
        digits in codes
        or (len(digits) > 1 and digits.startswith("0"))
        or len(digits) > _MAX_QUANTITY_DIGITS
    )


def _quantity(n: int) -> str:
    """Chinese reading of 0–9999: 10 → 十, 20 → 二十, 101 → 一百零一, 110 → 一百一十."""
    if n == 0:
        return DIGIT_WORDS[0]
    words = ""
    gap = False
    for value, unit in _UNITS:
        digit = n // value % 10
        if digit == 0:
            gap = gap or bool(words)
            continue
        if gap:
            words += DIGIT_WORDS[0]
            gap = False
        leading_ten = unit == "十" and digit == 1 and not words
        words += ("" if leading_ten else DIGIT_WORDS[digit]) + unit
    return words


def _english(text: str) -> str:
    match = _EN_CALL.search(text)
    if match is None:
        raise ValueError(f"cannot read {text!r} in English: expected 请<ticket>号到<window>办理")
    ticket = match.group("ticket").upper()
    letters = "".join(c for c in ticket if c.isalpha())
    digits = " ".join(c for c in ticket if c.isdigit())
    # A letter needs its own comma, or English voices read "A" as the article.
    words = f"Number {letters}, {digits}" if letters else f"Number {digits}"
    window = match.group("window")
    number = _EN_WINDOW_NUMBER.match(window)
    if number:
        return f"{words}, please go to window {int(number.group('number'))}"
    label = " ".join(re.findall(r"[A-Za-z]|\d+", window))
    if label:
        return f"{words}, please go to window {label}"
    return f"{words}, please go to the service window"
