"""`hallq web`: the hall manager's browser console, one more client of the hub.

    hallq web --config hall.toml --device web-1 --hub ws://hub:8765/ --db hall.db [--host H] [--port P]
    hallq web user add NAME --role manager|supervisor|viewer --db hall.db   (password from the
              terminal, or one line on stdin)
    hallq web user list | disable NAME | enable NAME | passwd NAME
    hallq web --central central.dsn [--region 3301] --db city.db   (the city console: every
              hall from the central PostgreSQL, web/city.py; its accounts in city.db:
              hallq web --central central.dsn user add NAME --role manager --db city.db)

It prints one JSON line when it serves: {"ready": true, "url": ..., "port": ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import socket
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from caller.core.cli import region_prefix
from caller.core.config import ConfigError, default_config_path, load_config
from caller.core.loops import loop_factory
from web.accounts import ROLE_NAMES, ROLES, AccountError, Accounts

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=str(default_config_path()), help="hall config (TOML)")
    parser.add_argument("--device", default="web-1", help="a web device of the config")
    parser.add_argument("--hub", default="ws://127.0.0.1:8765/")
    parser.add_argument("--db", default="hallq.db",
                        help="the hall database: accounts, audit log; read only for reports")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0: any free port")
    parser.add_argument("--idle-minutes", type=int, default=30,
                        help="sign out after this long without a request (default %(default)s)")
    parser.add_argument("--central", metavar="DSN|FILE",
                        help="the city console instead: every hall's state and the central "
                             "reports from the central PostgreSQL (a DSN, or a file of mode 0600 "
                             "holding one); --db then holds the console's accounts only")
    parser.add_argument("--region", type=region_prefix,
                        help="with --central: only the halls whose 行政区划代码 starts with these digits")
    sub = parser.add_subparsers(dest="action")
    user = sub.add_parser("user", help="manager accounts").add_subparsers(dest="user_action",
                                                                          required=True)
    add = user.add_parser("add", help="a new account (asks for the password, or reads stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    user.add_parser("list", help="every account")
    for name, text in (("disable", "stop an account signing in"), ("enable", "let it sign in again"),
                       ("passwd", "set a new password (asks, or reads stdin)")):
        user.add_parser(name, help=text).add_argument("name")
    for p in user.choices.values():
        p.add_argument("--db", dest="user_db", help="the hall database (default: --db)")


def _password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}：")
        if getpass.getpass("再输入一次：") != first:
            raise AccountError("两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _user_command(args: argparse.Namespace) -> int:
    try:
        accounts = Accounts(args.user_db or args.db, create=bool(args.central))
    except AccountError as e:
        print(f"hallq web user: {e}", file=sys.stderr)
        return 2
    try:
        action = args.user_action
        if action == "list":
            for u in accounts.list():
                print(f"{u.name:<16} {ROLE_NAMES[u.role]:<6} {'已停用' if u.disabled else '正常'}")
            return 0
        if action == "add":
            user = accounts.add(args.name, args.role, _password(f"{args.name} 的密码"))
            accounts.audit("(命令行)", "local", "user_add", user.name, ROLE_NAMES[user.role])
        elif action == "passwd":
            accounts.set_password(args.name, _password(f"{args.name} 的新密码"))
            accounts.audit("(命令行)", "local", "user_passwd", args.name)
        else:
            accounts.set_disabled(args.name, action == "disable")
            accounts.audit("(命令行)", "local", f"user_{action}", args.name)
        print(f"hallq web user {action} {args.name}: 已完成")
        return 0
    except AccountError as e:
        print(f"hallq web user {args.user_action}: {e}", file=sys.stderr)
        return 1
    finally:
        accounts.close()


def run(args: argparse.Namespace) -> int:
    if args.action == "user":
        return _user_command(args)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.idle_minutes < 1:
        print("hallq web: --idle-minutes must be 1 or more", file=sys.stderr)
        return 2
    if args.central:
        return _run_city(args)
    if args.region:
        print("hallq web: --region needs --central (a hall's console shows its own hall)",
              file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, device=args.device)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    device = config.devices.get(args.device)
    if device is None or device.role != "web":
        print(f"hallq web: {args.device!r} is not a web device in {args.config}; add one with "
              f"role = \"web\" (config/SCHEMA.md)", file=sys.stderr)
        return 2
    if config.hall.demo and args.host not in LOOPBACK:
        print(f"hallq web: {args.config} is a demo hall (public tokens and demo accounts); "
              "it is served on 127.0.0.1 only", file=sys.stderr)
        return 2
    try:
        accounts = Accounts(args.db)
    except AccountError as e:
        print(f"hallq web: {e}", file=sys.stderr)
        return 2
    return _run(_serve(args, _hall_console(args, config, device, accounts)))


def _hall_console(args: argparse.Namespace, config, device, accounts: Accounts):
    from web.app import Console
    from web.live import Hall

    db = Path(args.db)
    hall = Hall(config, device.id, args.hub, device.token, db, limits=dict(device.options))
    return Console(config, hall, accounts, db, idle_s=args.idle_minutes * 60)


def _run_city(args: argparse.Namespace) -> int:
    from caller.central.access import CentralError, read_dsn
    from web.city import CentralLive, CityConsole

    try:
        dsn = read_dsn(args.central)
        accounts = Accounts(args.db, create=True)
    except (CentralError, AccountError) as e:
        print(f"hallq web: {e}", file=sys.stderr)
        return 2
    console = CityConsole(CentralLive(dsn, args.region or ""), accounts,
                          idle_s=args.idle_minutes * 60)
    return _run(_serve(args, console))


def _run(main: Coroutine[Any, Any, int]) -> int:
    """On the hub's event loop (uvloop where installed): a thousand open ticket pages cost
    the server less CPU per update on it."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


async def _serve(args: argparse.Namespace, console) -> int:
    import uvicorn

    accounts = console.accounts
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as e:
        print(f"hallq web: cannot listen on {args.host}:{args.port}: {e.strerror}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(console.app(), log_level="warning", access_log=False,
                                           lifespan="on", timeout_graceful_shutdown=2))
    started = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not started.done():
        await asyncio.sleep(0.02)
    if server.started:
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(json.dumps({"ready": True, "url": f"http://{host}:{port}/", "port": port}), flush=True)
    await started
    accounts.close()
    return 0 if server.started else 1
