"""The resident ID card's data: the 256-byte text block and the ID number's check digit.

The answer to "read basic information" (``30 01``) carries, after ``SW1 SW2 SW3``: the
text length and the photo length (two bytes each, big-endian; 256 and 1024), the text
block, then the photo. The text block is UCS-2 little-endian, each field padded with
spaces to a fixed width (characters):

    name 15, gender 1, ethnicity code 2, birth date 8 (YYYYMMDD), address 35,
    ID number 18, issuing authority 15, valid from 8, valid until 8 (or 长期), reserved 18

The photo is compressed in a format only the vendor's library decodes; it is skipped here
and never kept. Only the ID number's shape is checked here (17 digits, then a digit or X,
the birth date inside it matching the card's); its check character is a rule of the hall's
(``caller.core.personal.valid_id_number``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from drivers.errors import DeviceError

TEXT_SIZE = 256
FIELDS = (
    ("name", 15), ("gender", 1), ("ethnicity", 2), ("birth_date", 8), ("address", 35),
    ("id_number", 18), ("authority", 15), ("valid_from", 8), ("valid_until", 8),
    ("reserved", 18),
)
"""The text block's fields and their widths in UCS-2 characters (256 bytes in all)."""

LONG_TERM = "长期"
_NUMBER = re.compile(r"[0-9]{17}[0-9X]")


class CardDataError(DeviceError, ValueError):
    """The card's data does not make sense: a damaged read, or not a resident ID card."""


@dataclass(frozen=True)
class IdCard:
    """What a resident ID card says (the photo excepted)."""

    name: str
    gender: str  # "1" male, "2" female (GB/T 2261.1)
    ethnicity: str  # GB/T 3304 code, "01" 汉
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_until: date | None  # None: 长期 (valid for life)

    def expired(self, today: date) -> bool:
        return self.valid_until is not None and today > self.valid_until

    def age(self, today: date) -> int:
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def __repr__(self) -> str:  # never put the name or number in a log or traceback
        return f"IdCard(last4={self.id_number[-4:]!r})"


def yyyymmdd(text: str, field: str) -> date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise CardDataError(f"{field} is not a YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardDataError(f"{field} is not a real date") from None


def parse_text(block: bytes) -> IdCard:
    """The card in a 256-byte text block; CardDataError when it is damaged or inconsistent."""
    if len(block) != TEXT_SIZE:
        raise CardDataError(f"the text block is {len(block)} bytes, not {TEXT_SIZE}")
    try:
        text = block.decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardDataError("the text block is not UCS-2") from None
    values: dict[str, str] = {}
    pos = 0
    for field, width in FIELDS:
        values[field] = text[pos : pos + width].strip(" \0")
        pos += width
    if not values["name"] or not values["name"].isprintable():
        raise CardDataError("the name is empty or unprintable")
    if values["gender"] not in ("0", "1", "2", "9"):
        raise CardDataError("the gender code is not 0, 1, 2 or 9")
    number = values["id_number"].upper()
    if not _NUMBER.fullmatch(number):
        raise CardDataError("the ID number is not 17 digits and a digit or X")
    birth = yyyymmdd(values["birth_date"], "birth_date")
    if number[6:14] != values["birth_date"]:
        raise CardDataError("the birth date does not match the ID number")
    until = values["valid_until"]
    return IdCard(
        name=values["name"], gender=values["gender"], ethnicity=values["ethnicity"],
        birth_date=birth, address=values["address"], id_number=number,
        authority=values["authority"], valid_from=yyyymmdd(values["valid_from"], "valid_from"),
        valid_until=None if until == LONG_TERM else yyyymmdd(until, "valid_until"),
    )


def encode_text(card: IdCard) -> bytes:
    """The 256-byte text block of ``card`` (the simulator's side)."""
    values = {
        "name": card.name, "gender": card.gender, "ethnicity": card.ethnicity,
        "birth_date": card.birth_date.strftime("%Y%m%d"), "address": card.address,
        "id_number": card.id_number, "authority": card.authority,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_until": LONG_TERM if card.valid_until is None else card.valid_until.strftime("%Y%m%d"),
        "reserved": "",
    }
    text = "".join(values[field][:width].ljust(width) for field, width in FIELDS)
    return text.encode("utf-16-le")


def parse_base_info(data: bytes) -> IdCard:
    """The card in the DATA of a "read basic information" answer; the photo is dropped."""
    if len(data) < 4:
        raise CardDataError("the answer is too short for the text and photo lengths")
    text_size = int.from_bytes(data[0:2], "big")
    photo_size = int.from_bytes(data[2:4], "big")
    if text_size != TEXT_SIZE or len(data) < 4 + text_size + photo_size:
        raise CardDataError("the answer's text or photo length does not match its size")
    return parse_text(data[4 : 4 + text_size])


def encode_base_info(card: IdCard, photo: bytes = bytes(1024)) -> bytes:
    """DATA of a "read basic information" answer for ``card`` (the simulator's side)."""
    return TEXT_SIZE.to_bytes(2, "big") + len(photo).to_bytes(2, "big") + encode_text(card) + photo


def card_from_number(number: str) -> IdCard:
    """What a reader that gives only the ID number (a keyboard wedge) tells: the number,
    and the birth date and gender inside it; no name, and no validity (never expired).
    CardDataError when ``number`` is not an ID number's shape or birth date."""
    number = number.strip().upper()
    if not _NUMBER.fullmatch(number):
        raise CardDataError("not 17 digits and a digit or X")
    birth = yyyymmdd(number[6:14], "the birth date in the ID number")
    return IdCard(name="", gender="1" if int(number[16]) % 2 else "2", ethnicity="",
                  birth_date=birth, address="", id_number=number, authority="",
                  valid_from=birth, valid_until=None)
