"""`hallq send`: send one command to the hub as a device; print the reply and events.

    hallq send --device term-1 call_next window=1
    hallq send --device admin --listen 30 snapshot
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from caller.core.cli import add_config_option, add_device_option, add_hub_option, exits_on_config_error
from caller.core.client import HubClient, HubUnavailable
from caller.core.config import device_for, load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_hub_option(parser)
    add_config_option(parser)
    add_device_option(parser, None)
    parser.add_argument("--token", help="the device token (default: from the config)")
    parser.add_argument("--listen", type=float, default=0.0,
                        help="also print events for this many seconds")
    parser.add_argument("command", help="e.g. call_next, issue_ticket, snapshot")
    parser.add_argument("args", nargs="*", metavar="KEY=VALUE",
                        help="arguments, e.g. window=1 service=civil, or case:=3 for a number")


def parse_args(pairs: list[str]) -> dict:
    """KEY=VALUE gives a string; KEY:=JSON a number, true/false or a list (case:=3)."""
    out: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"hallq send: expected KEY=VALUE or KEY:=JSON, got {pair!r}")
        if key.endswith(":"):
            try:
                out[key[:-1]] = json.loads(value)
            except ValueError as e:
                raise SystemExit(f"hallq send: {pair!r} is not KEY:=JSON ({e})") from e
        else:
            out[key] = value
    return out


async def _send(args: argparse.Namespace, token: str) -> int:
    client = HubClient(args.hub, args.device, token,
                       on_event=lambda e: print(json.dumps(e, ensure_ascii=False), flush=True))
    try:
        await client.start(timeout=10)
    except HubUnavailable as e:
        print(f"hallq send: {e}", file=sys.stderr)
        return 2
    except TimeoutError:
        print(f"hallq send: no answer from the hub at {args.hub}", file=sys.stderr)
        await client.close()
        return 2
    reply = await client.request(args.command, timeout=10, **parse_args(args.args))
    print(json.dumps(reply, ensure_ascii=False, indent=1), flush=True)
    if args.listen:
        await asyncio.sleep(args.listen)
    await client.close()
    return 0 if reply.get("ok") else 1


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    token = args.token
    if token is None:
        token = device_for(load_config(args.config, device=args.device), args.device, None).token
    return asyncio.run(_send(args, token))
