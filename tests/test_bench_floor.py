"""The floor under the hub's CPU per call runs end to end, in a short mode: every figure
is there and positive, and every display got every frame (it raises otherwise)."""

import json
import subprocess
import sys

import pytest

from tests.hubproc import REPO

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_floor_prints_the_commit_and_the_write_costs():
    run = subprocess.run([sys.executable, "-m", "hallq.benches.floor", "--rounds", "100"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.splitlines()[-1])
    # the process figures are read in clock ticks (10 ms): one display's may round to 0
    for key in ("floor_commit_bare_ms", "floor_commit_call_ms", "floor_write_ms_50",
                "floor_broadcast_ms_50"):
        assert figures[key] > 0, key
    assert figures["floor_write_ms_1"] >= 0 and figures["floor_broadcast_ms_1"] >= 0
    assert figures["floor_commit_call_ms"] > figures["floor_commit_bare_ms"] / 2
    assert figures["frame_bytes"] > 300
