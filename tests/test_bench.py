"""The benchmark runs end to end in its short mode (figures are printed, never asserted).

`hallq bench --quick` takes about two and a half minutes on the project's 2-core machine:
the hub figures (slow client, replay, reconnect storm) and the CPU workloads, each run
once plainly and once under cProfile, add about 80 s to the device figures."""

import json
import pstats
import subprocess
import sys

import pytest

from tests.hubproc import REPO

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

KEYS = ("issue_per_s", "call_p50_ms", "call_p99_ms", "rss_mb", "restart_s", "keypad_ms",
        "voice_cached_ms", "voice_uncached_ms", "kiosk_print_ms", "console_update_p50_ms",
        "console_update_p99_ms", "web_rss_mb", "swipe_to_print_ms", "cores",
        "slow_client_rss_growth_mb", "replay_baseline_call_p99_ms", "replay_others_call_p99_ms",
        "replay_hello_welcome_ms", "reconnect_storm_s", "cpu_ms_per_ticket", "cpu_ms_per_call",
        "cpu_ms_per_ticket_loop", "cpu_ms_per_call_loop",
        "cpu_ms_per_hello", "cpu_ms_per_idle_conn_min", "defaults_batch_ms", "record_xlsx_s",
        "ship_events_per_s", "ship_events_per_s_10", "catchup_week_s",
        "ship_down_baseline_call_p99_ms", "ship_down_call_p99_ms", "county_halls",
        "central_report_s", "central_events", "status_page_p99_ms", "status_pages_rss_mb",
        "wait_estimate_mae_min", "wait_estimate_p90_err_min")
WORKLOADS = ("ticket", "call", "hello", "idle")


def test_bench_quick_writes_every_figure_and_profile(tmp_path):
    out = tmp_path / "bench.json"
    profiles = tmp_path / "profiles"
    result = subprocess.run([sys.executable, "-m", "hallq", "bench", "--quick", "--json", str(out),
                             "--out", str(profiles)],
                            cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    missing = [k for k in KEYS if figures.get(k) is None]
    assert not missing, missing
    assert figures["calls_seen"] == figures["calls_expected"]  # every display got every call
    assert figures["reconnect_devices"] == 50
    assert "goal" in result.stdout
    assert all(key in result.stdout for key in KEYS)
    for name in WORKLOADS:
        # the profiled hub exited cleanly, so its profile is whole and loads
        stats = pstats.Stats(str(profiles / f"profile-{name}.prof"))
        assert any("hub" in filename for filename, _, _ in stats.stats), name
        summary = (profiles / f"profile-{name}.txt").read_text()
        assert "Ordered by: cumulative time" in summary, name


def _refused(*args: str) -> str:
    """Run the bench with bad paths: it stops at once with exit code 2; its complaint."""
    result = subprocess.run([sys.executable, "-m", "hallq", "bench", "--quick", *args],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "figure" not in result.stdout  # nothing was measured
    return result.stderr


def test_bench_refuses_an_out_that_is_a_file(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("x")
    assert f"--out {taken}：已存在且不是文件夹" in _refused("--out", str(taken))
    assert taken.read_text() == "x"


def test_bench_refuses_a_json_it_could_not_write(tmp_path):
    missing = tmp_path / "no-such-folder" / "b.json"
    assert "不存在" in _refused("--json", str(missing), "--out", str(tmp_path / "o"))
    assert "是文件夹" in _refused("--json", str(tmp_path), "--out", str(tmp_path / "o"))
