"""`hallq led`: keep a line of LED window strips in step with the hub until SIGTERM/SIGINT.

    hallq led --config config/hall.toml --device led-a --hub ws://127.0.0.1:8765/
    hallq led --device led-a --port /tmp/hallq-led      # e.g. a simulator's link

The line, protocol, strip addresses and idle text come from the device's entry in the
hall config (see :mod:`display.led.bridge` for what each strip shows); ``--port`` overrides the
configured line. Exit status 2: a config problem or the hub refused the device.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from caller.core.client import HubUnavailable
from caller.core.config import ConfigError, default_config_path, load_config
from caller.core.protocol import Role
from display.led.bridge import LedBridge, LedSettings
from display.led.rules import STRINGS, StripTiming

DEFAULT_HUB = "ws://127.0.0.1:8765/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = StripTiming()
    parser.add_argument("--config", default=str(default_config_path()), help="hall config (TOML)")
    parser.add_argument("--device", required=True, help="id of an led device in the config")
    parser.add_argument("--hub", default=DEFAULT_HUB, help=f"hub URL (default {DEFAULT_HUB})")
    parser.add_argument("--port", help="serial port, pyserial URL or udp://host:port; "
                        "overrides the device's port")
    parser.add_argument("--frame-gap-ms", type=float, default=defaults.frame_gap_s * 1000,
                        help="quiet time between frames on the line (default %(default)s)")
    parser.add_argument("--rotate-s", type=float, default=defaults.rotate_s,
                        help="idle text and staff number alternate this often; 0: idle text "
                        "only (default %(default)s)")
    parser.add_argument("--lang", choices=sorted(STRINGS), default="zh")
    parser.add_argument("--log-level", default="INFO")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings, token = _settings(args)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    try:
        timing = StripTiming(frame_gap_s=args.frame_gap_ms / 1000, rotate_s=args.rotate_s)
    except ValueError as e:
        print(f"hallq led: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args.hub, args.device, token, settings, timing, args.lang))
    except HubUnavailable as e:
        print(f"hallq led: {e}", file=sys.stderr)
        return 2
    return 0


def _settings(args: argparse.Namespace) -> tuple[LedSettings, str]:
    config = load_config(args.config, device=args.device)
    device = config.devices.get(args.device)
    if device is None or device.role != Role.LED:
        leds = [d.id for d in config.devices.values() if d.role == Role.LED]
        raise ConfigError(config.path, [f"devices: no led device {args.device!r}; "
                                        f"expected one of {', '.join(leds) or '(none)'}"])
    settings = LedSettings.from_device(device, args.port)
    if problems := settings.problems():
        raise ConfigError(config.path, [f"devices (id {device.id!r}).{p}" for p in problems])
    return settings, device.token


async def _serve(hub: str, device: str, token: str, settings: LedSettings,
                 timing: StripTiming, lang: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises instead
            loop.add_signal_handler(signum, stop.set)
    async with LedBridge(hub, device, token, settings, timing=timing, lang=lang) as bridge:
        logging.getLogger("hallq.led").info(
            "LED strips (%s) on %s: windows %s", settings.protocol, settings.port,
            ", ".join(f"{w}->{a}" for w, a in settings.strips.items()))
        await bridge.serve(stop)
