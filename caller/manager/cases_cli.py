"""`hallq cases`: the hall manager's follow-up of bad ratings and alerts, through the hub.

    hallq cases list                      open cases (overdue ones marked)
    hallq cases alerts                    alerts not yet acknowledged
    hallq cases ack ALERT --by 王主任
    hallq cases callback CASE --by 王主任 --note "群众反映……"
    hallq cases rectify CASE --by 王主任 --cause "…" --fix "…"
    hallq cases close CASE --by 王主任 --outcome "群众表示满意"
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from caller.core.client import HubClient, HubUnavailable
from caller.core.config import ConfigError, default_config_path, load_config
from caller.core.messages import LEVEL_NAMES
from caller.core.protocol import Role

STATE_NAMES = {"open": "待回访", "called_back": "已回访", "rectified": "已整改", "closed": "已办结"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default="ws://127.0.0.1:8765/")
    parser.add_argument("--config", default=str(default_config_path()))
    parser.add_argument("--device", default="admin", help="an admin device from the config")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="open cases")
    sub.add_parser("alerts", help="alerts not yet acknowledged")
    ack = sub.add_parser("ack", help="acknowledge an alert")
    ack.add_argument("alert", type=int)
    for name, extra in (("callback", ("note",)), ("rectify", ("cause", "fix")),
                        ("close", ("outcome",))):
        p = sub.add_parser(name, help=f"{name} a case")
        p.add_argument("case", type=int)
        for field in extra:
            p.add_argument(f"--{field}", required=True)
    for p in (ack, *[sub.choices[n] for n in ("callback", "rectify", "close")]):
        p.add_argument("--by", required=True, help="who does it (name or staff number)")


def format_case(case: dict) -> str:
    overdue = "  【已超期】" if case.get("overdue") else ""
    return (f"#{case['id']:<4} {case['opened_at'][:16]}  {case['number']:<6} "
            f"{case['window']}号窗口  工号{case['staff'] or '-':<6} "
            f"{LEVEL_NAMES.get(case['level'], case['level'])}  "
            f"{STATE_NAMES.get(case['state'], case['state'])}  期限 {case['deadline']}{overdue}")


def format_alert(alert: dict) -> str:
    return f"#{alert['id']:<4} {alert['at'][:16]}  {alert['kind']:<14} {alert['message']}"


def _request(args: argparse.Namespace) -> tuple[str, dict]:
    if args.action == "list":
        return "list_cases", {}
    if args.action == "alerts":
        return "list_alerts", {}
    if args.action == "ack":
        return "ack_alert", {"alert": args.alert, "by": args.by}
    fields = {"callback": ("note",), "rectify": ("cause", "fix"), "close": ("outcome",)}
    return f"case_{args.action}", {"case": args.case, "by": args.by,
                                   **{f: getattr(args, f) for f in fields[args.action]}}


async def _run(args: argparse.Namespace, token: str) -> int:
    kind, params = _request(args)
    try:
        async with HubClient(args.hub, args.device, token) as client:
            reply = await client.request(kind, timeout=10, **params)
    except (HubUnavailable, TimeoutError) as e:
        print(f"hallq cases: cannot reach the hub at {args.hub}: {e or 'no answer'}",
              file=sys.stderr)
        return 2
    if not reply["ok"]:
        print(reply["error"]["message"], file=sys.stderr)
        return 1
    if "cases" in reply:
        print("\n".join(format_case(c) for c in reply["cases"]) or "没有未结的差评整改记录")
    elif "alerts" in reply:
        print("\n".join(format_alert(a) for a in reply["alerts"]) or "没有待处理的提醒")
    elif "case" in reply:
        print(format_case(reply["case"]))
    else:
        print(format_alert(reply["alert"]))
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        device = load_config(args.config, device=args.device).devices.get(args.device)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    if device is None or device.role != Role.ADMIN:
        print(f"hallq cases: {args.device!r} is not an admin device in {args.config}",
              file=sys.stderr)
        return 2
    return asyncio.run(_run(args, device.token))
