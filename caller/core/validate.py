"""Input validation at the hub's door: every value a device sends is checked here
before the engine, the store or a log line sees it.

A string must be valid Unicode (no lone UTF-16 surrogates, which SQLite and UTF-8
refuse), carries no C0/C1 control characters (free-text fields may hold line breaks
and tabs), is NFC-normalised and stays within its field's length. Integers stay within
`INT_RANGE`. `docs/protocol.md` lists the limits.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from caller.core.errors import HallqError

# Field -> the most characters it may hold (after NFC normalisation).
FIELD_LENGTHS: dict[str, int] = {
    "id": 128, "type": 32, "device": 64, "token": 256,
    "service": 64, "to_service": 64, "window": 32, "to_window": 32, "priority": 16,
    "lang": 16, "number": 16, "ticket": 16, "level": 32, "kind": 32, "part": 32,
    "staff": 32, "by": 32, "reason": 100, "case_no": 64, "decision": 16,
    "staff_no": 32, "title": 32, "photo": 60_000, "reasons": 20, "comment": 200,
    "code": 32, "phone": 20, "id_last6": 6, "id_number": 32, "name": 30, "day": 10, "slot": 5,
    "message": 500, "text": 500, "note": 1000, "cause": 1000, "fix": 1000, "outcome": 1000,
}
FREE_TEXT = frozenset({"message", "text", "note", "cause", "fix", "outcome"})
DEFAULT_LENGTH = 128
INT_RANGE = (0, 2**31 - 1)
LIST_MAX = 16  # items of a list argument (reasons, windows), each a string
LOG_VALUE_MAX = 64  # characters of a client's value that reach a log line

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LANG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")


class Invalid(HallqError, ValueError):
    """A value refused at the door; `field` names it, the message says why (Chinese)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"参数 {field} {reason}")
        self.field = field


def text(field: str, value: str) -> str:
    """The value, NFC-normalised, or raise Invalid."""
    if not (value.isascii() and value.isprintable()):  # else: no surrogate, control, or change by NFC
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(field, "含有无效的 Unicode 字符（孤立代理项）") from None
        value = unicodedata.normalize("NFC", value)
        pattern = _CONTROL_EXCEPT_LINES if field in FREE_TEXT else _CONTROL
        if pattern.search(value):
            raise Invalid(field, "含有控制字符")
    limit = FIELD_LENGTHS.get(field, DEFAULT_LENGTH)
    if len(value) > limit:
        raise Invalid(field, f"超过 {limit} 个字符")
    if field == "lang" and not _LANG.fullmatch(value):
        raise Invalid(field, "不是语言代码（如 zh、en、ug）")
    return value


def integer(field: str, value: int) -> int:
    low, high = INT_RANGE
    if not low <= value <= high:
        raise Invalid(field, f"超出范围 {low}–{high}")
    return value


def value(field: str, item: Any) -> Any:
    """Check one argument the schema let through (a string, an integer, a list of strings)."""
    if isinstance(item, list):
        if len(item) > LIST_MAX or not all(isinstance(v, str) for v in item):
            raise Invalid(field, f"应为不超过 {LIST_MAX} 个字符串的列表")
        return [text(field, v) for v in item]
    if isinstance(item, str):
        return text(field, item)
    if isinstance(item, int) and not isinstance(item, bool):
        return integer(field, item)
    return item


def for_log(item: object) -> str:
    """A client's value as it may appear in a log line: printable and short."""
    shown = repr(item) if not isinstance(item, str) else item
    shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    shown = _CONTROL.sub("?", shown)
    if len(shown) > LOG_VALUE_MAX:
        return f"{shown[:LOG_VALUE_MAX]}…({len(shown)} chars)"
    return shown
