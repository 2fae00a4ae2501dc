"""The 统计报表 page: a period picked in the browser, the figures of `hallq report` as
tables and SVG charts, and the same files to download."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from caller.core.config import HallConfig
from caller.manager import record
from caller.manager import report as layout
from caller.manager.stats import GROUPINGS, RankingWeights, Report, compute_report, open_readonly
from web import charts, strings

RANGES = {"today": "今天", "week": "本周", "month": "本月", "custom": "自定义"}
MAX_DAYS = 366
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = {"xlsx": (XLSX, "xlsx"),
             "csv": ("text/csv; charset=utf-8", "csv"),
             "haocha-csv": ("text/csv; charset=utf-8", "csv"),
             "haocha-xlsx": (XLSX, "xlsx"),
             "haocha-jsonl": ("application/x-ndjson; charset=utf-8", "jsonl")}
# grouping -> (chart title, column keys, unit)
CHARTS = {"window": ("各窗口办结量", ("served",), "件"),
          "staff": ("各工作人员办结量", ("served",), "件"),
          "service": ("各业务取号量与办结量", ("issued", "served"), "件"),
          "hour": ("各时段平均等候时间", ("wait_avg_s",), "分钟"),
          "day": ("每日取号量与办结量", ("issued", "served"), "件"),
          "month": ("每月好评率与差评率", ("good_rate", "bad_rate"), "%"),
          "hall": ("各大厅办结量", ("served",), "件")}  # central reports only


# the figures a page shows per row (the downloads carry every one)
PAGE_COLUMNS = ("issued", "served", "passed", "waiting", "wait_avg_s", "wait_p90_s", "service_avg_s",
                "rated", "rating_rate", "good_rate", "bad_rate", "bad_ratings", "defaulted",
                "callback_rate", "rectification_rate", "appeal_rate", "appeals_upheld")


class PeriodError(ValueError):
    """A period the page cannot show; the message is for the manager."""


@dataclass(frozen=True)
class Period:
    name: str
    first: date
    last: date


def period(name: str, today: date, first: str = "", last: str = "") -> Period:
    """today / week (Monday on) / month / custom FROM–TO, all inclusive."""
    if name == "today" or not name:
        return Period("today", today, today)
    if name == "week":
        return Period(name, today - timedelta(days=today.weekday()), today)
    if name == "month":
        return Period(name, today.replace(day=1), today)
    if name != "custom":
        raise PeriodError(f"未知的统计期间 {name!r}")
    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        raise PeriodError(strings.BAD_DATE) from None
    if b < a:
        raise PeriodError(strings.BAD_RANGE)
    if (b - a).days >= MAX_DAYS:
        raise PeriodError(strings.RANGE_TOO_LONG)
    return Period(name, a, b)


def compute(db: Path, p: Period, config: HallConfig) -> Report:
    conn = open_readonly(db)
    try:
        return compute_report(conn, p.first, p.last, config=config,
                              weights=RankingWeights.of_config(config))
    finally:
        conn.close()


def tables(result: Report, groupings: Sequence[str] = GROUPINGS) -> list[dict[str, Any]]:
    """Each grouping as a titled table with its chart, for the template."""
    out = []
    for by in groupings:
        shown = [c for c in layout.columns_for(by) if c.key in PAGE_COLUMNS]
        rows = result.groups[by]
        title, keys, unit = CHARTS[by]
        series = [(layout.COLUMN[k].title, [layout.cell(layout.COLUMN[k], r[k], percent=True) for r in rows])
                  for k in keys]
        out.append({
            "title": layout.GROUP_TITLES[by][0],
            "headers": [layout.GROUP_TITLES[by][1], *(_title(c) for c in shown)],
            "rows": [[layout.row_label(by, r), *(_shown(c, r.get(c.key)) for c in shown)]
                     for r in rows],
            "chart": charts.bars(title, [layout.row_label(by, r) for r in rows], series, unit),
        })
    return out


def summary(result: Report) -> list[tuple[str, str]]:
    return [(_title(c), _shown(c, result.summary[c.key])) for c in layout.columns_for(None)]


def _title(column: layout.Column) -> str:
    return layout.header(column, with_unit=True)


def _shown(column: layout.Column, value: Any) -> str:
    shown = layout.cell(column, value, percent=True)
    return "—" if shown is None else str(shown)


def download(db: Path, p: Period, config: HallConfig, kind: str) -> tuple[bytes, str, str]:
    """(the file, its media type, its name) for one of DOWNLOADS."""
    media, suffix = DOWNLOADS[kind]
    name = f"{'好差评' if kind.startswith('haocha') else '统计报表'}-{p.first}-{p.last}.{suffix}"
    if kind.startswith("haocha"):
        conn = open_readonly(db)
        try:
            rows = record.load_record(conn, p.first, p.last, config)
        finally:
            conn.close()
        buffer = io.BytesIO()
        record.write_record(rows, buffer, suffix)
        return buffer.getvalue(), media, name
    result = compute(db, p, config)
    if kind == "xlsx":
        buffer = io.BytesIO()
        layout.write_xlsx(result, buffer)
        return buffer.getvalue(), media, name
    text = io.StringIO()
    layout.write_csv(result, text)
    return text.getvalue().encode("utf-8-sig"), media, name
