"""The demo's supervisor: a crashed program is restarted and reported; a program that is
asked to finish is not."""

import sys
import time
from pathlib import Path

from hallq.supervisor import Program, Supervisor


def test_a_crash_is_restarted_and_reported_but_a_retirement_is_not(tmp_path):
    reports: list[str] = []
    sup = Supervisor(tmp_path / "logs", max_restarts=2, on_report=reports.append)
    try:
        crasher = sup.start(Program("crasher", [sys.executable, "-c", "raise SystemExit(3)"]))
        reader = sup.start(Program("reader", [sys.executable, "-c", "import sys; sys.stdin.read()"],
                                   stdin=True))
        deadline = time.monotonic() + 20
        while not crasher.finished and time.monotonic() < deadline:
            time.sleep(0.05)
        assert crasher.restarts == 2 and crasher.exit_codes == [3, 3, 3]
        assert any("restarting (1/2)" in r for r in reports)
        assert any("gave up after 2 restarts" in r for r in reports)
        assert sup.retire("reader", timeout=10) == 0
        time.sleep(0.5)  # the watcher had its chance to (wrongly) restart it
        assert reader.restarts == 0
        assert not any("reader" in r for r in reports)
    finally:
        sup.stop()


STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print("helper", helper.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_stop_kills_a_program_that_ignores_sigterm_and_what_it_started(tmp_path):
    reports: list[str] = []
    sup = Supervisor(tmp_path / "logs", on_report=reports.append)
    try:
        stubborn = sup.start(Program("stubborn", [sys.executable, "-c", STUBBORN]))
        log = tmp_path / "logs" / "stubborn.log"
        deadline = time.monotonic() + 20
        while "helper" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "the program did not start its helper"
            time.sleep(0.05)
        helper = int(log.read_text().split()[1])
        assert _alive(helper)
    finally:
        sup.stop(timeout=1)
    assert not stubborn.harness.running
    assert reports == ["[stubborn] did not stop; killing it"]
    deadline = time.monotonic() + 5
    while _alive(helper) and time.monotonic() < deadline:  # SIGKILLed with its group
        time.sleep(0.05)
    assert not _alive(helper)
