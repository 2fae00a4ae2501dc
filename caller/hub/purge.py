"""`hallq purge --config hall.toml --db hallq.db`: erase the personal fields older than
`[personal] retention_days` now (个人信息保护法): ticket holders, remote tickets' and
appointments' names and phones, person keys, ended bans. The hub does the same every hour
by itself; this is for a hall that wants it done at once, with the hub stopped (one
program per database)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from caller.core.cli import add_config_option, exits_on_config_error
from caller.core.config import load_config
from caller.core.schedule import business_day
from caller.hub.store import DatabaseInUse, Store, StoreUnavailable, kept_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument("--db", default="hallq.db", help="the hub's database")
    parser.add_argument("--today", help="the business day to count from (default: today)")


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, device="")  # reads no token or secret
    hall = config.hall
    today = args.today or business_day(hall, datetime.now(hall.tz)).isoformat()
    days = config.personal.retention_days
    try:
        store = Store(args.db)
    except DatabaseInUse as e:
        print(f"hallq purge: {e}. The running hub erases what is past retention every hour "
              "by itself; stop it to purge at once.", file=sys.stderr)
        return 2
    except StoreUnavailable as e:
        print(f"hallq purge: {e}", file=sys.stderr)
        return 2
    try:
        erased = store.purge(today, days)
    finally:
        store.close()
    print(f"erased the personal fields of {erased} ticket(s) and of the bookings before "
          f"{kept_from(today, days)} ([personal] retention_days = {days})")
    return 0
