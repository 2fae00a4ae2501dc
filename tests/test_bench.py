"""The benchmark runs end to end in its short mode (figures are printed, never asserted)."""

import json
import subprocess
import sys

import pytest

from tests.hubproc import REPO

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

KEYS = ("issue_per_s", "call_p50_ms", "call_p99_ms", "rss_mb", "restart_s", "keypad_ms",
        "voice_cached_ms", "voice_uncached_ms", "kiosk_print_ms", "console_update_p50_ms",
        "console_update_p99_ms", "web_rss_mb", "cores")


def test_bench_quick_writes_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "-m", "hallq", "bench", "--quick", "--json", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    missing = [k for k in KEYS if figures.get(k) is None]
    assert not missing, missing
    assert figures["calls_seen"] == figures["calls_expected"]  # every display got every call
    assert "goal" in result.stdout and "issue_per_s" in result.stdout
