"""The "ding-dong" played before each announcement: generated, or a configured WAV file."""

import math
import os
from array import array

from drivers.audio.out import SAMPLE_RATE, read_wav

# A falling major third, E5 then C5, like a door chime.
DING_HZ = 659.25
DONG_HZ = 523.25
_DONG_START_S = 0.45
_TONE_S = 1.0
_DECAY_S = 0.3
_ATTACK_S = 0.005
_RELEASE_S = 0.1  # fade to zero at the end, or the cut-off is heard as a click
# Overtones (multiple of the fundamental, relative level) give the tones a soft bell colour.
_PARTIALS = ((1.0, 1.0), (2.0, 0.3), (3.0, 0.1))
_PEAK = 0.6


def make_chime(volume: float = 1.0) -> array:
    """A two-tone chime as 16-bit mono samples at SAMPLE_RATE, peak 60 % of full scale."""
    length = round((_DONG_START_S + _TONE_S) * SAMPLE_RATE)
    mix = [0.0] * length
    for frequency, start_s in ((DING_HZ, 0.0), (DONG_HZ, _DONG_START_S)):
        offset = round(start_s * SAMPLE_RATE)
        for n in range(round(_TONE_S * SAMPLE_RATE)):
            t = n / SAMPLE_RATE
            fades = min(1.0, t / _ATTACK_S, (_TONE_S - t) / _RELEASE_S)
            envelope = fades * math.exp(-t / _DECAY_S)
            mix[offset + n] += envelope * sum(
                level * math.sin(2 * math.pi * frequency * multiple * t)
                for multiple, level in _PARTIALS
            )
    scale = _PEAK * max(0.0, min(volume, 1.0)) * 32767 / max(abs(v) for v in mix)
    return array("h", (round(v * scale) for v in mix))


def load_chime(path: str | os.PathLike[str] | None, volume: float = 1.0) -> array:
    """The configured chime file (converted to SAMPLE_RATE mono, scaled by ``volume``), or the
    generated one."""
    if path is None:
        return make_chime(volume)
    gain = max(0.0, min(volume, 1.0))
    return array("h", (round(v * gain) for v in read_wav(path)))
