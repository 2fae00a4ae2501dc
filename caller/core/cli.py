"""What every hallq program's command line shares: `--config`, `--device`, `--hub`, and
how a config problem ends a program (the problems on stderr, exit status 2).

    def add_arguments(parser):
        add_device_options(parser, "counter")
        parser.add_argument("--port", ...)

    @exits_on_config_error
    def run(args) -> int:
        config = load_config(args.config, device=args.device)
        ...
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable

from caller.core.config import ConfigError, default_config_path

DEFAULT_HUB = "ws://127.0.0.1:8765/"
CONFIG_ERROR_EXIT = 2


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=str(default_config_path()),
                        help="the hall config (TOML; default: the demo hall)")


def add_hub_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", default=DEFAULT_HUB,
                        help=f"the hub's websocket URL (default {DEFAULT_HUB})")


def add_device_option(parser: argparse.ArgumentParser, role: str | None,
                      default: str | None = None) -> None:
    """`--device` (of `role`; None: any): required unless the program has a usual device."""
    parser.add_argument("--device", default=default, required=default is None,
                        help=f"the id of {f'a {role} device' if role else 'a device'} in the "
                        "config" + (f" (default {default})" if default else ""))


def add_device_options(parser: argparse.ArgumentParser, role: str,
                       default: str | None = None) -> None:
    """`--config`, `--device` and `--hub`: what a device program needs to join the hall."""
    add_config_option(parser)
    add_device_option(parser, role, default)
    add_hub_option(parser)


def exits_on_config_error(run: Callable[[argparse.Namespace], int]
                          ) -> Callable[[argparse.Namespace], int]:
    """Wrap a program's `run(args)`: a ConfigError prints every problem and returns 2."""

    @functools.wraps(run)
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ConfigError as e:
            print(e, file=sys.stderr)
            return CONFIG_ERROR_EXIT

    return wrapped


def region_prefix(text: str) -> str:
    """A `--region` argument: the leading 2 to 12 digits of a 行政区划代码."""
    if not re.fullmatch(r"\d{2,12}", text):
        raise argparse.ArgumentTypeError(f"expected the leading digits of a 行政区划代码 "
                                         f"(2 to 12 digits), got {text!r}")
    return text
