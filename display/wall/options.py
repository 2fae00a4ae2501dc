"""A display device's options from the hall config, checked as `hallq display` needs them:
the area it shows, its orientation, whether it marks appointments and remote tickets, and
its voice (`voice_*` keys -> VoiceSettings)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from caller.core.config import ConfigError, Device, HallConfig, device_for, device_key
from display.voice.announcer import VoiceSettings
from display.voice.reading import LANGUAGES

ORIENTATIONS = ("landscape", "portrait")
VOICE_BACKENDS = ("auto", "pyttsx3", "espeak-ng")


class VoiceOption(NamedTuple):
    field: str  # the VoiceSettings field it sets
    kind: type | tuple[type, ...]
    expected: str
    fits: Callable[[Any], bool] = lambda _value: True


# Device option (in the hall config's [[devices]] table of a display) -> VoiceSettings field.
VOICE_OPTIONS: dict[str, VoiceOption] = {
    "voice": VoiceOption("voice", str, "a voice id or language, e.g. \"cmn\"", bool),
    "voice_lang": VoiceOption("lang", str, ", ".join(LANGUAGES), lambda v: v in LANGUAGES),
    "voice_rate": VoiceOption("rate", int, "words per minute from 80 to 450, e.g. 150",
                              lambda v: 80 <= v <= 450),
    "voice_volume": VoiceOption("volume", (int, float), "a number from 0.0 to 1.0",
                                lambda v: 0 <= v <= 1),
    "voice_repeat": VoiceOption("repeat", int, "how many times each call is said, 1 to 5",
                                lambda v: 1 <= v <= 5),
    "voice_chime": VoiceOption("chime", bool, "true or false"),
    "voice_chime_file": VoiceOption("chime_path", str, "the path of a WAV file", bool),
    "voice_one": VoiceOption("one", str, "\"一\" or \"幺\"", lambda v: v in ("一", "幺")),
    "voice_max_queue": VoiceOption("max_queue", int, "a whole number of calls, e.g. 20",
                                   lambda v: v >= 1),
    "voice_max_age_s": VoiceOption("max_age_s", (int, float), "seconds, more than 0, e.g. 60",
                                   lambda v: v > 0),
    "voice_backend": VoiceOption("backend", str, ", ".join(VOICE_BACKENDS),
                                 lambda v: v in VOICE_BACKENDS),
}


@dataclass(frozen=True)
class DisplayOptions:
    area: str  # "": every window
    window_ids: tuple[str, ...]  # the windows the wall shows and announces
    portrait: bool
    mark_arrivals: bool  # the call says 预约 or 线上取号 for tickets not from the kiosk
    voice: VoiceSettings


def parse(config: HallConfig, device: Device) -> DisplayOptions:
    """The options of a display the loader accepted; ConfigError listing every bad key."""
    options = device.options
    key = device_key(device.id)
    problems = []
    area = options["area"]
    areas = sorted({w.area for w in config.windows.values() if w.area})
    if not isinstance(area, str) or (area and area not in areas):
        problems.append(f"{key}.area: expected one of the windows' areas "
                        f"({', '.join(areas) or 'none set'}), got {area!r}")
    orientation = options["orientation"]
    if orientation not in ORIENTATIONS:
        problems.append(f"{key}.orientation: expected \"landscape\" or \"portrait\", "
                        f"got {orientation!r}")
    mark = options["mark_arrivals"]
    if not isinstance(mark, bool):
        problems.append(f"{key}.mark_arrivals: expected true or false, got {mark!r}")
    voice: dict[str, Any] = {}
    for name, option in VOICE_OPTIONS.items():
        if name not in options:
            continue
        value = options[name]
        if ((isinstance(value, bool) and option.kind is not bool)
                or not isinstance(value, option.kind) or not option.fits(value)):
            problems.append(f"{key}.{name}: expected {option.expected}, got {value!r}")
        else:
            voice[option.field] = value
    if problems:
        raise ConfigError(config.path, problems)
    return DisplayOptions(
        area=area, window_ids=tuple(w.id for w in config.windows.values()
                                    if not area or w.area == area),
        portrait=orientation == "portrait", mark_arrivals=mark, voice=VoiceSettings(**voice))


def display_options(config: HallConfig, device_id: str) -> DisplayOptions:
    return parse(config, device_for(config, device_id, "display"))
