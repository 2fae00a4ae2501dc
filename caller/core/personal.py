"""Personal data of real-name tickets (个人信息): what the hall keeps and how.

The ID number is kept only as a keyed hash (HMAC-SHA256 with the hall secret) and its
last four characters; the name only masked (张*三). The hash is the "person key": the same
card gives the same key at every kiosk, so one person's live tickets and, later, their
appointments are found by it, while the number itself cannot be read back from it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from caller.core.errors import HallqError

SECRET_BYTES = 32
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"


class SecretError(HallqError):
    """The hall secret file is missing, too short, or others may read it."""


def read_secret(path: Path) -> bytes:
    """The hall secret in ``path``; refused unless only its owner may read it (0600/0400)."""
    try:
        text = path.read_text(encoding="ascii").strip()
        mode = path.stat().st_mode & 0o777
    except (OSError, UnicodeDecodeError) as e:
        raise SecretError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    if os.name == "posix" and mode & 0o077:
        raise SecretError(f"{path} has mode {mode:04o}, others may read it; "
                          f"expected 0600 or 0400 (chmod 600 {path})")
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise SecretError(f"{path} is not hex; make it with `hallq secret new {path}`") from None
    if len(secret) < SECRET_BYTES:
        raise SecretError(f"{path} holds {len(secret)} bytes; expected {SECRET_BYTES} or more")
    return secret


def new_secret(path: Path) -> None:
    """Write a fresh random secret to ``path`` with mode 0600; never replaces one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(os.urandom(SECRET_BYTES).hex() + "\n")


def check_character(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of an ID number's first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("an ID number starts with 17 digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def valid_id_number(number: str) -> bool:
    """True when ``number`` has 18 characters, a real birth date and the right check character."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return check_character(number[:17]) == number[17].upper()


def person_key(secret: bytes, id_number: str) -> str:
    return hmac.new(secret, id_number.upper().encode("ascii"), hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 张三 → 张*, 欧阳娜娜 → 欧**娜: the first and (3+ characters) last kept."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@dataclass(frozen=True)
class Person:
    """Who holds a ticket, as the hub keeps it."""

    key: str
    name: str  # masked
    last4: str
    age: int | None = None  # for the green channel only; never stored

    def __repr__(self) -> str:
        return f"Person(last4={self.last4!r})"


def person_from_card(secret: bytes, id_number: str, name: str, age: int | None) -> Person:
    """The person behind a card read at a kiosk; ValueError for a number that cannot be."""
    number = id_number.upper()
    if not valid_id_number(number):
        raise ValueError("the ID number's check character or birth date is wrong")
    if len(name) > 30 or not name.isprintable():  # "": a reader that gives the number only
        raise ValueError("the name is too long or unprintable")
    return Person(person_key(secret, number), mask_name(name), number[-4:], age)


