"""Control bytes in hub or config text never reach the printer as commands: a notice
holding ``GS V`` does not cut the ticket in two, ``DLE DC4`` does not switch the printer
off. What the printer received is read back with the project's ESC/POS decoder."""

from __future__ import annotations

import pytest

from drivers.printer.decode import EscPosDecoder, PrintedJob
from kiosk.model import ticket_print
from kiosk.ticket import TicketPrint
from kiosk.ticket_layout import ticket_bytes

CUT = "\x1dV\x00"  # GS V 0: full cut
POWER_OFF = "\x10\x14\x02\x01\x08"  # DLE DC4 2 1 8: power off
PULSE = "\x10\x14\x01\x00\x05"  # DLE DC4 1 0 5: open the cash drawer


def printed(data: bytes) -> list[PrintedJob]:
    decoder = EscPosDecoder()
    jobs = [event for event in decoder.feed(data) if isinstance(event, PrintedJob)]
    rest = decoder.flush()
    return jobs + ([rest] if rest else [])


def one_whole_ticket(data: bytes) -> PrintedJob:
    jobs = printed(data)
    assert len(jobs) == 1 and jobs[0].cut, [job.text_lines for job in jobs]  # cut once, at the end
    assert jobs[0].device_commands == []
    return jobs[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_notice_with_a_cut_and_a_power_off_prints_as_one_ticket(lang) -> None:
    ticket = TicketPrint(
        hall_name="城东区政务服务中心", service_name=f"不动产{PULSE}登记", number="A023", ahead=2,
        issued_at="2026-12-01 09:12", windows=["3号窗口"],
        materials=[f"身份证{POWER_OFF}原件"], qr_data="hallq:ticket:2026-12-01:A023",
        notice=f"今日下午{CUT}停电，{POWER_OFF}暂停办理")

    job = one_whole_ticket(ticket_bytes(ticket, "text", lang=lang))
    lines = job.text_lines
    assert "不动产登记" in lines and "1. 身份证原件" in lines
    assert "今日下午V停电，暂停办理" in lines  # the notice is printed whole, after the QR code
    assert job.qr_data == ["hallq:ticket:2026-12-01:A023"]


def test_the_kiosk_cleans_what_the_hub_replied_before_it_prints() -> None:
    reply = {"ok": True, "ahead": 0, "windows": [f"3号{CUT}窗口"],
             "materials": [f"购房合同\n原件{PULSE}", "户口簿\u202e"],
             "ticket": {"number": f"A0{CUT}23", "service_name": f"不动产\t登记{POWER_OFF}",
                        "issued_at": "2026-12-01T09:12:00+08:00", "priority": "normal"}}
    ticket = ticket_print(reply, "hallq:ticket:2026-12-01:A023", f"城东区{CUT}政务服务中心",
                          f"请留意叫号\r\n过号请{CUT}重新取号")

    assert ticket.notice == "请留意叫号 过号请V重新取号"
    assert ticket.materials == ["购房合同 原件", "户口簿"]
    job = one_whole_ticket(ticket_bytes(ticket, "text"))
    assert {"城东区V政务服务中心", "不动产 登记", "A0V23", "办理窗口：3号V窗口",
            "1. 购房合同 原件", "请留意叫号 过号请V重新取号"} <= set(job.text_lines)
    one_whole_ticket(ticket_bytes(ticket, "raster"))  # drawn, the same text is only dots
