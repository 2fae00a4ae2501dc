"""`hallq report`: statistics of a period from the hub's database, for managers.

    hallq report --db hallq.db --from 2026-11-01 --to 2026-11-30 --format xlsx --out 11月.xlsx \\
        --charts charts/ --export-haocha 好差评-11月.csv --region-code 330106

The database is only read, so this may run while the hub serves the hall.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import IO

from caller.core.cli import add_config_option, exits_on_config_error
from caller.core.config import load_config
from caller.manager import report
from caller.manager.stats import (
    GROUPINGS,
    RankingWeights,
    Report,
    StatsError,
    compute_report,
    days_between,
    load_ratings,
    open_readonly,
)
from drivers.fonts import FontNotFound, find_cjk_font

FORMATS = ("xlsx", "csv", "json")
LONG_PERIOD_DAYS = 7  # show a progress bar beyond this


def _region_code(text: str) -> str:
    if not re.fullmatch(r"\d{6}(\d{6})?", text):
        raise argparse.ArgumentTypeError(f"expected a 6- or 12-digit 行政区划代码, got {text!r}")
    return text


def _weights(text: str) -> RankingWeights:
    try:
        return RankingWeights.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument("--db", default="hallq.db", help="the hub's SQLite database (read only)")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True,
                        metavar="DATE", help="first business day, e.g. 2026-11-01")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, metavar="DATE",
                        help="last business day, inclusive (default: the --from day)")
    parser.add_argument("--by", action="append", choices=GROUPINGS,
                        help="groupings to include, repeatable (default: all)")
    parser.add_argument("--format", choices=FORMATS,
                        help="default: from --out's suffix, else json")
    parser.add_argument("--out", type=Path,
                        help="output file (default: stdout for json/csv, report-FROM-TO.xlsx for xlsx)")
    parser.add_argument("--charts", type=Path, metavar="DIR", help="also write PNG charts here")
    parser.add_argument("--export-haocha", type=Path, metavar="PATH",
                        help="also write the 好差评 ratings export (.csv or .xlsx)")
    parser.add_argument("--region-code", type=_region_code, default=report.DEFAULT_REGION_CODE,
                        help="行政区划代码 for the 好差评 export (default %(default)s)")
    parser.add_argument("--weights", type=_weights, default=RankingWeights(),
                        help="流动红旗 points, e.g. satisfaction=40,volume=30,wait=20,rating_rate=10")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


class ProgressBar:
    """A one-line bar on stderr, redrawn in place."""

    def __init__(self, stream: IO[str], label: str = "读取数据", width: int = 30) -> None:
        self.stream, self.label, self.width = stream, label, width

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // total
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done == total else ""
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} 天 {100 * done // total:3d}%{end}")
        self.stream.flush()


def _fail(message: str) -> int:
    print(f"hallq report: {message}", file=sys.stderr)
    return 2


def period_and_format(args: argparse.Namespace) -> tuple[date, str]:
    """The last day and the output format asked for; ValueError saying what does not fit."""
    last = args.last or args.first
    if last < args.first:
        raise ValueError(f"--to {last} is before --from {args.first}")
    fmt = args.format or (args.out.suffix.lstrip(".").lower() if args.out else "json")
    if fmt not in FORMATS:
        raise ValueError(f"cannot tell the format from {args.out}; use --format {'|'.join(FORMATS)}")
    if args.export_haocha and args.export_haocha.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"--export-haocha must end in .csv or .xlsx, got {args.export_haocha}")
    return last, fmt


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    try:
        last, fmt = period_and_format(args)
    except ValueError as e:
        return _fail(str(e))
    config = load_config(args.config)
    font = None
    if args.charts:
        try:
            font = find_cjk_font(config.hall.font)
        except FontNotFound as e:
            return _fail(str(e))
    groupings = list(dict.fromkeys(args.by or GROUPINGS))
    long_period = len(days_between(args.first, last)) > LONG_PERIOD_DAYS
    progress = ProgressBar(sys.stderr) if long_period and not args.quiet else None
    try:
        conn = open_readonly(args.db)
    except StatsError as e:
        return _fail(str(e))
    try:
        result = compute_report(conn, args.first, last, config=config, weights=args.weights,
                                progress=progress)
        ratings = load_ratings(conn, args.first, last, config.hall.tz) if args.export_haocha else []
    finally:
        conn.close()

    written = write_report(result, fmt, args.out, groupings, args.first, last)
    if args.charts:
        written += report.write_charts(result, args.charts, font)
    if args.export_haocha:
        report.write_haocha(report.haocha_rows(ratings, config, args.region_code), args.export_haocha)
        written.append(args.export_haocha)
    if written and not args.quiet:
        print("已写入：" + "、".join(str(p) for p in written), file=sys.stderr)
    return 0


def write_report(result: Report, fmt: str, out: Path | None, groupings: list[str],
                  first: date, last: date) -> list[Path]:
    if fmt == "xlsx":
        path = out or Path(f"report-{first.isoformat()}-{last.isoformat()}.xlsx")
        report.write_xlsx(result, path, groupings)
        return [path]
    writer = report.write_json if fmt == "json" else report.write_csv
    if out is None:
        writer(result, sys.stdout, groupings)
        return []
    # utf-8-sig: Excel on Windows opens a CSV with a BOM as UTF-8
    with out.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as f:
        writer(result, f, groupings)
    return [out]
