"""The `hallq` command: one entry point, one sub-command per program.

Sub-commands import their program lazily so that, say, the hub never loads Kivy.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help); each module has `add_arguments(parser)` and `run(args)`.
COMMANDS = {
    "check-config": ("hallq.check_config", "validate a hall config and print a summary"),
    "hub": ("caller.hub_main", "run the hall's websocket hub"),
    "send": ("caller.send", "send one command to the hub and print the reply and events"),


}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq", description="Queue calling for service halls")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return importlib.import_module(args._module).run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
