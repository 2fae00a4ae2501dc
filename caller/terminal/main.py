"""`hallq terminal`: the clerk's window terminal, a bar beside their work.

    hallq terminal --config config/hall.toml --device term-1
    hallq terminal --device term-1 --headless --shots out/term --script steps.json
"""

from __future__ import annotations

import argparse
import sys

from caller.core.config import ConfigError, HallConfig, default_config_path, load_config
from caller.terminal.shortcuts import device_shortcuts
from caller.terminal.strings import TABLES, Strings

SIZE = (1280, 220)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=str(default_config_path()), help="hall config (TOML)")
    parser.add_argument("--device", required=True, help="this terminal's device id, e.g. term-1")
    parser.add_argument("--hub", default="ws://127.0.0.1:8765/", help="the hub's websocket URL")
    parser.add_argument("--window", help="start on this window (a device bound to several)")
    parser.add_argument("--lang", default="zh", choices=sorted(TABLES))
    parser.add_argument("--headless", action="store_true", help="render off screen (tests, CI)")
    parser.add_argument("--no-top", action="store_true", help="do not keep the bar above others")
    parser.add_argument("--shots", metavar="DIR", help="where --script saves screenshots and record.json")
    parser.add_argument("--script", metavar="FILE", help="JSON steps to run, then exit (see script.py)")


def check_device(config: HallConfig, device: str, window: str | None) -> str:
    """The window to start on; raise ConfigError when the device cannot be a terminal."""
    where = f"devices (id {device!r})"
    d = config.devices.get(device)
    if d is None:
        raise ConfigError(config.path, [f"devices: no device {device!r}; terminals here: "
                                        + ", ".join(i for i, x in config.devices.items()
                                                    if x.role == "terminal")])
    if d.role != "terminal":
        raise ConfigError(config.path, [f"{where}.role: expected \"terminal\", got {d.role!r}"])
    if window is not None and window not in d.windows:
        raise ConfigError(config.path, [f"{where}.windows: --window {window} is not one of "
                                        + ", ".join(d.windows)])
    return window or d.windows[0]


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config, device=args.device)
        window = check_device(config, args.device, args.window)
        shortcuts = device_shortcuts(config, args.device)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
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
    app = TerminalApp(config, args.device, window, args.hub, shortcuts, Strings(args.lang),
                      on_top=not (args.headless or args.no_top))
    if steps is None:
        app.run()
        return 0
    runner = TerminalScript(app, steps, args.shots)
    app.bind(on_start=lambda _a: runner.start())
    app.run()
    return 0 if runner.ok else 1
