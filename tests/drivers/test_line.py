"""drivers.line: the thread that owns a device reports changes only, reopens after faults
and bugs alike, and stops when told, whatever the device does."""

from __future__ import annotations

import queue
import threading

import pytest

from drivers.line import LineFault, LineOwner, open_serial


class Scripted(LineOwner):
    """A device whose opens and serves do what the test queued: None (fine) or an exception."""

    def __init__(self, opens: list, serves: list) -> None:
        self.states: queue.Queue = queue.Queue()
        super().__init__("scripted", lambda up, detail: self.states.put((up, detail)), retry_s=0.01)
        self.opens, self.serves = list(opens), list(serves)
        self.closed = 0
        self.served = threading.Event()

    def open(self) -> None:
        outcome = self.opens.pop(0) if self.opens else None
        if outcome is not None:
            raise outcome

    def serve(self) -> None:
        outcome = self.serves.pop(0) if self.serves else None
        if outcome is not None:
            raise outcome
        if not self.serves:
            self.served.set()
        self.pause(0.01)

    def close(self) -> None:
        self.closed += 1


def states(line: Scripted) -> list[tuple[bool, str]]:
    out = []
    while not line.states.empty():
        out.append(line.states.get())
    return out


def test_a_line_reports_down_once_reopens_and_comes_back_up() -> None:
    line = Scripted(opens=[LineFault("cannot open /dev/ttyUSB9"), LineFault("cannot open /dev/ttyUSB9"),
                           None, None],
                    serves=[None, OSError("device unplugged"), None])
    line.start()
    assert line.served.wait(5)
    line.stop()
    assert states(line) == [(False, "cannot open /dev/ttyUSB9"), (True, ""),
                            (False, "device unplugged"), (True, "")]
    assert line.reopened == 2
    assert line.closed >= 4  # after each failure, and at the stop


def test_a_bug_in_the_device_code_does_not_end_the_line(caplog) -> None:
    line = Scripted(opens=[None, None], serves=[KeyError("oops"), None])
    line.start()
    assert line.served.wait(5)
    line.stop()
    assert states(line) == [(True, ""), (False, "unexpected error KeyError"), (True, "")]
    assert "unexpected error" in caplog.text


def test_stop_ends_a_line_that_never_opens() -> None:
    line = Scripted(opens=[LineFault("missing")] * 1000, serves=[])
    line.start()
    assert line.states.get(timeout=5) == (False, "missing")
    line.stop()
    assert not line._thread.is_alive()
    assert states(line) == []  # one report for a thousand failed opens


@pytest.mark.parametrize("port", ["/dev/hallq-no-such-port", "bogus://x", ""])
def test_a_port_that_cannot_open_is_a_line_fault_naming_it(port: str) -> None:
    with pytest.raises(LineFault, match="cannot open"):
        open_serial(port, 9600)
