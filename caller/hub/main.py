"""`hallq hub`: run the hall's hub until SIGTERM/SIGINT.

Exit statuses a restart cannot cure (the systemd unit does not restart on them):
2 the config is refused, 3 another hub has the database open, 4 the database is damaged.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
from datetime import datetime

from caller.core.cli import CONFIG_ERROR_EXIT, exits_on_config_error
from caller.core.config import HallConfig, default_config_path, load_config
from caller.core.logs import setup_logging
from caller.core.loops import DEFAULT_LOOP, LOOPS, UVLOOP_INSTALLED, loop_factory
from caller.hub.server import HallClock, run_hub, ssl_context
from caller.hub.store import DamagedDatabase, DatabaseInUse

EXIT_CONFIG = CONFIG_ERROR_EXIT
EXIT_DB_IN_USE = 3
EXIT_DB_DAMAGED = 4


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="hall config (TOML); without it the demo hall, "
                        "served on loopback only")
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
    parser.add_argument("--loop", choices=LOOPS, default=DEFAULT_LOOP,
                        help=f"event loop (default here: {DEFAULT_LOOP})")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_host_problem(config: HallConfig, host: str) -> str | None:
    """A demo hall's tokens are public: it may not listen beyond this machine."""
    if not config.hall.demo or is_loopback(host):
        return None
    return (f"hallq hub: {config.path} is a demo hall ([hall] demo = true; its tokens, the "
            f"admin's too, are public), so it is served on loopback only; expected --host "
            f"127.0.0.1, got --host {host}. A real hall: a config of its own without "
            "`demo = true`, tokens made by `hallq token new` (docs/deployment.md)")


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    setup_logging(args.log_level)
    path = args.config or default_config_path()
    config = load_config(path, strict=True)
    problem = demo_host_problem(config, args.host)
    if problem is None and args.config is None and not is_loopback(args.host):
        problem = (f"hallq hub: without --config the hub serves the demo hall ({path}) on "
                   f"loopback only; expected --host 127.0.0.1 or a --config, got --host {args.host}")
    if problem is None and args.loop == "uvloop" and not UVLOOP_INSTALLED:
        problem = "hallq hub: --loop uvloop, but uvloop is not installed; expected --loop asyncio"
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_CONFIG
    clock = HallClock(args.start_time, args.speed) if args.start_time or args.speed != 1.0 else None
    ctx = ssl_context(args.certfile, args.keyfile) if args.certfile else None
    scheme = "wss" if ctx else "ws"

    def ready(port: int) -> None:
        print(json.dumps({"ready": True, "url": f"{scheme}://{args.host}:{port}/", "port": port}),
              flush=True)

    try:
        with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
            runner.run(run_hub(config, args.db, args.host, args.port, clock=clock,
                               synchronous=args.sync, ssl_ctx=ctx, on_ready=ready))
    except DatabaseInUse as e:
        print(f"hallq hub: {e}", file=sys.stderr)
        return EXIT_DB_IN_USE
    except DamagedDatabase as e:
        print(f"hallq hub: {e}", file=sys.stderr)
        return EXIT_DB_DAMAGED
    return 0
