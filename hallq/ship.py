"""`hallq ship`: run beside the hub and copy its event log to the central PostgreSQL
(caller/central/shipper.py; docs/central.md). Stops on SIGTERM/SIGINT.

Exit status 2: the config is refused ([central] missing or wrong, the DSN file readable by
others); anything else — the centre down, the hub away — is logged and retried.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from caller.central.shipper import Shipper, read_dsn
from caller.core.cli import add_config_option, add_hub_option, exits_on_config_error
from caller.core.config import ConfigError, load_config
from caller.core.logs import setup_logging

SWITCH_INTERVAL_S = 0.0005


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    add_hub_option(parser)
    parser.add_argument("--db", default="hallq.db", help="the hub's SQLite database (read only)")
    parser.add_argument("--no-hub", action="store_true",
                        help="do not report the shipped position to the hub (a copy of the "
                        "database, not a running hall: its prune is not ours to guard)")
    parser.add_argument("--log-level", default="INFO")


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    probe = load_config(args.config, device="")  # which device the shipper is
    if probe.central is None:
        raise ConfigError(probe.path, ["central: missing; expected a [central] table with "
                                       "dsn_file (docs/central.md)"])
    config = load_config(args.config, device=probe.central.device)
    shipper = Shipper(config, args.db, read_dsn(config), hub_url=None if args.no_hub else args.hub)
    # While a backlog ships, a thread reads and encodes the next batch as the main thread
    # writes this one: the main thread waits on the centre some six times a batch and,
    # woken, waits again for the interpreter lock, up to the switch interval (5 ms) each
    # time. A shorter interval keeps the centre fed (BENCHMARKS.md, #19 shipping).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    asyncio.run(_main(shipper))
    return 0


async def _main(shipper: Shipper) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(json.dumps({"ready": True, "hall": shipper.hall.hall_id}), flush=True)
    await shipper.run(stop)
