"""`hallq check-config PATH`: validate a hall config; print every problem or a summary.

It checks what the hub and every program would check when they start: the loader's
checks (tokens strictly, as the hub loads them), and each program's `options.py` for
every device of that program's role. The config layer may
not import the programs, so this top layer names them in `PROGRAM_OPTIONS` and hands
them to the loader. Exit status 2 when the config is refused, as for every program.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from caller.central.shipper import read_dsn
from caller.core.cli import exits_on_config_error
from caller.core.config import HallConfig, OptionsParser, default_config_path, load_config
from caller.counter import options as counter
from caller.manager.stats import RankingWeights
from caller.terminal import options as terminal
from display.led import options as led
from display.wall import options as wall
from kiosk import options as kiosk

# Role -> the parser of the program that runs devices of that role.
PROGRAM_OPTIONS: Mapping[str, OptionsParser] = {
    "kiosk": kiosk.parse,
    "terminal": terminal.parse,
    "counter": counter.parse,
    "display": wall.parse,
    "led": led.parse,
}


def load_checked(path: str, strict: bool = True) -> HallConfig:
    """Load `path` as the hub and every program would: ConfigError with all their problems
    (the 流动红旗 weights as `hallq report` reads them; with `[central]`, the DSN file as
    `hallq ship` reads it)."""
    config = load_config(path, strict=strict, checks=PROGRAM_OPTIONS)
    RankingWeights.of_config(config)
    if config.central is not None:
        read_dsn(config)
    return config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=str(default_config_path()),
                        help="the hall config (default: the demo hall)")


def summary(config: HallConfig) -> str:
    hall = config.hall
    hours = "、".join(str(s) for s in hall.hours) or "全天"
    lines = [f"{hall.name} ({config.path})",
             f"  hours {hours}; reset at {hall.reset_time:%H:%M}; {len(hall.holidays)} holidays",
             f"  {len(config.services)} services:"]
    if hall.demo:
        lines.insert(1, "  demo hall: tokens not checked; the hub serves it on loopback only")
    for s in config.services.values():
        caps = f", cap {s.daily_cap}/day" if s.daily_cap else ""
        caps += f", {len(s.segment_caps)} segment caps" if s.segment_caps else ""
        green = ", green channel" if s.green_channel else ""
        windows = ",".join(w.id for w in config.windows_for_service(s.id))
        lines.append(f"    {s.prefix}  {s.id:<10} {s.name}  windows {windows}; "
                     f"{len(s.materials)} materials{caps}{green}")
    lines.append(f"  {len(config.windows)} windows:")
    for w in config.windows.values():
        weights = " ".join(f"{sid}={wt}" for sid, wt in w.services.items())
        backup = f"; backup {w.backup}" if w.backup else ""
        lines.append(f"    {w.id:<4} {w.name}  {weights}{backup}")
    lines.append(f"  {len(config.devices)} devices:")
    for d in config.devices.values():
        bound = f" windows {','.join(d.windows)}" if d.windows else ""
        lines.append(f"    {d.id:<12} {d.role}{bound}")
    if config.central is not None:
        c = config.central
        lines.append(f"  ships to the centre as hall {hall.id} ({hall.level}, region {hall.region_code}): "
                     f"device {c.device}, batches of {c.batch_size}, alert past {c.backlog_max} unshipped"
                     f", personal data {'shipped' if c.personal_data else 'kept in the hall'}")
    return "\n".join(lines)


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    config = load_checked(args.path)
    print(summary(config))
    print("config OK")
    return 0
