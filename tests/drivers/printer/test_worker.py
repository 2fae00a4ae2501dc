"""The caller's view: submit a job, get a result; the printer's trouble never blocks it."""

import queue
import threading

import pytest
from PIL import ImageChops

from drivers.printer.simulator import NetworkPrinterSimulator
from drivers.printer.status import PrinterStatus
from drivers.printer.worker import PrinterWorker
from tests.drivers.printer.conftest import SampleJob

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


def test_a_raster_job_prints_on_a_network_printer(sample: SampleJob):
    with NetworkPrinterSimulator() as simulator, PrinterWorker(simulator.url) as worker:
        result = worker.submit(sample.raster, job=sample.number).result(WAIT)
        assert result.ok and result.error is None
        assert result.bytes_written == len(sample.raster())
        [job] = simulator.wait_for_jobs(1)
        assert job.cut
        difference = ImageChops.difference(job.raster.convert("L"), sample.picture().convert("L"))
        assert difference.getbbox() is None


def test_paper_out_fails_fast_writes_nothing_and_tells_staff(sample: SampleJob):
    log = StatusLog()
    with NetworkPrinterSimulator() as simulator:
        simulator.set_paper("out")
        with PrinterWorker(simulator.url, on_status=log) as worker:
            result = worker.submit(sample.text).result(WAIT)
        assert not result.ok
        assert result.error == "paper_out"
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


def test_a_job_cut_short_fails_and_the_next_job_prints(sample: SampleJob, tmp_path):
    log = StatusLog()
    url = f"image://{tmp_path}?fail_after=2000"
    with PrinterWorker(url, on_status=log) as worker:
        first_result = worker.submit(sample.raster, job="A023")
        second_result = worker.submit(lambda: sample.text(number="A024"), job="A024")
        failed, printed = first_result.result(WAIT), second_result.result(WAIT)
    assert not failed.ok
    assert failed.error == "print_failed"
    assert printed.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "0001-A023.partial.bin", "0002-A024.bin", "0002-A024.png",
    ]
    assert (tmp_path / "0002-A024.bin").read_bytes() == sample.text(number="A024")
    assert [s.online for s in log.all] == [True, False, True]


def test_an_unreachable_printer_fails_the_job_as_unavailable(sample: SampleJob):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    log = StatusLog()
    with PrinterWorker(f"tcp://127.0.0.1:{port}", on_status=log) as worker:
        result = worker.submit(sample.raster).result(WAIT)
    assert result.error == "printer_unavailable"
    assert log.wait_for(lambda s: not s.online).error


def test_close_stops_the_thread_and_later_jobs_are_refused(sample: SampleJob, tmp_path):
    worker = PrinterWorker(f"image://{tmp_path}")
    name = f"printer image://{tmp_path}"
    assert any(t.name == name for t in threading.enumerate())
    worker.close()
    assert not any(t.name == name for t in threading.enumerate())
    result = worker.submit(sample.text).result(0)
    assert result.error == "worker_closed"
    assert list(tmp_path.iterdir()) == []


def test_a_bad_url_is_refused_at_once():
    with pytest.raises(ValueError, match="lp://printer"):
        PrinterWorker("lp://printer")


def test_a_job_that_cannot_be_made_fails_and_the_worker_goes_on(sample: SampleJob, tmp_path):
    def broken() -> bytes:
        raise ValueError("no font")

    with PrinterWorker(f"image://{tmp_path}") as worker:
        failed = worker.submit(broken, job="A023").result(WAIT)
        printed = worker.submit(sample.text, job="A024").result(WAIT)
    assert (failed.ok, failed.error) == (False, "print_failed")
    assert printed.ok
    assert sorted(p.name for p in tmp_path.glob("*.bin")) == ["0001-A024.bin"]
