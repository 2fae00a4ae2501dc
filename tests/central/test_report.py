"""`hallq report --central`: three halls' stores in a real PostgreSQL; the central report
is the sum of the hall reports, each hall's row is its own report, and the files open."""

from __future__ import annotations

import csv
import json
import os

import pytest
from openpyxl import load_workbook

from caller.central import report as central
from caller.central.access import connect_readonly
from caller.manager.stats import compute_report, figures, load_tickets, open_readonly
from hallq.cli import main
from tests.caller.manager.test_stats import MON, TUE
from tests.central.halls import OTHER_CITY, THREE_HALLS, make_store, ship_copy

COUNTS = ("issued", "served", "passed", "cancelled", "waiting", "transferred", "held", "rated",
          "very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied",
          "bad_ratings", "defaulted")


@pytest.fixture
def city(central_dsn, tmp_path):
    """The three halls of region 3301 and one of another city, shipped; each hall's own
    report of Monday–Tuesday and its tickets."""
    own = {}
    for hall_id, name, region, kind in (*THREE_HALLS, OTHER_CITY):
        db = tmp_path / f"{hall_id}.db"
        make_store(db, kind)
        ship_copy(central_dsn, hall_id, name, region, db)
        conn = open_readonly(db)
        own[hall_id] = (compute_report(conn, MON, TUE), load_tickets(conn, MON, TUE))
        conn.close()
    return central_dsn, own


def region_report(dsn: str, region: str | None = "3301", halls=()):
    with connect_readonly(dsn) as conn:
        chosen = central.select_halls(conn, halls, region)
        return central.compute_central_report(conn, chosen, MON, TUE, region=region)


def test_the_central_report_is_the_sum_of_the_hall_reports(city):
    dsn, own = city
    result = region_report(dsn)
    mine = [hall_id for hall_id, *_ in THREE_HALLS]
    for key in COUNTS:
        assert result.summary[key] == sum(own[h][0].summary[key] for h in mine), key
    # averages, medians and percentiles over all the tickets, as the hall's functions give them
    assert result.summary == figures([t for h in mine for t in own[h][1]], True)
    assert result.summary["issued"] > 80 and result.summary["bad_ratings"] > 0


def test_each_halls_row_is_its_own_reports_summary(city):
    dsn, own = city
    rows = {row["key"]: row for row in region_report(dsn).groups["hall"]}
    assert set(rows) == {"qingshan", "baiyun", "xiling"}  # 330203 is another city
    for hall_id, row in rows.items():
        mine = own[hall_id][0].summary
        assert {k: row[k] for k in mine} == mine, hall_id
    assert rows["qingshan"]["callback_rate"] == 0.0  # its bad rating's case, not called back


def test_windows_and_staff_are_told_apart_by_hall_services_are_the_citys(city):
    dsn, own = city
    result = region_report(dsn)
    windows = {row["key"]: row for row in result.groups["window"]}
    assert windows["qingshan/1"]["name"] == "青山镇便民服务中心 1"
    assert windows["qingshan/1"]["served"] == next(
        r for r in own["qingshan"][0].groups["window"] if r["key"] == "1")["served"]
    assert "baiyun/1" in windows and "xiling/1" in windows
    services = {row["key"]: row["name"] for row in result.groups["service"]}
    assert services["a"] == "甲业务"  # read from the hall's shipped events
    assert services["civil"] == "civil"  # no event names it: its id
    days = [row["key"] for row in result.groups["day"]]
    assert days == ["2026-11-23", "2026-11-24"]


def test_a_single_hall_and_a_whole_region(city):
    dsn, own = city
    one = region_report(dsn, None, ["baiyun"])
    assert one.hall == "白云街道便民服务中心" and one.summary == own["baiyun"][0].summary
    county = region_report(dsn, "330106")
    assert {r["key"] for r in county.groups["hall"]} == {"qingshan", "baiyun"}
    everything = region_report(dsn, None)
    assert len(everything.groups["hall"]) == 4


