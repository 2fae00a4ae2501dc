"""The SAM serial backend and the reader line against the simulator on a real pty."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
from collections.abc import Iterator

import pytest

from drivers.idcard import sam
from drivers.idcard.identities import RESIDENTS
from drivers.idcard.reader import CardReadFailed, ReaderFault, ReaderLine, SamSerialBackend
from drivers.idcard.simulator import IdCardSimulator


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    with IdCardSimulator() as simulator:
        yield simulator


@pytest.fixture
def backend(sim: IdCardSimulator) -> Iterator[SamSerialBackend]:
    reader = SamSerialBackend(sim.port)
    reader.open()
    yield reader
    reader.close()


def test_a_presented_card_is_read_with_find_select_read(sim, backend) -> None:
    assert backend.poll() is None
    sim.present(RESIDENTS["wang"])
    assert backend.poll() == RESIDENTS["wang"]
    sent = [(c.cmd, c.para) for c in sim.commands]
    assert sent == [sam.STATUS, sam.FIND_CARD, sam.FIND_CARD, sam.SELECT_CARD, sam.READ_BASE]


def test_a_damaged_answer_is_a_failed_read_and_the_next_read_works(sim, backend) -> None:
    sim.present(RESIDENTS["li"])
    sim.set_mode("damaged")
    with pytest.raises(CardReadFailed) as failed:
        backend.poll()
    assert failed.value.reason == "damaged"
    assert backend.poll() == RESIDENTS["li"]


def test_a_card_pulled_out_mid_read(sim, backend) -> None:
    sim.present(RESIDENTS["li"])
    sim.set_mode("pull")
    with pytest.raises(CardReadFailed) as failed:
        backend.poll()
    assert failed.value.reason == "removed"
    assert backend.poll() is None


@pytest.mark.parametrize("mode", ["garbage", "silent"])
def test_a_reader_answering_garbage_or_nothing_is_a_fault(sim, backend, mode: str) -> None:
    sim.present(RESIDENTS["li"])
    sim.set_mode(mode)
    with pytest.raises(ReaderFault):
        backend.poll()


def test_an_expired_card_is_read_as_such(sim, backend) -> None:
    sim.present(RESIDENTS["chen"])
    card = backend.poll()
    assert card is not None and card.expired(card.valid_until.replace(year=2026))


def test_the_line_reports_each_presentation_once_and_survives_an_unplug(sim) -> None:
    events: queue.Queue = queue.Queue()
    line = ReaderLine(SamSerialBackend(sim.port), poll_interval=0.02,
                      on_card=lambda card: events.put(("card", card)),
                      on_failure=lambda reason: events.put(("failed", reason)),
                      on_state=lambda up, detail: events.put(("up", up)))
    line.start()
    try:
        assert events.get(timeout=5) == ("up", True)
        sim.present(RESIDENTS["zhao"])
        assert events.get(timeout=5) == ("card", RESIDENTS["zhao"])
        with pytest.raises(queue.Empty):  # a card left on the reader is one swipe
            events.get(timeout=0.3)
        sim.set_mode("pull")  # taken away while being read again: no failed swipe
        with pytest.raises(queue.Empty):
            events.get(timeout=0.3)
        assert sim.card is None
        sim.remove()
        sim.set_mode("pull")
        sim.present(RESIDENTS["zhang"])
        assert events.get(timeout=5) == ("failed", "removed")
        sim.present(RESIDENTS["zhang"])
        assert events.get(timeout=5) == ("card", RESIDENTS["zhang"])
        sim.set_mode("silent")
        assert events.get(timeout=5) == ("up", False)
        sim.set_mode("normal")
        assert events.get(timeout=5) == ("up", True)
    finally:
        line.stop()


def test_the_line_reopens_a_port_that_comes_back(tmp_path) -> None:
    link = tmp_path / "reader"
    events: queue.Queue = queue.Queue()
    with IdCardSimulator(link) as sim:
        line = ReaderLine(SamSerialBackend(str(link)), poll_interval=0.02,
                          on_card=lambda card: events.put(("card", card)),
                          on_failure=lambda reason: events.put(("failed", reason)),
                          on_state=lambda up, detail: events.put(("up", up)))
        line.start()
        try:
            assert events.get(timeout=5) == ("up", True)
            sim.unplug()
            assert events.get(timeout=5) == ("up", False)
            sim.replug()
            assert events.get(timeout=5) == ("up", True)
            sim.present(RESIDENTS["wang"])
            assert events.get(timeout=5) == ("card", RESIDENTS["wang"])
        finally:
            line.stop()


def test_hallq_sim_idcard_runs_a_script(tmp_path) -> None:
    script = tmp_path / "s.txt"
    script.write_text("present wang\nremove\ndamaged\nnormal\nquit\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "hallq", "sim", "idcard", "--script", str(script)],
                            capture_output=True, text=True, timeout=60, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert "ID-card reader simulator on /dev/pts/" in result.stdout
    script.write_text("present nobody\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "hallq", "sim", "idcard", "--script", str(script)],
                            capture_output=True, text=True, timeout=60, env=os.environ)
    assert result.returncode == 2 and "s.txt:1: usage: present NAME" in result.stderr
