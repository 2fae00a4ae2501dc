"""The keyboard-output and vendor-HTTP reader backends: the card they give, and every way a
typed line or a reader service can be wrong (a failed read or a reader fault, nothing else)."""

from __future__ import annotations

import contextlib
import json
import queue
import time
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.backends import (
    HttpBackend,
    WedgeBackend,
    card_from_json,
    looks_like_id_number,
    make_backend,
)
from drivers.idcard.card import CardDataError, card_from_number
from drivers.idcard.identities import RESIDENTS
from drivers.idcard.reader import CardReadFailed, ReaderFault, ReaderLine, SamSerialBackend
from drivers.idcard.simulator import HttpReaderSimulator, card_json, run_command

WANG = RESIDENTS["wang"]


# --- a reader that types the number -------------------------------------------------


def test_a_typed_number_is_a_card_with_the_birth_date_inside_it() -> None:
    card = card_from_number(WANG.id_number.lower())
    assert (card.id_number, card.birth_date, card.name) == (WANG.id_number, WANG.birth_date, "")
    assert card.age(date(2026, 11, 23)) == 78 and not card.expired(date(2099, 1, 1))


def test_the_wedge_hands_each_typed_number_over_once() -> None:
    wedge = WedgeBackend()
    wedge.open()
    assert wedge.poll() is None
    wedge.feed(WANG.id_number)
    assert wedge.poll().id_number == WANG.id_number
    assert wedge.poll() is None


@pytest.mark.parametrize("typed", ["110105194813010376",  # month 13
                                   "11010519481001037", "1101051948100103761", ""])
def test_a_typed_number_that_cannot_be_is_a_failed_read(typed: str) -> None:
    wedge = WedgeBackend()
    wedge.feed(typed)
    with pytest.raises(CardReadFailed) as failed:
        wedge.poll()
    assert failed.value.reason == "damaged"


@given(st.text(max_size=40))
def test_only_an_id_numbers_shape_goes_to_the_reader(text: str) -> None:
    if looks_like_id_number(text):
        assert len(text) == 18 and text[:17].isdigit()
    else:
        assert not (len(text) == 18 and all(c in "0123456789" for c in text))


# --- a vendor's reader service --------------------------------------------------------


def test_the_service_answer_is_read_and_the_photo_dropped() -> None:
    card = card_from_json(card_json(WANG))
    assert card == WANG
    assert card_from_json({"resultCode": 3, "resultMessage": "无卡"}) is None


@pytest.mark.parametrize("answer", [
    [], "x", {"resultCode": "0"}, {"resultCode": True}, {"resultCode": 0},
    {"resultCode": 0, "data": []},
    {"resultCode": 0, "data": {**card_json(WANG)["data"], "citizenId": "110105194810010375x"}},
    {"resultCode": 0, "data": {**card_json(WANG)["data"], "name": ""}},
    {"resultCode": 0, "data": {**card_json(WANG)["data"], "name": 7}},
    {"resultCode": 0, "data": {**card_json(WANG)["data"], "birthday": "19481002"}},
    {"resultCode": 0, "data": {**card_json(WANG)["data"], "validDateExpire": "2036-02-30"}},
    {"resultCode": 0, "data": {**card_json(WANG)["data"], "validDateStart": None}},
])
def test_a_service_answer_of_the_wrong_shape_is_a_data_error(answer) -> None:
    with pytest.raises(CardDataError):
        card_from_json(answer)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


@given(st.fixed_dictionaries({"resultCode": st.integers(-2, 2) | JSON}, optional={"data": JSON}))
def test_any_json_is_a_card_no_card_or_a_data_error(answer) -> None:
    with contextlib.suppress(CardDataError):
        card_from_json(answer)


@pytest.fixture
def service() -> Iterator[HttpReaderSimulator]:
    with HttpReaderSimulator() as simulator:
        yield simulator


def test_the_http_backend_reads_cards_through_the_service(service) -> None:
    backend = HttpBackend(service.url, timeout=1.0)
    backend.open()
    assert backend.poll() is None
    service.present(WANG)
    assert backend.poll() == WANG
    service.set_mode("pull")
    assert backend.poll() is None and service.card is None


def test_a_damaged_answer_is_a_failed_read_then_the_card_reads(service) -> None:
    backend = HttpBackend(service.url, timeout=1.0)
    service.present(WANG)
    service.set_mode("damaged")
    with pytest.raises(CardReadFailed) as failed:
        backend.poll()
    assert failed.value.reason == "damaged"
    assert backend.poll() == WANG


@pytest.mark.parametrize(("mode", "says"), [
    ("garbage", "not JSON"), ("error", "HTTP 500"), ("huge", "over"), ("silent", "timed out")])
def test_a_service_that_answers_wrong_or_not_at_all_is_a_reader_fault(service, mode, says) -> None:
    backend = HttpBackend(service.url, timeout=0.3)
    service.present(WANG)
    service.set_mode(mode)
    with pytest.raises(ReaderFault, match=says):
        backend.poll()


def test_a_service_that_is_not_running_is_a_fault_at_open(service) -> None:
    backend = HttpBackend(service.url, timeout=0.5)
    service.unplug()
    with pytest.raises(ReaderFault, match="reader service"):
        backend.open()
    with pytest.raises(ReaderFault):
        HttpBackend(service.url.replace("/api/readcard", "/elsewhere"), timeout=0.5).poll()


def test_the_reader_line_over_http_reports_cards_and_the_service_going_and_coming(service) -> None:
    cards, states = queue.Queue(), queue.Queue()
    line = ReaderLine(HttpBackend(service.url, timeout=0.3), poll_interval=0.02, on_card=cards.put,
                      on_failure=lambda reason: None, on_state=lambda up, d: states.put(up))
    line.retry_s = 0.05
    line.start()
    try:
        assert states.get(timeout=5) is True
        service.present(WANG)
        assert cards.get(timeout=5) == WANG
        service.unplug()
        assert states.get(timeout=5) is False
        service.replug()
        assert states.get(timeout=5) is True
        with pytest.raises(queue.Empty):  # the card still lying there is not a second swipe
            cards.get(timeout=0.3)
        service.remove()
        time.sleep(0.2)
        service.present(WANG)
        assert cards.get(timeout=5) == WANG
    finally:
        line.stop()


def test_the_http_simulator_takes_its_own_modes_by_command(service) -> None:
    assert run_command(service, "error") and service.mode == "error"
    assert run_command(service, "present zhang") and service.card == RESIDENTS["zhang"]
    with pytest.raises(ValueError, match=r"unknown command"):
        run_command(service, "bogus")


def test_make_backend_builds_what_the_config_names() -> None:
    assert isinstance(make_backend("serial", "/dev/ttyUSB1", 115200), SamSerialBackend)
    assert isinstance(make_backend("http", "http://127.0.0.1:1/x", 0), HttpBackend)
    assert isinstance(make_backend("keyboard", "", 0), WedgeBackend)
    with pytest.raises(ValueError, match="serial, http or keyboard"):
        make_backend("bluetooth", "", 0)
    assert json.dumps(card_json(WANG), ensure_ascii=False)  # what the simulator serves is JSON
