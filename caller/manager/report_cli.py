"""`hallq report`: statistics of a period from the hub's database, for managers.

    hallq report --db hallq.db --from 2026-11-01 --to 2026-11-30 --format xlsx --out 11月.xlsx \\
        --charts charts/ --export-haocha 好差评-11月.csv

`--export-haocha` writes the rating record (`caller.manager.record`) as .csv, .xlsx or
.jsonl; its 行政区划代码 is the config's `[hall] region_code` unless `--region-code` says
otherwise, and the 流动红旗 weights come from `[rating] ranking_weights` unless `--weights`.

The database is only read, so this may run while the hub serves the hall.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import IO

from caller.core.cli import add_config_option, exits_on_config_error
from caller.core.config import REGION_CODE, load_config
from caller.manager import record, report
from caller.manager.stats import (
    GROUPINGS,
    RankingWeights,
    Report,
    StatsError,
    compute_report,
    days_between,
    open_readonly,
)
from drivers.fonts import FontNotFound, find_cjk_font

FORMATS = ("xlsx", "csv", "json")
LONG_PERIOD_DAYS = 7  # show a progress bar beyond this


def _region_code(text: str) -> str:
    if not REGION_CODE.fullmatch(text):
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
                        help="also write the 好差评 rating record (.csv, .xlsx or .jsonl)")
    parser.add_argument("--region-code", type=_region_code,
                        help="行政区划代码 for the rating record (default: [hall] region_code)")
    parser.add_argument("--weights", type=_weights,
                        help="流动红旗 points, e.g. satisfaction=40,volume=30,wait=20,rating_rate=10 "
                             "(default: [rating] ranking_weights)")
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
    if args.export_haocha:
        try:
            record.format_of(args.export_haocha)
        except record.RecordError as e:
            raise ValueError(f"--export-haocha: {e}") from e
    return last, fmt


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    try:
        last, fmt = period_and_format(args)
    except ValueError as e:
        return _fail(str(e))
    config = load_config(args.config)
    if args.region_code:
        config = replace(config, hall=replace(config.hall, region_code=args.region_code))
    weights = args.weights or RankingWeights.of_config(config)
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
        result = compute_report(conn, args.first, last, config=config, weights=weights,
                                progress=progress)
        rows = record.load_record(conn, args.first, last, config) if args.export_haocha else []
    finally:
        conn.close()

    written = write_report(result, fmt, args.out, groupings, args.first, last)
    if args.charts:
        written += report.write_charts(result, args.charts, font)
    if args.export_haocha:
        record.save_record(rows, args.export_haocha)
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
