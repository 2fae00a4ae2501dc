"""The `hallq` command: one entry point, one sub-command per program.

Only the chosen sub-command's module is imported, so the hub never loads Kivy and a
broken optional part never stops the others. Each module has `add_arguments(parser)`
and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "check-config": ("hallq.check_config", "validate a hall config and print a summary"),
    "hub": ("caller.hub.main", "run the hall's websocket hub"),
    "send": ("caller.manager.send_cli", "send one command to the hub and print the reply and events"),
    "kiosk": ("kiosk.main", "the touchscreen where citizens take a number"),
    "terminal": ("caller.terminal.main", "the clerk's window terminal"),
    "display": ("display.wall.main", "the TV wall with voice announcements"),
    "counter": ("caller.counter.main", "bridge for caller keypads and evaluators on RS-485"),
    "led": ("display.led.main", "bridge for the LED strips over the windows"),
    "sim": ("hallq.sim", "device simulators: bus (keypads/evaluators), idcard reader, led strips, printer"),
    "cases": ("caller.manager.cases_cli", "follow up bad ratings (差评整改) and acknowledge alerts"),
    "staff": ("caller.manager.staff_cli", "the staff roster (人员名册): add, list, disable, photo"),
    "report": ("caller.central.report_cli",
               "statistics for managers: xlsx, csv, json, charts; --central: across halls"),
    "web": ("web.main", "the hall manager's browser console (大厅管理控制台)"),
    "demo": ("hallq.demo", "run the whole hall on one machine"),
    "bench": ("hallq.bench", "measure the hub against its goals"),
    "ship": ("hallq.ship", "copy the hub's event log to the central PostgreSQL (docs/central.md)"),
    "backup": ("caller.hub.backup", "copy the hub's database safely while it runs"),
    "purge": ("caller.hub.purge", "erase personal data past [personal] retention_days now"),
    "token": ("caller.manager.token_cli", "make fresh random device tokens (hallq token new DEVICE)"),
    "secret": ("caller.manager.secret_cli", "make the hall secret for ID-card tickets (secret new FILE)"),
}


def _usage() -> str:
    lines = ["usage: hallq COMMAND [options]   (hallq COMMAND --help for its options)", "",
             "commands:"]
    lines += [f"  {name:<13} {help_text}" for name, (_, help_text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name = argv[0]
    if name not in COMMANDS:
        print(f"hallq: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, help_text = COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            print(f"hallq: '{name}' is not available in this build", file=sys.stderr)
            return 2
        raise
    parser = argparse.ArgumentParser(prog=f"hallq {name}", description=help_text)
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv[1:])) or 0


if __name__ == "__main__":
    sys.exit(main())
