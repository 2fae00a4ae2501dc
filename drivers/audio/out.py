"""Audio for announcements: 16-bit mono PCM at one rate, WAV files, and where sound goes.

Everything is kept as ``array("h")`` samples at ``SAMPLE_RATE`` (espeak-ng's native rate), so
chime and speech concatenate without conversion; other WAVs are converted when read.

Sinks take a finished announcement and block until it has been played (``SystemAudioSink``) or
written (``WavDirSink``, the ``--voice-out DIR`` mode used by tests and the headless demo).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from drivers.errors import DeviceError

SAMPLE_RATE = 22050
_FULL_SCALE = 32767
_PLAYERS = (("aplay", "-q"), ("paplay",), ("pw-play",), ("afplay",), ("play", "-q"))


class AudioUnavailable(DeviceError, RuntimeError):
    """No way to play sound on this machine."""


class AudioSink(Protocol):
    def play(self, samples: array, *, seq: int, number: str, recalls: int) -> None:
        """Play (or store) one whole announcement; return when done."""


def read_wav(path: str | os.PathLike[str]) -> array:
    """Samples of a PCM WAV file as 16-bit mono at SAMPLE_RATE (mixed down, resampled)."""
    with wave.open(os.fspath(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    samples = _to_int16(frames, width)
    if channels > 1:
        samples = array(
            "h",
            (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)),
        )
    return resample(samples, rate, SAMPLE_RATE)


def write_wav(path: str | os.PathLike[str], samples: array) -> None:
    """Write samples as a 16-bit mono WAV at SAMPLE_RATE."""
    with wave.open(os.fspath(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(_little_endian(samples))


def resample(samples: array, from_rate: int, to_rate: int) -> array:
    """Linear-interpolation resampling; plenty for speech and a chime."""
    if from_rate == to_rate or not samples:
        return array("h", samples)
    count = max(1, round(len(samples) * to_rate / from_rate))
    step = from_rate / to_rate
    last = len(samples) - 1
    out = array("h", bytes(2 * count))
    for i in range(count):
        position = i * step
        left = min(int(position), last)
        right = min(left + 1, last)
        fraction = position - left
        out[i] = round(samples[left] + (samples[right] - samples[left]) * fraction)
    return out


def silence(seconds: float) -> array:
    return array("h", bytes(2 * round(seconds * SAMPLE_RATE)))


def concat(parts: Iterable[array]) -> array:
    joined = array("h")
    for part in parts:
        joined.extend(part)
    return joined


def trim_silence(samples: array, threshold: float = 0.01, margin_s: float = 0.01) -> array:
    """Drop leading and trailing audio quieter than ``threshold`` of full scale, keeping a
    ``margin_s`` margin so soft consonants are not clipped."""
    limit = threshold * _FULL_SCALE
    first = next((i for i, value in enumerate(samples) if abs(value) > limit), None)
    if first is None:
        return array("h")
    last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > limit)
    margin = round(margin_s * SAMPLE_RATE)
    return samples[max(0, first - margin) : last + 1 + margin]


def duration(samples: array) -> float:
    return len(samples) / SAMPLE_RATE


def find_player(search_path: str | None = None) -> list[str] | None:
    """Command line of the first installed WAV player (aplay, paplay, pw-play, afplay, sox play)."""
    for name, *options in _PLAYERS:
        found = shutil.which(name, path=search_path)
        if found:
            return [found, *options]
    return None


class SystemAudioSink:
    """Plays each announcement through the machine's speakers."""

    def __init__(self, search_path: str | None = None) -> None:
        self._player = None if sys.platform == "win32" else find_player(search_path)
        if sys.platform != "win32" and self._player is None:
            raise AudioUnavailable(
                "no audio player found (tried aplay, paplay, pw-play, afplay, play): install "
                "alsa-utils, pulseaudio-utils or pipewire-bin, or write WAV files with "
                "--voice-out DIR"
            )

    def play(self, samples: array, *, seq: int, number: str, recalls: int) -> None:
        fd, name = tempfile.mkstemp(prefix=f"hallq-{seq}-", suffix=".wav")
        os.close(fd)
        try:
            write_wav(name, samples)
            if self._player is None:
                import winsound

                winsound.PlaySound(name, winsound.SND_FILENAME)
            else:
                subprocess.run([*self._player, name], check=True, timeout=duration(samples) + 30)
        finally:
            Path(name).unlink(missing_ok=True)


class WavDirSink:
    """Writes each announcement to ``DIR/<seq>-<number>-<recalls>.wav`` instead of playing it."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path_for(self, seq: int, number: str, recalls: int) -> Path:
        safe_number = re.sub(r"[^0-9A-Za-z_-]", "_", number) or "_"
        return self.directory / f"{seq:04d}-{safe_number}-{recalls}.wav"

    def play(self, samples: array, *, seq: int, number: str, recalls: int) -> None:
        target = self.path_for(seq, number, recalls)
        partial = target.with_suffix(".part")
        write_wav(partial, samples)
        partial.replace(target)  # whoever watches the directory never sees half a file


def _to_int16(frames: bytes, width: int) -> array:
    if width == 1:  # 8-bit WAV is unsigned
        return array("h", ((b - 128) << 8 for b in frames))
    if width == 2:
        samples = array("h", frames)
        if sys.byteorder == "big":
            samples.byteswap()
        return samples
    if width in (3, 4):  # keep the two most significant bytes of each little-endian sample
        return array(
            "h",
            (
                int.from_bytes(frames[i + width - 2 : i + width], "little", signed=True)
                for i in range(0, len(frames), width)
            ),
        )
    raise ValueError(f"unsupported WAV sample width: {width} bytes")


def _little_endian(samples: array) -> bytes:
    if sys.byteorder == "big":
        swapped = array("h", samples)
        swapped.byteswap()
        return swapped.tobytes()
    return samples.tobytes()
