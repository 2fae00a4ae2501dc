"""`hallq hub`: run the hall's hub until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime

from caller.core.cli import add_config_option, exits_on_config_error
from caller.core.config import load_config
from caller.hub.server import HallClock, run_hub, setup_logging, ssl_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument("--db", default="hallq.db", help="SQLite database file (created if missing)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--sync", choices=["FULL", "NORMAL"], default="FULL",
                        help="SQLite synchronous mode: FULL survives power loss, NORMAL a crash")
    parser.add_argument("--certfile", help="TLS certificate (PEM): serve wss://")
    parser.add_argument("--keyfile", help="TLS private key (PEM)")
    parser.add_argument("--start-time", type=datetime.fromisoformat,
                        help="run on a hall clock starting at this ISO time (demos, tests)")
    parser.add_argument("--speed", type=float, default=1.0, help="hall clock speed factor")
    parser.add_argument("--log-level", default="INFO")


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    config = load_config(args.config)
    clock = HallClock(args.start_time, args.speed) if args.start_time or args.speed != 1.0 else None
    ctx = ssl_context(args.certfile, args.keyfile) if args.certfile else None
    scheme = "wss" if ctx else "ws"

    def ready(port: int) -> None:
        print(json.dumps({"ready": True, "url": f"{scheme}://{args.host}:{port}/", "port": port}),
              flush=True)

    asyncio.run(run_hub(config, args.db, args.host, args.port, clock=clock,
                        synchronous=args.sync, ssl_ctx=ctx, on_ready=ready))
    return 0
