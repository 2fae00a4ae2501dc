"""`hallq report`, the hall's report and, with `--central`, the same across halls.

    hallq report --central /etc/hallq/central.dsn --region 3301 --from 2026-11-01 --to 2026-11-30 \\
        --out 11月-全市.xlsx --charts charts/ --export-haocha 好差评-11月-全市.csv

Without `--central` it is the hall's own report (`caller.manager.report_cli`). With it the
figures come from the central database (read only): every hall, the halls of a region
(`--region`, a 行政区划代码 prefix: a city's code covers its counties), or the halls named
(`--hall`, repeatable); the workbook gains a 按大厅 sheet and ranks halls instead of
windows. The DSN is given itself or as the path of a file of mode 0600 (a DSN on the
command line is visible to every user of the machine: prefer the file).
"""

from __future__ import annotations

import argparse
import re
import sys

from caller.core.cli import region_prefix
from caller.manager import record as rating_record
from caller.manager import report as hall_report
from caller.manager import report_cli as hall_cli


def _hall_id(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", text):
        raise argparse.ArgumentTypeError(f"expected a hall id ([hall] id of its config), got {text!r}")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    hall_cli.add_arguments(parser)
    central = parser.add_argument_group("central reports (many halls)")
    central.add_argument("--central", metavar="DSN|FILE",
                         help="read the central PostgreSQL instead of --db: a postgresql:// DSN, "
                              "or a file (mode 0600) holding one")
    central.add_argument("--hall", action="append", type=_hall_id, default=[],
                         help="only this hall (repeatable)")
    central.add_argument("--region", type=region_prefix,
                         help="only the halls whose 行政区划代码 starts with these digits")


def run(args: argparse.Namespace) -> int:
    if not args.central:
        if args.hall or args.region:
            return _fail("--hall and --region need --central (a hall's own database is one hall)")
        return hall_cli.run(args)
    return _run_central(args)


def _fail(message: str) -> int:
    print(f"hallq report: {message}", file=sys.stderr)
    return 2


def _run_central(args: argparse.Namespace) -> int:
    from caller.central import report as central
    from caller.central.access import CentralError, connect_readonly, read_dsn
    from drivers.fonts import FontNotFound, find_cjk_font

    try:
        last, fmt = hall_cli.period_and_format(args)
    except ValueError as e:
        return _fail(str(e))
    font = None
    if args.charts:
        try:
            font = find_cjk_font(None)
        except FontNotFound as e:
            return _fail(str(e))
    groupings = ["hall", *dict.fromkeys(args.by or central.GROUPINGS)]
    try:
        with connect_readonly(read_dsn(args.central)) as conn:
            halls = central.select_halls(conn, args.hall, args.region)
            result = central.compute_central_report(conn, halls, args.first, last,
                                                    weights=args.weights, region=args.region)
            ratings = central.haocha_rows(conn, halls, args.first, last) if args.export_haocha else []
    except CentralError as e:
        return _fail(str(e))
    written = hall_cli.write_report(result, fmt, args.out, groupings, args.first, last)
    if args.charts:
        written += hall_report.write_charts(result, args.charts, font)
    if args.export_haocha:
        rating_record.save_record(ratings, args.export_haocha)
        written.append(args.export_haocha)
    if written and not args.quiet:
        print("已写入：" + "、".join(str(p) for p in written), file=sys.stderr)
    return 0

