"""The workbook as LibreOffice and a printer read it: chart ranges, markers, page setup,
the rank beside the window name (the defects found opening report.xlsx, issue 15)."""

from __future__ import annotations

import re
import zipfile

import pytest
from openpyxl import load_workbook

from caller.core.config import RATING_LEVELS
from caller.core.messages import LEVEL_NAMES
from caller.manager import record, report
from caller.manager.stats import compute_report, open_readonly
from tests.caller.manager.test_stats import MON
from tests.caller.manager.test_stats_data import two_day_hall


@pytest.fixture
def one_day(tmp_path):
    d = two_day_hall(tmp_path / "hall.db")
    d.store.close()
    conn = open_readonly(tmp_path / "hall.db")
    rep = compute_report(conn, MON, MON, config=d.config)
    conn.close()
    path = tmp_path / "r.xlsx"
    report.write_xlsx(rep, path)
    return path


def chart_xml(path, sheet_title: str) -> str:
    """The chart drawn on one sheet, as stored in the file."""
    with zipfile.ZipFile(path) as z:
        for name in sorted(n for n in z.namelist() if n.startswith("xl/charts/chart")):
            xml = z.read(name).decode()
            if f"'{sheet_title}'!" in xml or f"{sheet_title}!" in xml:
                return xml
    raise AssertionError(f"no chart on {sheet_title}")


def test_the_rating_pie_reads_the_five_levels_under_its_header(one_day):
    ws = load_workbook(one_day)["汇总"]
    header = next(row for row in ws.iter_rows() if row[0].value == "评价等级")[0].row
    assert [ws.cell(row=header + i, column=1).value for i in range(1, 6)] == \
        [LEVEL_NAMES[lv] for lv in RATING_LEVELS]
    refs = re.findall(r"<(?:c:)?f>([^<]+)</(?:c:)?f>", chart_xml(one_day, "汇总"))
    assert f"'汇总'!$B${header + 1}:$B${header + 5}" in refs  # the five counts
    assert f"'汇总'!$A${header + 1}:$A${header + 5}" in refs  # 非常满意 … 非常不满意
    assert f"'汇总'!B{header}" in refs  # the series title: the 数量 header, not an empty row


def test_a_one_day_report_draws_its_daily_point_with_a_marker(one_day):
    xml = chart_xml(one_day, "按日期")
    assert len(re.findall(r'<(?:c:)?symbol val="circle"\s*/>', xml)) == 2  # 取号量 and 办结量
    assert not re.search(r'<(?:c:)?smooth val="1"', xml)


def test_every_sheet_prints_one_page_wide_with_its_titles(one_day):
    wb = load_workbook(one_day)
    for ws in wb:
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.page_setup.orientation in ("landscape", "portrait"), ws.title
    for title in ("按窗口", "按人员", "按业务", "按时段", "按日期"):
        assert wb[title].print_title_rows == "$1:$1"
        assert wb[title].print_title_cols == "$A:$A"
        assert wb[title].page_setup.orientation == "landscape"
    assert wb["流动红旗"].print_title_rows == "$4:$4"


def test_the_rank_reads_as_a_place_not_part_of_the_window_name(one_day):
    ws = load_workbook(one_day)["流动红旗"]
    first = ws.cell(row=5, column=1)
    assert first.value == 1  # still a number to sort by
    assert first.number_format == '"第"0"名"'
    assert ws.cell(row=5, column=2).value.endswith("号窗口")


def test_the_rating_record_workbook_prints_with_its_header(tmp_path):
    path = tmp_path / "h.xlsx"
    record.save_record([], path)
    ws = load_workbook(path)["好差评"]
    assert ws.print_title_rows == "$1:$1" and ws.sheet_properties.pageSetUpPr.fitToPage
