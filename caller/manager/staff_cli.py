"""`hallq staff`: the hall's staff roster (人员名册), through the hub (an admin device).

    hallq staff add 1001 --name 王小红 [--title 综合受理员] [--stars 4] [--windows 1,2]
                                         (again for the same 工号: changes the member)
    hallq staff list
    hallq staff disable 1001 | enable 1001
    hallq staff photo 1001 PICTURE.jpg   (JPEG, PNG or WebP; drawn afresh as a 240×320 portrait)

Where `[staff] roster_required = true`, a terminal or keypad logs in only with a 工号 of an
enabled member, at one of the member's windows (none named: any window).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from pathlib import Path

from caller.core import portrait
from caller.core.cli import add_device_options, exits_on_config_error
from caller.core.client import HubClient, HubUnavailable
from caller.core.config import device_for, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_options(parser, "admin", default="admin")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="a new member, or new details for a 工号")
    add.add_argument("staff_no", help="工号")
    add.add_argument("--name", required=True)
    add.add_argument("--title", default="", help="职务, e.g. 综合受理员")
    add.add_argument("--stars", type=int, default=0, help="星级 0-5")
    add.add_argument("--windows", default="", help="the windows they may log in at, e.g. 1,2 "
                                                    "(default: any)")
    sub.add_parser("list", help="every member")
    for name, text in (("disable", "stop a member logging in"), ("enable", "let them again")):
        sub.add_parser(name, help=text).add_argument("staff_no")
    photo = sub.add_parser("photo", help="the portrait the screen evaluator shows")
    photo.add_argument("staff_no")
    photo.add_argument("picture", type=Path)


def format_member(m: dict) -> str:
    windows = ",".join(m["windows"]) or "全部"
    state = "正常" if m["active"] else "已停用"
    photo = "有照片" if m["photo"] else "无照片"
    return (f"{m['staff_no']:<8} {m['name']:<6} {m['title'] or '-':<8} {'★' * m['stars'] or '-':<5} "
            f"窗口 {windows:<8} {state}  {photo}")


def _request(args: argparse.Namespace) -> tuple[str, dict]:
    if args.action == "list":
        return "staff_list", {}
    if args.action == "add":
        windows = [w.strip() for w in args.windows.split(",") if w.strip()]
        return "staff_save", {"staff_no": args.staff_no, "name": args.name, "title": args.title,
                              "stars": args.stars, "windows": windows}
    if args.action == "photo":
        try:
            made = portrait.make(args.picture.read_bytes())
        except OSError as e:
            raise portrait.PortraitError(f"cannot read {args.picture}: {e.strerror}") from e
        return "staff_photo", {"staff_no": args.staff_no, "photo": base64.b64encode(made).decode()}
    return f"staff_{args.action}", {"staff_no": args.staff_no}


async def _run(args: argparse.Namespace, token: str) -> int:
    try:
        kind, params = _request(args)
    except portrait.PortraitError as e:
        print(f"hallq staff photo: {e}", file=sys.stderr)
        return 1
    try:
        async with HubClient(args.hub, args.device, token) as client:
            reply = await client.request(kind, timeout=10, **params)
    except (HubUnavailable, TimeoutError) as e:
        print(f"hallq staff: cannot reach the hub at {args.hub}: {e or 'no answer'}", file=sys.stderr)
        return 2
    if not reply["ok"]:
        print(reply["error"]["message"], file=sys.stderr)
        return 1
    members = reply["staff"] if isinstance(reply["staff"], list) else [reply["staff"]]
    print("\n".join(format_member(m) for m in members) or "名册中还没有人员")
    return 0


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    device = device_for(load_config(args.config, device=args.device), args.device, "admin")
    return asyncio.run(_run(args, device.token))
