"""A month of a busy hall (tens of thousands of tickets) reported in seconds."""

from __future__ import annotations

import json
import time

import pytest
from openpyxl import load_workbook

from hallq.cli import main
from tests.caller.manager.test_stats_data import month_of_tickets
from tests.hubproc import DEMO_CONFIG

pytestmark = pytest.mark.slow


def test_a_month_of_tickets(tmp_path, capsys):
    started = time.perf_counter()
    truth = month_of_tickets(tmp_path / "hall.db", "2026-11-01", days=30, per_day=1500)
    generated = time.perf_counter() - started
    assert truth["issued"] == 21 * 1500  # November 2026 has 21 weekdays

    common = ["report", "--config", str(DEMO_CONFIG), "--db", str(tmp_path / "hall.db"),
              "--from", "2026-11-01", "--to", "2026-11-30"]
    started = time.perf_counter()
    assert main([*common, "--out", str(tmp_path / "m.json"), "--quiet"]) == 0
    as_json = time.perf_counter() - started
    started = time.perf_counter()
    assert main([*common, "--out", str(tmp_path / "m.xlsx"), "--charts", str(tmp_path / "charts"),
                 "--export-haocha", str(tmp_path / "hc.csv")]) == 0
    everything = time.perf_counter() - started
    err = capsys.readouterr().err
    assert "30/30 天 100%" in err
    with capsys.disabled():
        print(f"\n  {truth['issued']} tickets: generated in {generated:.1f} s, JSON report in "
              f"{as_json:.1f} s, xlsx + 3 charts + 好差评 export in {everything:.1f} s")

    summary = json.loads((tmp_path / "m.json").read_text())["summary"]
    assert (summary["issued"], summary["served"], summary["passed"]) == (
        truth["issued"], truth["served"], truth["passed"])
    assert (summary["rated"], summary["bad_ratings"]) == (truth["rated"], truth["bad"])
    assert summary["rating_rate"] == pytest.approx(truth["rated"] / truth["served"], abs=1e-4)
    assert 30 <= summary["wait_avg_s"] <= 3600 and 60 <= summary["service_avg_s"] <= 1800

    wb = load_workbook(tmp_path / "m.xlsx", read_only=True)
    assert len(list(wb["按日期"].iter_rows(min_row=2))) == 30
    wb.close()
    rated_lines = (tmp_path / "hc.csv").read_text(encoding="utf-8-sig").count("\n") - 1
    assert rated_lines == truth["rated"]
    assert {p.name for p in (tmp_path / "charts").iterdir()} == {
        "wait_by_hour.png", "volume_by_service.png", "satisfaction_by_window.png"}
