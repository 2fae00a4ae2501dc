"""Scanner codes (drivers.scanner.codes) and the serial scanner line on a real pty."""

from __future__ import annotations

import os
import queue
import tty

from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scanner.codes import MAX_CODE, KeyBurst, LineSplitter, Scan
from drivers.scanner.serial_line import ScannerLine


def test_cr_lf_and_crlf_all_end_a_code() -> None:
    lines = LineSplitter()
    assert lines.feed(b"YY-20261201-0001\rA001\nHQ:T:12\r\n") == [
        Scan("YY-20261201-0001"), Scan("A001"), Scan("HQ:T:12")]


def test_a_code_cut_into_chunks_comes_out_whole() -> None:
    lines = LineSplitter()
    assert lines.feed(b"YY-2026") == []
    assert lines.feed(b"1201-0001\r") == [Scan("YY-20261201-0001")]


def test_binary_junk_is_a_junk_scan() -> None:
    assert LineSplitter().feed(b"\x00\xff\xfe\x01\r") == [Scan(error="junk")]
    assert LineSplitter().feed(b"ab\x1bcd\n") == [Scan(error="junk")]


def test_a_10_kb_line_is_too_long_and_the_next_code_still_scans() -> None:
    lines = LineSplitter()
    out = lines.feed(b"7" * 5000)
    out += lines.feed(b"7" * 5240 + b"\rA002\r")
    assert out == [Scan(error="too_long"), Scan("A002")]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_bounded_scans(noise: bytes) -> None:
    lines = LineSplitter()
    for scan in lines.feed(noise):
        assert scan.ok != bool(scan.error)
        assert len(scan.code) <= MAX_CODE
    assert lines.feed(b"\rOK1\r")[-1] == Scan("OK1")


def test_a_fast_burst_ending_in_enter_is_a_scan() -> None:
    burst = KeyBurst()
    assert [burst.key(c, i * 0.01) for i, c in enumerate("A001")] == [None] * 4
    assert burst.key("\r", 0.05) == Scan("A001")


def test_a_person_typing_is_not_a_scan() -> None:
    burst = KeyBurst()
    assert [burst.key(c, i * 0.3) for i, c in enumerate("A001\r")] == [None] * 5
    assert burst.key("1", 2.0) is None and burst.key("\r", 2.01) is None  # too short


def test_the_serial_line_reads_codes_and_survives_junk() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    scans: queue.Queue = queue.Queue()
    states: queue.Queue = queue.Queue()
    line = ScannerLine(os.ttyname(slave), on_scan=scans.put, on_state=lambda up, d: states.put(up))
    line.start()
    try:
        assert states.get(timeout=5) is True  # opening the port flushes its input
        os.write(master, b"\x00\xff\x80\r")
        assert scans.get(timeout=5) == Scan(error="junk")
        for _ in range(10):
            os.write(master, b"9" * 1024)
        os.write(master, b"\r")
        assert scans.get(timeout=5) == Scan(error="too_long")
        os.write(master, b"YY-20261201-0007\r\n")
        assert scans.get(timeout=5) == Scan("YY-20261201-0007")
    finally:
        line.stop()
        os.close(master)
        os.close(slave)
