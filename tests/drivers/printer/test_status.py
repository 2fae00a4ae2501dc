"""Status bytes as Epson's ESC/POS reference defines them, both ways."""

import pytest

from drivers.printer.status import (
    DLE_EOT,
    GS_R,
    PrinterStatus,
    decode_offline_cause,
    decode_online,
    decode_paper,
    decode_paper_gs_r,
    read_status,
    status_reply,
)


def test_documented_paper_bytes():
    assert decode_paper(0x12) == "ok"
    assert decode_paper(0x1E) == "low"  # near-end bits 2-3
    assert decode_paper(0x72) == "out"  # paper-end bits 5-6 (near-end too)
    assert decode_paper(0x00) == "unknown"  # fixed bits wrong: not a status byte
    assert decode_paper_gs_r(0x00) == "ok"
    assert decode_paper_gs_r(0x03) == "low"
    assert decode_paper_gs_r(0x0F) == "out"
    assert decode_online(0x12) is True
    assert decode_online(0x1A) is False
    assert decode_offline_cause(0x16) == "cover open"


@pytest.mark.parametrize("paper", ["ok", "low", "out"])
def test_a_simulated_printer_is_read_back_as_it_is(paper):
    def printer(request: bytes) -> int | None:
        answer = status_reply(request[:2], request[2], paper)
        return answer[0] if answer else None

    status = read_status(printer)
    assert status.paper == paper
    assert status.online is (paper != "out")


def test_gs_r_gets_no_answer_while_offline_at_paper_end():
    assert status_reply(GS_R, 1, "out") == b""
    assert status_reply(GS_R, 1, "low") == b"\x03"
    assert status_reply(DLE_EOT, 4, "out") == b"\x7e"  # both sensors see no paper


def test_a_silent_printer_reads_as_unknown_paper():
    assert read_status(lambda request: None) == PrinterStatus(
        online=True, paper="unknown", error="no status answer"
    )



def test_a_status_carries_states_and_an_english_detail_only():
    """The driver reports states; the words for people are the kiosk's."""
    status = read_status({b"\x10\x04\x01": 0x1A, b"\x10\x04\x02": 0x32, b"\x10\x04\x04": 0x7E}.get)
    assert status == PrinterStatus(online=False, paper="out", error="stopped at paper end")
    assert status.error.isascii()
