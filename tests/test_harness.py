"""The process harness every test, bench and the demo start programs with: it waits for the
ready line, keeps what is not a JSON line in the log, and says why when a program ends first."""

import sys

import pytest

from hallq.harness.process import HarnessError, ProcessHarness

TALKER = """
import json, sys
print("starting up", flush=True)
print(json.dumps({"port": 1234}), flush=True)
for line in sys.stdin:
    print(json.dumps({"echo": line.strip()}), flush=True)
print("bye", file=sys.stderr, flush=True)
"""


def test_ready_line_json_lines_input_and_log(tmp_path):
    log = tmp_path / "talker.log"
    talker = ProcessHarness([sys.executable, "-c", TALKER], log, follow=True, stdin=True)
    with talker.start(ready=lambda line: "port" in line, timeout=20):
        assert talker.ready_line == {"port": 1234}
        assert talker.write("hello")
        assert talker.next_line(20) == {"echo": "hello"}
        talker.close_input()
        assert talker.next_line(20) is None  # its output ended
        assert talker.wait(20) == 0
    assert log.read_text().splitlines() == ["starting up", "bye"]
    assert not talker.write("too late")


def test_a_program_that_ends_before_it_is_ready_is_reported_with_its_log(tmp_path):
    crasher = ProcessHarness([sys.executable, "-c", "raise SystemExit('no config here')"],
                             tmp_path / "crasher.log", follow=True)
    with pytest.raises(HarnessError, match="ended before its ready line: no config here"):
        crasher.start(ready=lambda line: "port" in line, timeout=20)
    assert crasher.wait(10) == 1


def test_a_silent_program_times_out_and_is_stopped(tmp_path):
    sleeper = ProcessHarness([sys.executable, "-c", "import time; time.sleep(60)"],
                             tmp_path / "sleeper.log", follow=True)
    with pytest.raises(HarnessError, match=r"its ready line did not come within 0\.5 s"):
        sleeper.start(ready=lambda line: True, timeout=0.5)
    assert sleeper.stop() == -15  # SIGTERM was enough
    assert not sleeper.running
