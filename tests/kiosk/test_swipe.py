"""What the kiosk makes of a swiped card and a scanned code (kiosk.model), and its options."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from caller.core.config import ConfigError, parse_config
from drivers.idcard.identities import RESIDENTS
from kiosk.model import ScannedBooking, ScannedTicket, classify_scan, qr_data, swipe
from kiosk.options import kiosk_options
from tests.caller.halls import raw

TODAY = date(2026, 11, 23)


def test_a_valid_card_gives_number_name_and_age_only() -> None:
    card = RESIDENTS["wang"]
    person, refusal = swipe(card, TODAY)
    assert refusal == "" and person == {"id_number": card.id_number, "name": "王建国", "age": 78}


def test_an_expired_card_is_refused_at_the_kiosk() -> None:
    assert swipe(RESIDENTS["chen"], TODAY) == (None, "card_expired")


def test_a_number_with_a_wrong_check_character_is_refused_at_the_kiosk() -> None:
    card = RESIDENTS["li"]
    wrong = replace(card, id_number=card.id_number[:17] + ("0" if card.id_number[17] != "0" else "1"))
    assert swipe(wrong, TODAY) == (None, "card_bad_number")


def test_our_ticket_qr_is_recognised_and_anything_else_is_not() -> None:
    code = qr_data({"ticket": {"issued_at": "2026-11-23T09:00:00+08:00", "number": "A007"}})
    assert classify_scan(code) == ScannedTicket("A007", "2026-11-23")
    for other in ("https://example.com/x", "hallq:ticket:bad", "YY-20261201-0001", "",
                  "hallq:ticket:2026-13-01:A001", "hallq:ticket:2026-11-23:A0０1",
                  "hallq:ticket:2026-11-23:" + "A" * 9):
        assert classify_scan(other) is None, other


PAGE = "k3v5q7t2m4n6p7r2s4u6w2y4z6"  # the shape of caller.core.ticketcode's codes


def test_a_ticket_page_link_is_read_by_its_code_from_any_host() -> None:
    for link in (f"https://hall.example/p/t/{PAGE}", f"http://127.0.0.1:8080/p/t/{PAGE}",
                 f"https://gov.example/hall-3/p/t/{PAGE}"):
        found = classify_scan(link)
        assert found == ScannedTicket(code=PAGE) and found.query() == {"code": PAGE}, link
    assert ScannedTicket("A007", "2026-11-23").query() == {"number": "A007", "day": "2026-11-23"}
    for malformed in (f"https://hall.example/p/t/{PAGE[:-1]}", f"https://hall.example/p/t/{PAGE}x",
                      f"https://hall.example/p/t/{PAGE.upper()}", f"https://hall.example/p/t/{PAGE}/",
                      f"https://hall.example/p/t/{PAGE}?n=1", f"https://hall.example/p/t/{PAGE[:-1]}1",
                      f"ftp://hall.example/p/t/{PAGE}", f"hall.example/p/t/{PAGE}", PAGE,
                      f"https://hall.example/p/x/{PAGE}", f"https://ha ll/p/t/{PAGE}"):
        assert classify_scan(malformed) is None, malformed


def test_a_booking_code_is_read_bare_or_from_its_page_link() -> None:
    assert classify_scan("012345678901") == ScannedBooking("012345678901")
    assert classify_scan("https://hall.example/p/b/012345678901") == ScannedBooking("012345678901")
    for malformed in ("01234567890", "0123456789012", "0123 4567 8901", "https://hall.example/p/b/0123456789",
                      "https://hall.example/p/b/01234567890x", "https://hall.example/p/b/",
                      "０１２３４５６７８９０１"):
        assert classify_scan(malformed) is None, malformed


def kiosk_hall(**options) -> dict:
    return raw(devices=[{"id": "k", "role": "kiosk", "token": "t", **options}])


def test_kiosk_reader_and_scanner_options() -> None:
    options = kiosk_options(parse_config(kiosk_hall(idcard="/dev/ttyUSB1", scanner="/dev/ttyACM0")), "k")
    assert (options.idcard, options.idcard_baudrate, options.scanner, options.scanner_baudrate) == (
        "/dev/ttyUSB1", 115200, "/dev/ttyACM0", 9600)
    assert kiosk_options(parse_config(kiosk_hall()), "k").idcard == ""


def test_bad_reader_options_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"devices\[0\] \(id 'k'\)\.idcard_baudrate: expected one of 9600"):
        parse_config(kiosk_hall(idcard="/dev/ttyUSB1", idcard_baudrate=12345))
    with pytest.raises(ConfigError, match=r"\.scanner: expected a serial port"):
        parse_config(kiosk_hall(scanner=5))


def test_the_reader_backend_is_chosen_in_the_kiosks_options() -> None:
    assert kiosk_options(parse_config(kiosk_hall()), "k").idcard_backend == "serial"
    http = kiosk_options(parse_config(kiosk_hall(idcard_backend="http",
                                                 idcard="http://127.0.0.1:24010/api/readcard")), "k")
    assert (http.idcard_backend, http.idcard) == ("http", "http://127.0.0.1:24010/api/readcard")
    assert kiosk_options(parse_config(kiosk_hall(idcard_backend="keyboard")), "k").idcard == ""


@pytest.mark.parametrize(("options", "says"), [
    ({"idcard_backend": "bluetooth"}, r"\.idcard_backend: expected one of 'serial', 'keyboard', 'http'"),
    ({"idcard_backend": "http", "idcard": "/dev/ttyUSB1"}, r"\.idcard: with idcard_backend = \"http\""),
    ({"idcard_backend": "http", "idcard": "ftp://x/"}, r"\.idcard: with idcard_backend"),
    ({"idcard_backend": "keyboard", "idcard": "/dev/ttyUSB1"}, r"\.idcard: a keyboard-output reader"),
    ({"idcard_backend": 1}, r"\.idcard_backend: expected one of"),
])
def test_bad_reader_backends_name_the_key(options: dict, says: str) -> None:
    with pytest.raises(ConfigError, match=r"devices\[0\] \(id 'k'\)" + says):
        parse_config(kiosk_hall(**options))
