"""The ID-card readers hallq takes, behind one interface (``drivers.idcard.reader.Backend``):

- ``serial``: the SAM protocol on a serial port (``SamSerialBackend``, the first backend);
- ``keyboard``: a reader in keyboard-output mode that types the 18-character ID number and
  Enter (USB HID). The kiosk hears it as a fast burst of keys, like a wedge scanner, and
  hands each burst shaped like an ID number to :class:`WedgeBackend`. Such a reader tells
  the number only: the name stays empty, the age comes from the birth date inside the
  number, and the card's validity is unknown (never refused as expired);
- ``http``: a vendor's local reader service answering ``GET URL`` with JSON
  (:class:`HttpBackend`; the shape is :func:`card_from_json`'s, docs/hardware.md says which
  services were modelled).

``make_backend(kind, where, baudrate)`` builds the one a kiosk's config names.
"""

from __future__ import annotations

import json
import logging
import queue
import urllib.error
import urllib.request
from datetime import date
from typing import Any

from drivers.idcard.card import LONG_TERM, CardDataError, IdCard, card_from_number, yyyymmdd
from drivers.idcard.reader import Backend, CardReadFailed, ReaderFault, SamSerialBackend

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 2.0
"""How long the vendor service may take to answer one read (a read takes about 1 s)."""
MAX_ANSWER = 256 * 1024
"""Bytes of an HTTP answer read at most: a photo in base64 is about 50 KB."""


def looks_like_id_number(text: str) -> bool:
    """Whether a typed line has an ID number's length and characters (18, the last may be X):
    such a line is the reader's, anything else the scanner's."""
    return len(text) == 18 and text[:17].isascii() and text[:17].isdigit() \
        and (text[17].isdigit() or text[17] in "xX")


class WedgeBackend:
    """The ID numbers a keyboard-output reader typed, handed over by the kiosk's key
    handler (``feed``, any thread) and read by the reader line (``poll``)."""

    def __init__(self) -> None:
        self._typed: queue.SimpleQueue[str] = queue.SimpleQueue()

    def feed(self, text: str) -> None:
        self._typed.put(text)

    def open(self) -> None:
        """Nothing to open: the reader is a keyboard."""

    def close(self) -> None:
        """Nothing to close."""

    def poll(self) -> IdCard | None:
        try:
            text = self._typed.get_nowait()
        except queue.Empty:
            return None
        try:
            return card_from_number(text)
        except CardDataError as e:
            raise CardReadFailed("damaged", f"typed number: {e}") from e


def _text(data: dict, key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise CardDataError(f"{key} is not a string")
    return value.strip()


def _day(text: str, key: str) -> date:
    return yyyymmdd(text.replace("-", "").replace(".", ""), key)


GENDERS = {"男": "1", "女": "2", "1": "1", "2": "2", "M": "1", "F": "2"}
ETHNICITIES = {"汉": "01"}
"""Services name the ethnicity; the card keeps its GB/T 3304 code ("" when not known here)."""


def _ethnicity(text: str) -> str:
    return text if len(text) == 2 and text.isdigit() else ETHNICITIES.get(text, "")


def card_from_json(answer: Any) -> IdCard | None:
    """The card in a vendor service's answer, None when it read no card.

    ``{"resultCode": 0, "resultMessage": "...", "data": {"name", "sex", "nation",
    "birthday", "address", "citizenId", "issueOrgan", "validDateStart",
    "validDateExpire", "photoData", ...}}``; a non-zero ``resultCode`` is no card (the
    service says why in ``resultMessage``). Dates are ``YYYYMMDD`` (``-`` or ``.`` allowed),
    the end of validity may be ``长期``. The photo and unknown fields are ignored, never
    kept. CardDataError when the answer is not of this shape or the card's data is wrong.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("resultCode"), int) \
            or isinstance(answer.get("resultCode"), bool):
        raise CardDataError("the answer is not {resultCode, data}")
    if answer["resultCode"] != 0:
        return None
    data = answer.get("data")
    if not isinstance(data, dict):
        raise CardDataError("the answer holds no data")
    card = card_from_number(_text(data, "citizenId"))
    name = _text(data, "name")
    if not name or len(name) > 30 or not name.isprintable():
        raise CardDataError("the name is empty, too long or unprintable")
    if _day(_text(data, "birthday"), "birthday") != card.birth_date:
        raise CardDataError("the birth date does not match the ID number")
    until = _text(data, "validDateExpire")
    return IdCard(
        name=name, gender=GENDERS.get(_text(data, "sex"), "9"), ethnicity=_ethnicity(_text(data, "nation")),
        birth_date=card.birth_date, address=_text(data, "address"), id_number=card.id_number,
        authority=_text(data, "issueOrgan"),
        valid_from=_day(_text(data, "validDateStart"), "validDateStart"),
        valid_until=None if until == LONG_TERM else _day(until, "validDateExpire"))


class HttpBackend:
    """A vendor's local reader service: each poll is one ``GET url``.

    A service that does not answer, answers an HTTP error or something that is not JSON
    is a :class:`ReaderFault` (the line reports the reader down and retries); JSON of
    the wrong shape or with wrong card data is a failed read (``damaged``).
    """

    def __init__(self, url: str, timeout: float = HTTP_TIMEOUT_S) -> None:
        self.url = url
        self.timeout = timeout
        self._first: IdCard | None = None

    def open(self) -> None:
        """Ask once, so a service that is not running shows the reader down at once; a
        card already on the reader is kept for the first poll."""
        self._first = self.poll()

    def close(self) -> None:
        self._first = None

    def poll(self) -> IdCard | None:
        if self._first is not None:
            card, self._first = self._first, None
            return card
        answer = self._get()
        try:
            return card_from_json(answer)
        except CardDataError as e:
            raise CardReadFailed("damaged", f"reader service: {e}") from e

    def _get(self) -> Any:
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as e:
            raise ReaderFault(f"reader service {self.url}: HTTP {e.code}") from None
        except (TimeoutError, urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ReaderFault(f"reader service {self.url}: {reason}") from None
        if len(body) > MAX_ANSWER:
            raise ReaderFault(f"reader service {self.url}: answer over {MAX_ANSWER} bytes")
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ReaderFault(f"reader service {self.url}: the answer is not JSON") from None


def make_backend(kind: str, where: str, baudrate: int) -> Backend:
    """The reader a kiosk's config names: ``where`` is the serial port or the service URL."""
    if kind == "serial":
        return SamSerialBackend(where, baudrate)
    if kind == "http":
        return HttpBackend(where)
    if kind == "keyboard":
        return WedgeBackend()
    raise ValueError(f"reader backend must be serial, http or keyboard, not {kind!r}")
