"""`hallq check-config PATH`: validate a hall config as the hub loads it (tokens too);
print every problem or a summary."""

from __future__ import annotations

import argparse
import sys

from caller.core.config import ConfigError, HallConfig, default_config_path, load_config


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
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.path, strict=True)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 1
    print(summary(config))
    print("config OK")
    return 0
