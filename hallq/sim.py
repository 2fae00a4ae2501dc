"""`hallq sim bus|idcard|led|printer …`: run a device simulator from the command line."""

from __future__ import annotations

import argparse
import importlib

SIMULATORS = {
    "bus": "drivers.bus.simulator",  # caller keypads and evaluator pads on one RS-485 line
    "idcard": "drivers.idcard.simulator",  # an ID-card reader (SAM serial protocol)
    "led": "drivers.led.simulator",  # a line of LED strips (gbk-color or bx5)
    "printer": "drivers.printer.simulator",  # a network ESC/POS printer (port 9100)
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("device", choices=sorted(SIMULATORS))
    parser.add_argument("options", nargs=argparse.REMAINDER,
                        help="the simulator's own options (hallq sim DEVICE --help)")


def run(args: argparse.Namespace) -> int:
    return importlib.import_module(SIMULATORS[args.device]).main(args.options) or 0
