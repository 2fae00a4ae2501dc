"""`hallq kiosk`: the touchscreen where citizens take a number.

    hallq kiosk --config config/hall.toml --device kiosk-1 --hub ws://127.0.0.1:8765/
    hallq kiosk ... --windowed --size 1280x800        # try it on a desktop
    hallq kiosk ... --headless --script s.txt --shots out/shots   # tests, see kiosk.script
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from caller.core.cli import add_device_options, exits_on_config_error
from caller.core.config import load_config
from drivers.fonts import FontNotFound, find_cjk_font
from kiosk.options import kiosk_options

LANDSCAPE = (1920, 1080)


def _size(value: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT like 1920x1080, got {value!r}") from None
    if width < 320 or height < 320:
        raise argparse.ArgumentTypeError(f"{value!r} is too small for a kiosk (at least 320x320)")
    return width, height


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_options(parser, "kiosk", default="kiosk-1")
    parser.add_argument("--printer", help="printer URL for this run instead of the config's (\"\" for none)")
    parser.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    parser.add_argument("--size", type=_size, help="window size WIDTHxHEIGHT (default 1920x1080)")
    parser.add_argument("--portrait", action="store_true",
                        help="a portrait screen: the default size becomes 1080x1920")
    parser.add_argument("--headless", action="store_true", help="no display (tests, bench)")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="starting language")
    parser.add_argument("--idle-timeout", type=float, default=30.0,
                        help="seconds without a touch before going back home (default 30)")
    parser.add_argument("--script", type=Path, help="steps to run, then exit (see kiosk.script)")
    parser.add_argument("--shots", type=Path, default=Path("out/kiosk-shots"),
                        help="where --script writes screenshots and run.json")


def _fail(message: str) -> int:
    print(f"hallq kiosk: {message}", file=sys.stderr)
    return 2


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, device=args.device)
    options = kiosk_options(config, args.device)
    try:
        font = find_cjk_font(config.hall.font)
    except FontNotFound as e:
        return _fail(f"cannot show Chinese: {e}")
    size = args.size or (LANDSCAPE[::-1] if args.portrait else LANDSCAPE)
    printer = args.printer if args.printer is not None else options.printer
    if args.printer:
        from drivers.printer.backends import check_printer_url

        try:
            check_printer_url(printer)
        except ValueError as e:
            return _fail(str(e))

    from caller.kivyapp import prepare, use_cjk_font

    # Keep sys.stderr ours: in its default mode Kivy swallows it (and our tracebacks).
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    prepare(headless=args.headless, size=size, fullscreen=not (args.windowed or args.headless))
    use_cjk_font(font)
    from kiosk.app import KioskApp, KioskSettings  # imports Kivy's window: after prepare()
    from kiosk.script import ScriptError, load
    from kiosk.script_runner import KioskScript

    script = None
    if args.script is not None:
        try:
            script = KioskScript(None, load(args.script), args.shots)
        except ScriptError as e:
            return _fail(f"script {args.script}: {e}")

    settings = KioskSettings(
        config=config, device=args.device, token=config.devices[args.device].token,
        hub_url=args.hub, printer_url=printer, paper_mm=options.paper_mm,
        print_mode=options.print_mode, priority_entry=options.priority_entry, font_path=font,
        idle_timeout=args.idle_timeout, lang=args.lang,
        idcard=options.idcard, idcard_backend=options.idcard_backend,
        idcard_baudrate=options.idcard_baudrate,
        scanner=options.scanner, scanner_baudrate=options.scanner_baudrate)
    KioskApp(settings, script).run()
    if script is not None and not script.ok:
        why = script.error or f"stopped after {script.done} steps, before the script's end"
        print(f"hallq kiosk: script failed: {why}", file=sys.stderr)
        return 1
    return 0
