"""`hallq counter`: the bridge between one RS-485 line of keypads/evaluators and the hub.

    hallq counter --config config/hall.toml --device counter-a --hub ws://127.0.0.1:8765/ \\
        --staff 3=1003 --staff 4=1004

``--port`` overrides the line's port from the config (a device path such as
``/dev/ttyUSB0``, a relative path from the working directory, or a pyserial URL such as
``socket://10.0.0.5:4001`` or ``rfc2217://10.0.0.5:2217``). Each window on the line is
logged in with the staff number given by ``--staff WINDOW=STAFF`` (repeatable), or
``K<window>`` when none is given. Runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from caller.core.cli import add_device_options, exits_on_config_error
from caller.core.client import HubUnavailable
from caller.core.config import HallConfig, load_config
from caller.counter.bridge import CounterBridge
from caller.counter.rules import CounterSettings, counter_settings

log = logging.getLogger("hallq.counter")


def staff_pair(text: str) -> tuple[str, str]:
    """``3=1003`` → ("3", "1003")."""
    window, sep, staff = text.partition("=")
    if not sep or not window.strip() or not staff.strip():
        raise argparse.ArgumentTypeError(f"expected WINDOW=STAFF such as 3=1003, got {text!r}")
    return window.strip(), staff.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_options(parser, "counter")
    parser.add_argument("--port", help="serial port or pyserial URL, instead of the config's")
    parser.add_argument("--staff", type=staff_pair, action="append", default=[], metavar="WINDOW=STAFF",
                        help="log WINDOW in with this staff number (repeatable; default K<window>)")
    parser.add_argument("--log-level", default="INFO")


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.config, device=args.device)
    settings = counter_settings(config, args.device, port=args.port, staff=dict(args.staff))
    return asyncio.run(serve(config, settings, args.hub))


async def serve(config: HallConfig, settings: CounterSettings, hub_url: str) -> int:
    """Run the bridge until a signal; 2 when the hub refuses this device."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bridge = CounterBridge(config, settings, hub_url)
    await bridge.start()
    refused = asyncio.ensure_future(bridge.client.wait_connected(timeout=None))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({refused, stopping}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if refused.done() and isinstance(refused.exception(), HubUnavailable):
        log.error("%s", refused.exception())
        code = 2
    else:
        await stopping
    for task in (refused, stopping):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, HubUnavailable):
            await task
    await bridge.stop()
    return code
