"""`hallq terminal`: the clerk's window terminal, a bar beside their work.

    hallq terminal --config config/hall.toml --device term-1
    hallq terminal --device term-1 --headless --shots out/term --script steps.json
"""

from __future__ import annotations

import argparse
import sys

from caller.core.cli import add_device_options, exits_on_config_error
from caller.core.config import ConfigError, device_key, load_config
from caller.terminal.options import TerminalOptions, terminal_options
from caller.terminal.strings import LANGUAGES, strings

SIZE = (1280, 220)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_options(parser, "terminal")
    parser.add_argument("--window", help="start on this window (a device bound to several)")
    parser.add_argument("--lang", default="zh", choices=sorted(LANGUAGES))
    parser.add_argument("--headless", action="store_true", help="render off screen (tests, CI)")
    parser.add_argument("--no-top", action="store_true", help="do not keep the bar above others")
    parser.add_argument("--shots", metavar="DIR", help="where --script saves screenshots and record.json")
    parser.add_argument("--script", metavar="FILE", help="JSON steps to run, then exit (see script.py)")


def start_window(options: TerminalOptions, path: str, device: str, window: str | None) -> str:
    """The window to start on: `--window`, which must be one of the device's, or its first."""
    if window is not None and window not in options.windows:
        raise ConfigError(path, [f"{device_key(device)}.windows: --window {window} is not one of "
                                 + ", ".join(options.windows)])
    return window or options.windows[0]


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, device=args.device)
    options = terminal_options(config, args.device)
    window = start_window(options, config.path, args.device, args.window)
    if args.script and not args.shots:
        print("hallq terminal: --script needs --shots DIR", file=sys.stderr)
        return 2

    from caller.kivyapp import prepare, use_cjk_font

    prepare(headless=args.headless, size=SIZE)
    use_cjk_font(config.hall.font)
    from caller.kivyapp import ScriptError, load_script
    from caller.terminal.app import TerminalApp
    from caller.terminal.script import VERBS, TerminalScript

    try:
        steps = load_script(args.script, VERBS) if args.script else None
    except ScriptError as e:
        print(f"hallq terminal: script {args.script}: {e}", file=sys.stderr)
        return 2
    app = TerminalApp(config, args.device, window, args.hub, options.shortcuts, strings(args.lang),
                      on_top=not (args.headless or args.no_top), ask_case_no=options.ask_case_no)
    if steps is None:
        app.run()
        return 0
    runner = TerminalScript(app, steps, args.shots)
    app.bind(on_start=lambda _a: runner.start())
    app.run()
    return 0 if runner.ok else 1
