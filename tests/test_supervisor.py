"""The demo's supervisor: a crashed program is restarted and reported; a program that is
asked to finish is not."""

import sys
import time

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
