"""`hallq report`: the files a manager gets, opened back and checked."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageStat

from caller.manager import record, report
from caller.manager.stats import compute_report, open_readonly
from drivers.fonts import find_cjk_font
from hallq.cli import main
from tests.caller.manager.test_stats import MON, TUE
from tests.caller.manager.test_stats_data import MONDAY, TUESDAY, two_day_hall

# The test hall of tests/caller/halls.py as a config file, for the command line.
HALL_TOML = """
[hall]
name = "测试大厅"
[[services]]
id = "a"
name = "甲业务"
prefix = "A"
[[services]]
id = "b"
name = "乙业务"
prefix = "B"
[[services]]
id = "c"
name = "丙业务"
prefix = "C"
[[windows]]
id = "1"
name = "1号窗口"
services = { a = 2, b = 1 }
[[windows]]
id = "2"
name = "2号窗口"
services = { a = 1, b = 2, c = 0 }
[[windows]]
id = "3"
name = "3号窗口"
services = { c = 1 }
[[devices]]
id = "eval"
role = "evaluator"
token = "t"
windows = ["1", "2", "3"]
"""


@pytest.fixture
def hall(tmp_path):
    d = two_day_hall(tmp_path / "hall.db")
    d.store.close()
    (tmp_path / "hall.toml").write_text(HALL_TOML, encoding="utf-8")
    return tmp_path, d.config


@pytest.fixture
def two_days(hall):
    tmp, cfg = hall
    conn = open_readonly(tmp / "hall.db")
    rep = compute_report(conn, MON, TUE, config=cfg)
    conn.close()
    return rep


def hallq_report(tmp, *args: str) -> int:
    return main(["report", "--config", str(tmp / "hall.toml"), "--db", str(tmp / "hall.db"), *args])


def sheet_rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_the_workbook_has_a_summary_a_sheet_per_grouping_the_ranking_and_charts(two_days, tmp_path):
    rep = two_days
    report.write_xlsx(rep, tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["汇总", "按窗口", "按人员", "按业务", "按时段", "按日期", "按月份",
                             "流动红旗"]
    assert all(len(ws._charts) == 1 for ws in wb), "every sheet carries a native chart"
    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 8

    summary = {r[0]: r[1] for r in sheet_rows(wb["汇总"]) if r[0]}
    assert summary["指标"] == "数值"
    assert (summary["取号量"], summary["办结量"], summary["过号"], summary["评价数"]) == (7, 5, 1, 4)
    assert (summary["评价率"], summary["满意率"], summary["差评数"]) == (0.8, 0.75, 1)
    assert summary["平均等候（分钟）"] == 3.3 and summary["高峰时段"] == "09:00-10:00"
    assert wb["汇总"]["A1"].value == "测试大厅 业务统计报表"

    windows = sheet_rows(wb["按窗口"])
    head = windows[0]
    assert head[:4] == ["窗口", "取号量", "办结量", "过号"]
    assert "转出" in head and "满意率" in head and "平均等候（分钟）" in head
    one = dict(zip(head, windows[1], strict=True))
    assert (one["窗口"], one["取号量"], one["转移"], one["满意率"]) == ("1号窗口", 3, 1, 1.0)
    assert windows[-1][0] == "未叫号"
    rate_col = head.index("满意率") + 1
    assert wb["按窗口"].cell(row=2, column=rate_col).number_format == "0.0%"

    days = sheet_rows(wb["按日期"])
    assert [r[0] for r in days[1:]] == [f"{MONDAY} 周一", f"{TUESDAY} 周二"]
    assert "高峰时段" not in sheet_rows(wb["按时段"])[0]

    flag = sheet_rows(wb["流动红旗"])
    assert flag[3][:3] == ["名次", "窗口", "总分"] and flag[3][-1] == "备注"
    assert flag[4][:3] == [1, "1号窗口", 96.7] and flag[4][-1] == "流动红旗"
    assert "满意率 40 分 + 办件量 30 分 + 等候时间 20 分 + 评价率 10 分" in flag[1][0]


def test_a_workbook_with_chosen_groupings(two_days, tmp_path):
    rep = two_days
    report.write_xlsx(rep, tmp_path / "r.xlsx", ["service", "hour"])
    assert load_workbook(tmp_path / "r.xlsx").sheetnames == ["汇总", "按业务", "按时段", "流动红旗"]


def test_csv_is_one_long_table_in_utf8_with_bom(hall):
    tmp, _ = hall
    assert hallq_report(tmp, "--from", MONDAY, "--to", TUESDAY, "--out", str(tmp / "r.csv")) == 0
    raw = (tmp / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    head = rows[0]
    assert head[:4] == ["分组", "名称", "取号量", "办结量"] and "评价率（%）" in head
    total = dict(zip(head, rows[1], strict=True))
    assert (total["分组"], total["取号量"], total["评价率（%）"], total["满意率（%）"]) == (
        "合计", "7", "80.0", "75.0")
    assert total["平均等候（分钟）"] == "3.3"
    groups = [r[0] for r in rows[2:]]
    assert groups.count("按窗口") == 4 and groups.count("按日期") == 2 and groups.count("按时段") == 15


def test_json_summary_and_groups(hall, capsys):
    tmp, _ = hall
    assert hallq_report(tmp, "--from", MONDAY, "--to", TUESDAY, "--by", "window", "--by", "day") == 0
    data = json.loads(capsys.readouterr().out)
    summary = data["summary"]
    for key in ("issued", "served", "passed", "transferred", "rated", "rating_rate",
                "satisfaction_rate", "bad_ratings", "wait_avg_s", "service_avg_s"):
        assert key in summary, key
    assert (summary["issued"], summary["rating_rate"], summary["satisfaction_rate"]) == (7, 0.8, 0.75)
    assert list(data["groups"]) == ["window", "day"]
    assert data["groups"]["window"][0]["key"] == "1" and data["groups"]["window"][0]["name"] == "1号窗口"
    assert data["ranking"][0]["window"] == "1"
    assert data["weights"] == {"satisfaction": 40.0, "volume": 30.0, "wait": 20.0, "rating_rate": 10.0,
                               "bad_rate": 0.0, "rectification": 0.0}
    assert (data["hall"], data["from"], data["to"]) == ("测试大厅", MONDAY, TUESDAY)


def is_a_real_picture(path) -> None:
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (1100, 616)
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 16) or []
        assert len(colours) > 50, f"{path.name} looks blank"
        assert max(ImageStat.Stat(rgb.convert("L")).stddev) > 20


def test_png_charts_are_drawn(two_days, tmp_path):
    rep = two_days
    written = report.write_charts(rep, tmp_path / "charts", find_cjk_font())
    assert [p.name for p in written] == list(report.CHART_FILES)
    for path in written:
        is_a_real_picture(path)


def test_charts_of_an_empty_period_say_so(hall, tmp_path):
    tmp, cfg = hall
    conn = open_readonly(tmp / "hall.db")
    rep = compute_report(conn, MON.replace(day=1), MON.replace(day=2), config=cfg)
    conn.close()
    for path in report.write_charts(rep, tmp_path / "empty", find_cjk_font()):
        with Image.open(path) as img:
            assert len(img.convert("RGB").getcolors(maxcolors=1 << 16)) > 10


def test_the_rating_record_from_the_command_line_as_csv_xlsx_and_jsonl(hall):
    tmp, _ = hall
    assert hallq_report(tmp, "--from", MONDAY, "--to", TUESDAY, "--format", "json", "--out",
                        str(tmp / "r.json"), "--export-haocha", str(tmp / "hc.csv"),
                        "--region-code", "330106") == 0
    rows = list(csv.reader(io.StringIO((tmp / "hc.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(record.HEADERS)
    assert rows[1] == ["", "", "甲业务", "330106", "窗口评价器", "5", "匿名", "20261123T090605",
                       "1", "非常满意", "1", "主动评价", "", "", "S1", "S1", "1号窗口", "A001", ""]
    assert [(r[9], r[10]) for r in rows[1:]] == [("非常满意", "1"), ("不满意", "4"), ("基本满意", "3"),
                                                 ("满意", "2")]
    assert rows[3][7] == "20261124T001005"  # rated after midnight, issued on Monday
    assert hallq_report(tmp, "--from", MONDAY, "--to", TUESDAY, "--out", str(tmp / "r.json"),
                        "--export-haocha", str(tmp / "hc.xlsx")) == 0
    xrows = sheet_rows(load_workbook(tmp / "hc.xlsx")["好差评"])
    assert xrows[0] == list(record.HEADERS) and len(xrows) == 5
    assert xrows[2][3] is None and xrows[2][10] == 4  # no region code configured: left empty
    assert hallq_report(tmp, "--from", MONDAY, "--to", TUESDAY, "--out", str(tmp / "r.json"),
                        "--export-haocha", str(tmp / "hc.jsonl")) == 0
    lines = [json.loads(line) for line in (tmp / "hc.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["number"] for x in lines] == ["A001", "B001", "A003", "C001"]
    assert lines[1]["reasons"] == [] and lines[1]["level_code"] == 4


def test_a_long_period_shows_a_progress_bar(hall, capsys):
    tmp, _ = hall
    assert hallq_report(tmp, "--from", "2026-11-01", "--to", "2026-11-30", "--out",
                        str(tmp / "m.xlsx"), "--charts", str(tmp / "charts")) == 0
    err = capsys.readouterr().err
    assert "读取数据 [" in err and "30/30 天 100%" in err
    assert "m.xlsx" in err and "satisfaction_by_window.png" in err
    assert load_workbook(tmp / "m.xlsx").sheetnames[0] == "汇总"
    assert hallq_report(tmp, "--from", MONDAY, "--out", str(tmp / "d.json")) == 0
    assert "读取数据" not in capsys.readouterr().err
    assert json.loads((tmp / "d.json").read_text())["summary"]["issued"] == 6


@pytest.mark.parametrize(("args", "message"), [
    (["--from", TUESDAY, "--to", MONDAY], "before --from"),
    (["--from", MONDAY, "--out", "r.txt"], "cannot tell the format"),
    (["--from", MONDAY, "--export-haocha", "hc.txt"], "must end in .csv, .xlsx or .jsonl"),
])
def test_mistakes_on_the_command_line_are_explained(hall, capsys, args, message):
    tmp, _ = hall
    assert hallq_report(tmp, *args) == 2
    assert message in capsys.readouterr().err


def test_a_missing_database_or_bad_options_stop_with_a_reason(hall, capsys):
    tmp, _ = hall
    assert main(["report", "--config", str(tmp / "hall.toml"), "--db", str(tmp / "none.db"),
                 "--from", MONDAY]) == 2
    assert "no database" in capsys.readouterr().err
    for bad in (["--weights", "satisfaction=90"], ["--region-code", "33"], ["--from", "11/23"]):
        with pytest.raises(SystemExit) as stop:
            hallq_report(tmp, "--from", MONDAY, *bad)
        assert stop.value.code == 2
