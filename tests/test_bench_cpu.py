"""The hub's CPU figures' tools, each in a short mode: a workload's profile holds the
workload and not the hub's start-up; the floor under the CPU per call prints every figure
and every display got every frame (it raises otherwise)."""

import json
import pstats
import subprocess
import sys

import pytest

from hallq.benches import cpu
from hallq.benches.hall import generated_hall
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


def test_a_profile_records_the_workload_only(tmp_path):
    config = tmp_path / "hall.toml"
    config.write_text(generated_hall(), encoding="utf-8")
    figures = cpu.measure(tmp_path, config, tmp_path, quick=True, only=["hello"])
    assert figures["cpu_ms_per_hello"] > 0
    stats = pstats.Stats(str(tmp_path / "profile-hello.prof")).stats
    functions = {name for _, _, name in stats}
    assert "_welcome" in functions  # the hellos are in it
    assert not any("importlib" in filename for filename, _, _ in stats)  # the start-up is not
    assert "Ordered by: cumulative time" in (tmp_path / "profile-hello.txt").read_text()
