"""Write a statistics report as a managers read it: Excel, CSV, JSON, PNG charts
(the rating record for the province is `caller.manager.record`).

The figures come from `caller.manager.stats`; this module only lays them out. Every label
a manager sees is in the tables at the top.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from caller.core.config import RATING_LEVELS
from caller.core.messages import LEVEL_NAMES
from caller.manager.booking_stats import BOOKING_COLUMNS, booking_totals
from caller.manager.stats import GROUPINGS, Report

# ---------------------------------------------------------------------- labels


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str  # "count" | "minutes" (stored as seconds) | "rate" (fraction) | "hour"


COLUMNS = (
    Column("issued", "取号量", "count"),
    Column("served", "办结量", "count"),
    Column("passed", "过号", "count"),
    Column("cancelled", "作废", "count"),
    Column("waiting", "仍在等候", "count"),
    Column("transferred", "转移", "count"),
    Column("transferred_out", "转出", "count"),
    Column("held", "挂起", "count"),
    Column("wait_avg_s", "平均等候", "minutes"),
    Column("wait_median_s", "等候中位数", "minutes"),
    Column("wait_p90_s", "等候90%分位", "minutes"),
    Column("service_avg_s", "平均办理", "minutes"),
    Column("service_median_s", "办理中位数", "minutes"),
    Column("service_p90_s", "办理90%分位", "minutes"),
    Column("peak_hour", "高峰时段", "hour"),
    Column("rated", "评价数", "count"),
    Column("rating_rate", "评价率", "rate"),
    Column("satisfaction_rate", "满意率", "rate"),
    Column("good_rate", "好评率", "rate"),
    Column("bad_rate", "差评率", "rate"),
    *(Column(level, LEVEL_NAMES[level], "count") for level in RATING_LEVELS),
    Column("bad_ratings", "差评数", "count"),
    Column("defaulted", "默认评价", "count"),
    Column("default_rate", "默认评价占比", "rate"),
    Column("callback_rate", "回访率", "rate"),
    Column("rectification_rate", "差评整改率", "rate"),
    Column("appeals", "申诉数", "count"),
    Column("appeals_upheld", "申诉成立", "count"),
    Column("appeal_rate", "申诉率", "rate"),
)
COLUMN = {c.key: c for c in COLUMNS}

# grouping -> (sheet name, header of the first column, label of the row without a key)
GROUP_TITLES = {
    "window": ("按窗口", "窗口", "未叫号"),
    "staff": ("按人员", "工号", "未分配"),
    "service": ("按业务", "业务", "未知业务"),
    "hour": ("按时段", "时段", ""),
    "day": ("按日期", "日期", ""),
    "month": ("按月份", "月份", ""),
    "hall": ("按大厅", "大厅", ""),  # central reports only
}
SUMMARY_SHEET = "汇总"
RANKING_SHEET = "流动红旗"
BOOKINGS_SHEET = "预约统计"
WEEKDAYS = "一二三四五六日"
WEIGHT_TITLES = {"satisfaction": "满意率", "volume": "办件量", "wait": "等候时间",
                 "rating_rate": "评价率", "bad_rate": "差评率", "rectification": "整改率"}
RANKING_COLUMNS = (
    ("rank", "名次", "count"), ("name", "", "text"), ("score", "总分", "points"),
    ("satisfaction_points", "满意率得分", "points"), ("volume_points", "办件量得分", "points"),
    ("wait_points", "等候得分", "points"), ("rating_rate_points", "评价率得分", "points"),
    ("bad_rate_points", "差评率得分", "points"), ("rectification_points", "整改率得分", "points"),
    ("served", "办结量", "count"), ("satisfaction_rate", "满意率", "rate"),
    ("rating_rate", "评价率", "rate"), ("bad_rate", "差评率", "rate"),
    ("wait_avg_s", "平均等候（分钟）", "minutes"),
)
FLAG = "流动红旗"
RANKED_TITLES = {"window": "窗口", "hall": "大厅"}  # the ranking's name column, by what it ranks

CHART_FILES = ("wait_by_hour.png", "volume_by_service.png", "satisfaction_by_window.png")
NAVY, BLUE, GREEN, RED, GREY = "#1f4e79", "#5b9bd5", "#2e7d32", "#c0392b", "#d9d9d9"
GOOD_SATISFACTION, LOW_SATISFACTION = 95.0, 85.0  # % : green at or above, red below


def header(column: Column, with_unit: bool) -> str:
    """A column title; CSV titles carry the unit, Excel shows it as the cell format."""
    if column.kind == "minutes":
        return f"{column.title}（分钟）"
    if column.kind == "rate" and with_unit:
        return f"{column.title}（%）"
    return column.title


def hour_label(hour: int | None) -> str | None:
    return None if hour is None else f"{hour:02d}:00-{hour + 1:02d}:00"


def cell(column: Column | str, value: Any, percent: bool = False) -> Any:
    """A figure as shown: minutes to one decimal, rates as fractions (or percent), hours as spans."""
    kind = column.kind if isinstance(column, Column) else column
    if value is None:
        return None
    if kind == "minutes":
        return round(value / 60, 1)
    if kind == "rate" and percent:
        return round(value * 100, 1)
    if kind == "hour":
        return hour_label(value)
    return value


def row_label(by: str, row: dict) -> str:
    if row["key"] is None:
        return GROUP_TITLES[by][2]
    if by == "day":
        return f"{row['key']} 周{WEEKDAYS[date.fromisoformat(row['key']).weekday()]}"
    return row["name"]


def columns_for(by: str | None) -> list[Column]:
    """The figures shown for a grouping (None: the summary)."""
    return [c for c in COLUMNS
            if not (c.key == "transferred_out" and by != "window")
            and not (c.key == "peak_hour" and by == "hour")]


def period_text(report: Report) -> str:
    return f"{report.first.isoformat()} 至 {report.last.isoformat()}"


# ---------------------------------------------------------------------- JSON / CSV


def write_json(report: Report, out: IO[str], groupings: Sequence[str] = GROUPINGS) -> None:
    data = report.to_dict()
    data["groups"] = {by: data["groups"][by] for by in groupings}
    json.dump(data, out, ensure_ascii=False, indent=1)
    out.write("\n")


def write_csv(report: Report, out: IO[str], groupings: Sequence[str] = GROUPINGS) -> None:
    """One long table: the summary row (合计) then every row of each grouping."""
    shown = [c for c in COLUMNS if c.key != "transferred_out" or "window" in groupings]
    writer = csv.writer(out)
    writer.writerow(["分组", "名称", *(header(c, with_unit=True) for c in shown)])
    writer.writerow(["合计", "全部", *_csv_values(shown, report.summary)])
    for by in groupings:
        for row in report.groups[by]:
            writer.writerow([GROUP_TITLES[by][0], row_label(by, row), *_csv_values(shown, row)])


def _csv_values(shown: Sequence[Column], row: dict) -> list[Any]:
    values = [cell(c, row.get(c.key), percent=True) for c in shown]
    return ["" if v is None else v for v in values]


# ---------------------------------------------------------------------- Excel

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=16, color="1F4E79")
_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="1F4E79")
_FLAG_FILL = PatternFill("solid", fgColor="F8D7D3")
_FORMATS = {"minutes": "0.0", "rate": "0.0%", "points": "0.0"}
RANK_FORMAT = '"第"0"名"'


def _style_header(ws: Worksheet, row: int, count: int) -> None:
    for col in range(1, count + 1):
        c = ws.cell(row=row, column=col)
        c.font, c.fill = _HEAD_FONT, _HEAD_FILL
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _widths(ws: Worksheet, titles: Sequence[str], first: int = 14) -> None:
    for i, title in enumerate(titles, start=1):
        width = first if i == 1 else max(9, 2 * len(title) + 2)
        ws.column_dimensions[get_column_letter(i)].width = width


def write_xlsx(report: Report, path: str | Path, groupings: Sequence[str] = GROUPINGS) -> None:
    """The workbook sent upward: a summary, one sheet per grouping, the ranking, native charts."""
    wb = Workbook()
    _summary_sheet(wb.active, report)
    for by in groupings:
        _group_sheet(wb.create_sheet(GROUP_TITLES[by][0]), report, by)
    _ranking_sheet(wb.create_sheet(RANKING_SHEET), report)
    if report.bookings:
        _bookings_sheet(wb.create_sheet(BOOKINGS_SHEET), report)
    wb.save(path)


def _bookings_sheet(ws: Worksheet, report: Report) -> None:
    """预约统计: bookings, check-ins, no-shows, cancellations, remote tickets by day and service."""
    titles = ["日期", "业务", *BOOKING_COLUMNS.values()]
    ws.append(titles)
    _style_header(ws, 1, len(titles))
    for row in report.bookings:
        ws.append([row["day"], row.get("service_name", row["service"]),
                   *(row[k] for k in BOOKING_COLUMNS)])
    totals = booking_totals(report.bookings)
    ws.append(["合计", "", *(totals[k] for k in BOOKING_COLUMNS)])
    _widths(ws, titles, first=12)
    _page_setup(ws)


def _summary_sheet(ws: Worksheet, report: Report) -> None:
    ws.title = SUMMARY_SHEET
    ws["A1"] = f"{report.hall} 业务统计报表".strip()
    ws["A1"].font = _TITLE
    ws["A2"] = f"统计期间：{period_text(report)}"
    ws["A3"] = f"生成时间：{report.generated_at}"
    ws.append([])
    ws.append(["指标", "数值"])
    _style_header(ws, 5, 2)
    for column in columns_for(None):
        ws.append([header(column, with_unit=False), cell(column, report.summary[column.key])])
        if column.kind in _FORMATS:
            ws.cell(row=ws.max_row, column=2).number_format = _FORMATS[column.kind]
    if not report.followup_available:
        ws.append(["说明", "数据库中没有差评整改记录，回访率、差评整改率暂不统计"])
    ws.append([])
    ws.append(["评价等级", "数量"])
    start = ws.max_row  # the header row: an empty append leaves max_row where it was
    _style_header(ws, start, 2)
    for level in RATING_LEVELS:
        ws.append([LEVEL_NAMES[level], report.summary[level]])
    pie = PieChart()
    pie.title = "评价分布"
    pie.add_data(Reference(ws, min_col=2, min_row=start, max_row=start + len(RATING_LEVELS)),
                 titles_from_data=True)
    pie.set_categories(Reference(ws, min_col=1, min_row=start + 1, max_row=start + len(RATING_LEVELS)))
    ws.add_chart(pie, "D5")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 16
    _page_setup(ws, "portrait")


def _page_setup(ws: Worksheet, orientation: str = "landscape", title_rows: str | None = None,
                title_cols: str | None = None) -> None:
    """Print on A4, as wide as one page (as many pages down as it takes), the header row and
    the label column repeated on every page."""
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols


# grouping -> (chart kind, title, column keys plotted, y-axis title)
_SHEET_CHARTS = {
    "window": ("bar", "各窗口满意率", ("satisfaction_rate",), "满意率"),
    "staff": ("bar", "各工作人员办结量", ("served",), "件"),
    "service": ("bar", "各业务取号量与办结量", ("issued", "served"), "件"),
    "hour": ("line", "各时段平均等候时间", ("wait_avg_s",), "分钟"),
    "day": ("line", "每日取号量与办结量", ("issued", "served"), "件"),
    "month": ("bar", "每月好评率、差评率与评价率", ("good_rate", "bad_rate", "rating_rate"), "比率"),
    "hall": ("bar", "各大厅满意率", ("satisfaction_rate",), "满意率"),
}


def _group_sheet(ws: Worksheet, report: Report, by: str) -> None:
    shown = columns_for(by)
    titles = [GROUP_TITLES[by][1], *(header(c, with_unit=False) for c in shown)]
    ws.append(titles)
    _style_header(ws, 1, len(titles))
    # rows counted here: ws.max_row scans every cell, and a central report has thousands
    for at, row in enumerate(report.groups[by], start=2):
        ws.append([row_label(by, row), *(cell(c, row.get(c.key)) for c in shown)])
        for i, c in enumerate(shown, start=2):
            if c.kind in _FORMATS:
                ws.cell(row=at, column=i).number_format = _FORMATS[c.kind]
    ws.freeze_panes = "B2"
    _widths(ws, titles, first=16 if by == "day" else 12)
    rows = len(report.groups[by])
    if rows:
        kind, title, keys, y_title = _SHEET_CHARTS[by]
        chart = BarChart() if kind == "bar" else LineChart()
        chart.title, chart.y_axis.title = title, y_title
        chart.width, chart.height = max(16, min(40, rows * 1.2)), 9
        for key in keys:
            col = 2 + [c.key for c in shown].index(key)
            chart.add_data(Reference(ws, min_col=col, min_row=1, max_row=rows + 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=rows + 1))
        if kind == "line":  # a marker on every point: a one-day report has a single point
            for series in chart.series:
                series.marker.symbol = "circle"
                series.marker.size = 7
                series.smooth = False
        ws.add_chart(chart, f"A{rows + 4}")
    _page_setup(ws, title_rows="1:1", title_cols="A:A")


def _ranking_sheet(ws: Worksheet, report: Report) -> None:
    ranked = RANKED_TITLES[report.ranked]
    ws["A1"] = f"{FLAG} {ranked}评比（满分 100 分）"
    ws["A1"].font = _TITLE
    weights = asdict(report.weights)
    ws["A2"] = "计分：" + " + ".join(f"{WEIGHT_TITLES[k]} {v:g} 分" for k, v in weights.items())
    ws["A3"] = f"统计期间：{period_text(report)}"
    titles = [t or ranked for _, t, _ in RANKING_COLUMNS] + ["备注"]
    ws.append(titles)
    _style_header(ws, 4, len(titles))
    for at, row in enumerate(report.ranking, start=5):
        values = [cell(kind, row[key]) for key, _, kind in RANKING_COLUMNS]
        ws.append([*values, FLAG if row["rank"] == 1 else ""])
        for i, (_, _, kind) in enumerate(RANKING_COLUMNS, start=1):
            if kind in _FORMATS:
                ws.cell(row=at, column=i).number_format = _FORMATS[kind]
        # "第1名", still a number: beside the window name a bare 1 read as "1 4号窗口"
        rank = ws.cell(row=at, column=1)
        rank.number_format = RANK_FORMAT
        rank.alignment = Alignment(horizontal="center")
        if row["rank"] == 1:
            for i in range(1, len(titles) + 1):
                ws.cell(row=at, column=i).fill = _FLAG_FILL
    _widths(ws, titles, first=8)
    n = len(report.ranking)
    if n:
        chart = BarChart()
        chart.type = "bar"
        chart.title, chart.y_axis.title = f"{ranked}得分", "分"
        chart.add_data(Reference(ws, min_col=3, min_row=4, max_row=4 + n), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=2, min_row=5, max_row=4 + n))
        chart.x_axis.scaling.orientation = "maxMin"  # the first place on top
        chart.height = max(7.5, n * 0.9)
        ws.add_chart(chart, f"A{n + 7}")
    _page_setup(ws, title_rows="4:4")


# ---------------------------------------------------------------------- PNG charts


def write_charts(report: Report, directory: str | Path, font_path: str) -> list[Path]:
    """The three charts managers look at, as PNG files in `directory`."""
    import matplotlib  # imported only when charts are asked for (it is slow to import)

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    font_manager.fontManager.addfont(font_path)
    family = font_manager.FontProperties(fname=font_path).get_name()
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawers = (_wait_by_hour, _volume_by_service, _satisfaction_by_window)
    written = []
    with matplotlib.rc_context({"font.family": [family], "axes.unicode_minus": False,
                                "axes.spines.top": False, "axes.spines.right": False}):
        for name, draw in zip(CHART_FILES, drawers, strict=True):
            fig = Figure(figsize=(10, 5.6), dpi=110)
            ax = fig.add_subplot()
            ax.grid(axis="y", color=GREY, linewidth=0.8)
            ax.set_axisbelow(True)
            draw(ax, report)
            fig.suptitle(f"{report.hall}  {period_text(report)}", fontsize=10, color="#555555", y=0.995)
            fig.tight_layout()
            fig.savefig(out_dir / name, facecolor="white")
            written.append(out_dir / name)
    return written


def _no_data(ax: Any) -> None:
    ax.text(0.5, 0.5, "本期无数据", ha="center", va="center", fontsize=20, color="#888888",
            transform=ax.transAxes)


def _wait_by_hour(ax: Any, report: Report) -> None:
    from matplotlib.ticker import MaxNLocator

    rows = report.groups["hour"]
    ax.set_title("各时段平均等候时间", fontsize=16, color=NAVY)
    if not rows:
        return _no_data(ax)
    labels = [f"{r['key']:02d}时" for r in rows]
    waits = [cell("minutes", r["wait_avg_s"]) or 0.0 for r in rows]
    bars = ax.bar(labels, waits, color=NAVY, label="平均等候（分钟）")
    ax.bar_label(bars, labels=[f"{w:g}" if w else "" for w in waits], padding=2, fontsize=9)
    ax.set_ylabel("平均等候（分钟）")
    ax.set_ylim(0, max(max(waits), 1.0) * 1.2)
    twin = ax.twinx()
    issued = [r["issued"] for r in rows]
    line = twin.plot(labels, issued, color="#e07b00", marker="o", label="取号量（个）")
    twin.set_ylabel("取号量（个）")
    twin.set_ylim(0, max(max(issued), 1) * 1.2)
    twin.yaxis.set_major_locator(MaxNLocator(integer=True))
    twin.spines["right"].set_visible(True)
    ax.legend(handles=[bars, *line], loc="upper left", frameon=False, ncols=2)


def _volume_by_service(ax: Any, report: Report) -> None:
    from matplotlib.ticker import MaxNLocator

    rows = report.groups["service"]
    ax.set_title("各业务取号量与办结量", fontsize=16, color=NAVY)
    if not rows:
        return _no_data(ax)
    xs = range(len(rows))
    issued = ax.bar([x - 0.2 for x in xs], [r["issued"] for r in rows], 0.4, color=BLUE, label="取号量")
    served = ax.bar([x + 0.2 for x in xs], [r["served"] for r in rows], 0.4, color=NAVY, label="办结量")
    ax.bar_label(issued, padding=2, fontsize=9)
    ax.bar_label(served, padding=2, fontsize=9)
    ax.set_xticks(list(xs), [row_label("service", r) for r in rows])
    ax.set_ylabel("件")
    ax.set_ylim(0, max(max(r["issued"] for r in rows), 1) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False)


def _satisfaction_by_window(ax: Any, report: Report) -> None:
    rows = [r for r in report.groups["window"] if r["key"] is not None and r["rated"]]
    ax.set_title("各窗口满意率", fontsize=16, color=NAVY)
    if not rows:
        return _no_data(ax)
    rates = [r["satisfaction_rate"] * 100 for r in rows]
    colors = [GREEN if rate >= GOOD_SATISFACTION else (NAVY if rate >= LOW_SATISFACTION else RED)
              for rate in rates]
    bars = ax.bar([r["name"] for r in rows], rates, color=colors)
    ax.bar_label(bars, labels=[f"{rate:.1f}%\n({r['rated']}评)" for rate, r in zip(rates, rows, strict=True)],
                 padding=2, fontsize=9)
    ax.set_ylim(0, 115)
    ax.set_ylabel("满意率（%）")


# ---------------------------------------------------------------------- plain tables


def write_table_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
                     out: str | Path | IO[bytes]) -> None:
    """One sheet: a styled header row kept on screen and on every printed page, then rows
    (the rating record, caller.manager.record)."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(list(headers))
    _style_header(ws, 1, len(headers))
    for row in rows:
        ws.append(list(row))
    ws.freeze_panes = "A2"
    _widths(ws, headers, first=18)
    _page_setup(ws, title_rows="1:1")
    wb.save(out)
