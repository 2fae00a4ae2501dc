"""The network printer simulator answers like a printer and keeps what it printed."""

import socket

from PIL import Image

from drivers.printer.simulator import NetworkPrinterSimulator
from tests.drivers.printer.conftest import SampleJob

ASK_PAPER = b"\x10\x04\x04"


def ask(conn: socket.socket, request: bytes) -> bytes:
    conn.sendall(request)
    return conn.recv(1)


def test_status_bytes_follow_the_paper():
    with NetworkPrinterSimulator() as simulator, socket.create_connection(
        (simulator.host, simulator.port), timeout=30
    ) as conn:
        assert ask(conn, ASK_PAPER) == b"\x12"
        assert ask(conn, b"\x1dr\x01") == b"\x00"
        simulator.set_paper("low")
        assert ask(conn, ASK_PAPER) == b"\x1e"
        assert ask(conn, b"\x1dr\x01") == b"\x03"
        simulator.set_paper("out")
        # GS r is not answered while offline at paper end; DLE EOT still is.
        assert ask(conn, b"\x1dr\x01" + ASK_PAPER) == b"\x7e"
        assert ask(conn, b"\x10\x04\x01") == b"\x1a"
        assert simulator.status_requests == 7


def test_jobs_wait_for_paper_and_are_saved(sample: SampleJob, tmp_path):
    data = sample.text()
    with NetworkPrinterSimulator(out_dir=tmp_path) as simulator, socket.create_connection(
        (simulator.host, simulator.port), timeout=30
    ) as conn:
        simulator.set_paper("out")
        assert ask(conn, data + ASK_PAPER) == b"\x7e"  # answered after the job was taken in
        assert simulator.received_bytes == len(data)
        assert simulator.jobs == []
        simulator.set_paper("ok")
        [job] = simulator.jobs
    assert job.raw == data and job.qr_data == [sample.qr_data]
    assert (tmp_path / "0001-job.bin").read_bytes() == data
    assert Image.open(tmp_path / "0001-job.png").width == 576


def test_each_connection_is_its_own_stream(sample: SampleJob):
    data = sample.text()
    half = len(data) // 2
    with NetworkPrinterSimulator() as simulator, socket.create_connection(
        (simulator.host, simulator.port), timeout=30
    ) as first:
        first.sendall(data[:half])
        with socket.create_connection((simulator.host, simulator.port), timeout=30) as other:
            other.sendall(data)
            simulator.wait_for_jobs(1)
        first.sendall(data[half:])
        jobs = simulator.wait_for_jobs(2)
    assert [job.raw for job in jobs] == [data, data]


def test_a_dropped_connection_prints_what_came():
    with NetworkPrinterSimulator() as simulator:
        with socket.create_connection((simulator.host, simulator.port), timeout=30) as conn:
            conn.sendall(b"\x1b@\x1c&" + "半张小票".encode("gb18030") + b"\n")
        [job] = simulator.wait_for_jobs(1)
    assert job.text_lines == ["半张小票"]
    assert not job.cut


def test_closing_twice_is_harmless():
    simulator = NetworkPrinterSimulator()
    simulator.close()
    simulator.close()
    with socket.socket() as probe:
        assert probe.connect_ex((simulator.host, simulator.port)) != 0  # no longer listening
