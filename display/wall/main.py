"""`hallq display`: the TV wall with voice announcements.

    hallq display --config config/hall.toml --device wall-1 --hub ws://127.0.0.1:8765/
    hallq display --device wall-1 --headless --voice-out out/voice --shots out/wall

Fullscreen by default (`--windowed` for a window). Voice goes to the speakers, to WAV files
with `--voice-out DIR`, or nowhere with `--no-voice`. `--shots DIR` takes a screenshot once
connected and exits; with `--script FILE` it runs the steps in FILE (see `display.wall.script`).
"""

from __future__ import annotations

import argparse
import logging
import sys

from caller.core.cli import add_device_options, exits_on_config_error
from caller.core.config import HallConfig, load_config
from display.voice.announcer import VoiceSettings
from display.wall.options import display_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_device_options(parser, "display", default="wall-1")
    parser.add_argument("--portrait", action="store_true",
                        help="portrait layout (also: orientation = \"portrait\" in the config)")
    parser.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    parser.add_argument("--size", type=_size, metavar="WxH", help="window size, e.g. 1920x1080")
    parser.add_argument("--headless", action="store_true", help="render off screen (tests, CI)")
    parser.add_argument("--voice-out", metavar="DIR", help="write each announcement as a WAV in DIR")
    parser.add_argument("--no-voice", action="store_true", help="no announcements")
    parser.add_argument("--shots", metavar="DIR", help="save screenshots and status to DIR, then exit")
    parser.add_argument("--script", metavar="FILE",
                        help="JSON steps to run, or - to read them from stdin (needs --shots DIR)")
    parser.add_argument("--lang", default="zh", choices=["zh", "en"], help="language on screen")
    parser.add_argument("--rows", type=int, default=8, help="rows in the recent calls list")
    parser.add_argument("--flash", type=float, default=8.0, metavar="S",
                        help="how long a new call flashes, in seconds")
    parser.add_argument("--log-level", default="WARNING")


def _size(value: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 1920x1080, got {value!r}") from None
    if width < 200 or height < 200:
        raise argparse.ArgumentTypeError(f"too small: {value}")
    return width, height


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.script and not args.shots:
        print("hallq display: --script needs --shots DIR for its output", file=sys.stderr)
        return 2
    config = load_config(args.config, device=args.device)
    wall = display_options(config, args.device)
    window_ids = list(wall.window_ids)
    portrait = args.portrait or wall.portrait
    design = (1080, 1920) if portrait else (1920, 1080)
    size = args.size or (design if args.headless else
                         (design[0] // 2, design[1] // 2) if args.windowed else None)

    from caller.kivyapp import prepare, use_cjk_font

    prepare(headless=args.headless, size=size, fullscreen=not (args.windowed or args.headless))
    use_cjk_font(config.hall.font)
    logging.getLogger().setLevel(args.log_level)  # Kivy's start-up lowers it

    voice, voice_status = _start_voice(args, wall.voice, config, window_ids)

    from display.wall.app import WallApp, WallOptions

    served = {sid for wid in window_ids for sid in config.windows[wid].services}
    options = WallOptions(
        hub_url=args.hub, device=args.device, token=config.devices[args.device].token,
        hall_name=config.hall.name,
        timezone=config.hall.timezone,
        windows=[(wid, config.windows[wid].name) for wid in window_ids],
        services=[(s.id, s.name) for s in config.services.values() if s.id in served],
        area=wall.area, portrait=portrait, lang=args.lang, rows=args.rows, flash_s=args.flash,
        mark_arrivals=wall.mark_arrivals)
    app = WallApp(options, voice=voice, voice_status=voice_status)
    runner = None
    if args.shots:
        from kivy.clock import Clock

        from caller.kivyapp import ScriptError
        from display.wall.script import WallScript, load

        try:
            runner = WallScript(app, load(args.script), args.shots)
        except ScriptError as e:
            print(f"hallq display: script {args.script}: {e}", file=sys.stderr)
            return 2
        Clock.schedule_once(lambda _dt: runner.start(), 0)
    app.run()
    if runner is None:
        return 0
    return 1 if runner.exit_code is None else runner.exit_code


def _start_voice(args: argparse.Namespace, settings: VoiceSettings, config: HallConfig,
                 window_ids: list[str]):
    """(WallVoice, None), or (None, why there is no voice)."""
    if args.no_voice:
        return None, {"enabled": False, "reason": "--no-voice"}
    from display.wall.voice import WallVoice, warm_texts
    from drivers.audio.out import AudioUnavailable, SystemAudioSink, WavDirSink
    from drivers.audio.tts import TtsUnavailable

    try:
        sink = WavDirSink(args.voice_out) if args.voice_out else SystemAudioSink()
        return WallVoice(settings, sink, warm_texts(config, window_ids)), None
    except (AudioUnavailable, TtsUnavailable) as e:
        logging.getLogger(__name__).warning("the wall runs without voice: %s", e)
        return None, {"enabled": False, "reason": str(e)}