def test_the_halls_are_ranked_with_the_window_scoring(city):
    dsn, _ = city
    result = region_report(dsn)
    ranking = result.ranking
    assert [r["rank"] for r in ranking] == [1, 2, 3]
    assert {r["hall"] for r in ranking} == {"qingshan", "baiyun", "xiling"}
    assert ranking[0]["score"] >= ranking[1]["score"] >= ranking[2]["score"]
    busiest = max(ranking, key=lambda r: r["served"])
    assert busiest["volume_points"] == result.weights.volume
    for r in ranking:
        parts = (r["satisfaction_points"] + r["volume_points"] + r["wait_points"]
                 + r["rating_rate_points"])
        assert r["score"] == pytest.approx(parts, abs=0.15)
        assert r["level"] == "town"


def dsn_file(tmp_path, dsn: str, mode: int = 0o600):
    path = tmp_path / "central.dsn"
    path.write_text(dsn + "\n", encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_the_command_writes_the_workbook_json_and_the_regions_haocha_file(city, tmp_path, capsys):
    dsn, own = city
    common = ["report", "--central", str(dsn_file(tmp_path, dsn)), "--region", "3301",
              "--from", "2026-11-23", "--to", "2026-11-24"]
    assert main([*common, "--out", str(tmp_path / "city.xlsx"),
                 "--export-haocha", str(tmp_path / "hc.csv")]) == 0
    assert main([*common, "--out", str(tmp_path / "city.json")]) == 0
    data = json.loads((tmp_path / "city.json").read_text(encoding="utf-8"))
    assert data["hall"] == "3301 辖区 3 个大厅"
    assert [r["key"] for r in data["groups"]["hall"]] == ["qingshan", "baiyun", "xiling"]
    assert data["ranking"][0]["rank"] == 1

    wb = load_workbook(tmp_path / "city.xlsx")
    assert wb.sheetnames[:2] == ["汇总", "按大厅"]
    halls = [row[0] for row in wb["按大厅"].iter_rows(min_row=2, values_only=True)]
    assert halls == ["青山镇便民服务中心", "白云街道便民服务中心", "西岭县政务服务中心"]
    assert wb["流动红旗"]["A1"].value == "流动红旗 大厅评比（满分 100 分）"
    assert wb["流动红旗"]["B4"].value == "大厅"

    with (tmp_path / "hc.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    rated = sum(own[h][0].summary["rated"] for h, *_ in THREE_HALLS)
    assert len(rows) == rated
    codes = {r["行政区划代码"] for r in rows}
    assert codes == {"330106001000", "330106002000", "330127"}
    visits = [(r["排队号"], r["评价时间"]) for r in rows]
    assert len(set(visits)) == len(visits)  # two halls' A001 stay two records
    assert "qingshan-A001" in {number for number, _ in visits}
    assert {r["办件编号"] for r in rows} == {""}  # the centre never makes one up
    assert rows == sorted(rows, key=lambda r: r["评价时间"])


@pytest.mark.parametrize(("args", "message"), [
    (["--region", "33a"], "expected the leading digits"),
    (["--hall", "../x"], "expected a hall id"),
])
def test_bad_options_are_refused(city, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit):
        main(["report", "--central", city[0], "--from", "2026-11-23", *args])
    assert message in capsys.readouterr().err


def test_mistakes_stop_with_a_reason_and_write_nothing(city, tmp_path, capsys):
    dsn, _ = city
    out = tmp_path / "x.json"

    def refused(*args: str) -> str:
        assert main(["report", "--from", "2026-11-23", "--out", str(out), *args]) == 2
        assert not out.exists()
        return capsys.readouterr().err

    assert "no hall nowhere" in refused("--central", dsn, "--hall", "nowhere")
    assert "no hall in region 4401" in refused("--central", dsn, "--region", "4401")
    assert "need --central" in refused("--hall", "baiyun")
    loose = dsn_file(tmp_path, dsn, 0o644)
    assert "readable by others (mode 0644)" in refused("--central", str(loose))
    assert "no such file" in refused("--central", str(tmp_path / "missing.dsn"))
    assert "cannot connect to the central database" in refused(
        "--central", f"host={tmp_path / 'nowhere'} dbname=central user=hallq")
    assert "before --from" in refused("--central", dsn, "--to", "2026-11-01")


def test_the_report_session_cannot_write(city):
    import psycopg

    with connect_readonly(city[0]) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("DELETE FROM tickets")
