"""The kiosk's view: submit a ticket, get a result; the printer's trouble never blocks it."""

import queue
import threading

import pytest
from PIL import ImageChops

from drivers.printer.simulator import NetworkPrinterSimulator
from drivers.printer.status import PrinterStatus
from drivers.printer.ticket import TicketPrint, render_raster, ticket_bytes
from drivers.printer.worker import PrinterWorker

WAIT = 30  # seconds; only a bound for a broken build, never reached when things work


class StatusLog:
    """Collects on_status calls; lets a test wait for the one it expects."""

    def __init__(self) -> None:
        self.seen: queue.Queue[PrinterStatus] = queue.Queue()
        self.all: list[PrinterStatus] = []

    def __call__(self, status: PrinterStatus) -> None:
        self.all.append(status)
        self.seen.put(status)

    def wait_for(self, predicate) -> PrinterStatus:
        while True:
            status = self.seen.get(timeout=WAIT)
            if predicate(status):
                return status


def test_ticket_prints_on_a_network_printer(ticket: TicketPrint):
    with NetworkPrinterSimulator() as simulator, PrinterWorker(simulator.url) as worker:
        result = worker.submit(ticket).result(WAIT)
        assert result.ok and result.error is None
        assert result.bytes_written == len(ticket_bytes(ticket))
        [job] = simulator.wait_for_jobs(1)
        assert job.cut
        difference = ImageChops.difference(job.raster.convert("L"), render_raster(ticket).convert("L"))
        assert difference.getbbox() is None


def test_paper_out_fails_fast_writes_nothing_and_tells_staff(ticket: TicketPrint):
    log = StatusLog()
    with NetworkPrinterSimulator() as simulator:
        simulator.set_paper("out")
        with PrinterWorker(simulator.url, mode="text", on_status=log) as worker:
            result = worker.submit(ticket).result(WAIT)
        assert not result.ok
        assert result.error == "打印机缺纸，请凭屏幕号码等候"
        assert result.bytes_written == 0
        assert simulator.received_bytes == 0
        assert simulator.jobs == []
    assert log.wait_for(lambda s: s.paper == "out").online is False


def test_status_changes_are_reported_while_idle():
    log = StatusLog()
    with NetworkPrinterSimulator() as simulator, PrinterWorker(
        simulator.url, on_status=log, poll_interval=0.05
    ):
        log.wait_for(lambda s: s.paper == "ok")
        simulator.set_paper("low")
        log.wait_for(lambda s: s.paper == "low")
        simulator.set_paper("ok")
        log.wait_for(lambda s: s.paper == "ok")
    # only changes are reported, never the same status twice in a row
    assert all(a != b for a, b in zip(log.all, log.all[1:], strict=False))


def test_a_job_cut_short_fails_and_the_next_ticket_prints(ticket: TicketPrint, tmp_path):
    log = StatusLog()
    second = TicketPrint(**{**ticket.__dict__, "number": "A024"})
    url = f"image://{tmp_path}?fail_after=2000"
    with PrinterWorker(url, on_status=log) as worker:
        first_result = worker.submit(ticket)
        second_result = worker.submit(second)
        failed, printed = first_result.result(WAIT), second_result.result(WAIT)
    assert not failed.ok
    assert failed.error == "小票打印失败，请凭屏幕号码等候"
    assert printed.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "0001-A023.partial.bin", "0002-A024.bin", "0002-A024.png",
    ]
    assert (tmp_path / "0002-A024.bin").read_bytes() == ticket_bytes(second)
    assert [s.online for s in log.all] == [True, False, True]


def test_an_unreachable_printer_gives_the_citizen_a_clear_message(ticket: TicketPrint):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    log = StatusLog()
    with PrinterWorker(f"tcp://127.0.0.1:{port}", on_status=log) as worker:
        result = worker.submit(ticket).result(WAIT)
    assert result.error == "打印机暂不可用，请凭屏幕号码等候"
    assert log.wait_for(lambda s: not s.online).error


def test_close_stops_the_thread_and_later_tickets_are_refused(ticket: TicketPrint, tmp_path):
    worker = PrinterWorker(f"image://{tmp_path}", mode="text")
    name = f"printer image://{tmp_path}"
    assert any(t.name == name for t in threading.enumerate())
    worker.close()
    assert not any(t.name == name for t in threading.enumerate())
    result = worker.submit(ticket).result(0)
    assert result.error == "打印服务已停止，请凭屏幕号码等候"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"url": "lp://printer"}, "lp://printer"), ({"url": "tcp://h", "paper_mm": 76}, "76"),
     ({"url": "tcp://h", "mode": "pdf"}, "pdf"), ({"url": "tcp://h", "lang": "fr"}, "fr")],
)
def test_bad_settings_are_refused_at_once(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PrinterWorker(**kwargs)
