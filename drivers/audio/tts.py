"""Text to speech into WAV files, through pyttsx3 (SAPI5 on Windows, NSSpeech on macOS, espeak-ng
on Linux) or the ``espeak-ng`` program.

On Linux the program is tried first and pyttsx3 only when the program is missing, because
pyttsx3 2.99's espeak driver cannot be trusted with files: espeak synthesises on its own thread
and ``runAndWait`` can return before the file is written (pyttsx3 issue #219). Under CPU load we
measured files missing and files spoken at the previous call's rate; and its loop only ends when
espeak reports the end of the message, so a lost report hangs the caller for good (#194) with no
way to time out. The program gives the same audio in a child process with a timeout. Elsewhere
pyttsx3 comes first, with the program as fallback.

pyttsx3 keeps one engine per process: it is created once, primed with an empty run (the first
run of a new espeak engine always returns early), never released (releasing it unregisters
espeak's callback), and guarded by one lock. A ``TtsEngine`` may be used only from the thread
that used it first.

Mandarin on espeak-ng: the ``cmn`` voice (latin as English) reads the pinyin its dictionary
produces with English rules ("请" comes out as "qing three"); ``cmn-latn-pinyin`` reads the same
text correctly, so it is preferred for "cmn"/"zh".
"""

import atexit
import functools
import logging
import os
import shutil
import subprocess
import sys
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drivers.errors import DeviceError

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install espeak-ng (Debian/Ubuntu: apt install espeak-ng; Windows: a Chinese SAPI5 voice "
    "such as Microsoft Huihui; macOS: the Ting-Ting voice)"
)
_MANDARIN = ("cmn-latn-pinyin", "cmn", "zh-cn", "zh")
_VOICE_PREFERENCES = {
    "cmn": _MANDARIN,
    "zh": _MANDARIN,
    "yue": ("yue", "zh-yue", "zh-hk"),
    "en": ("en-us", "en-gb", "en"),
}
_SYNTH_TIMEOUT_S = 30
_pyttsx3_lock = threading.Lock()


class TtsUnavailable(DeviceError, RuntimeError):
    """No speech engine or no matching voice on this machine."""


class TtsError(DeviceError, RuntimeError):
    """The engine ran but did not produce audio."""


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]


def pick_voice(voices: list[VoiceInfo], wanted: str) -> VoiceInfo | None:
    """The best voice for ``wanted`` ("cmn", "zh", "yue", "en", or a voice id / language tag)."""
    for preference in _VOICE_PREFERENCES.get(wanted.lower(), (wanted.lower(),)):
        for voice in voices:
            if _matches(voice, preference):
                return voice
    return None


def _matches(voice: VoiceInfo, preference: str) -> bool:
    voice_id = voice.id.lower()
    languages = {language.lower().replace("_", "-") for language in voice.languages}
    return voice_id == preference or voice_id.endswith("/" + preference) or preference in languages


class _Backend(Protocol):
    name: str

    def voices(self) -> list[VoiceInfo]: ...

    def synthesize(
        self, text: str, wav_path: Path, voice: VoiceInfo, rate: int, volume: float
    ) -> None: ...


class _Pyttsx3Backend:
    name = "pyttsx3"

    def __init__(self) -> None:
        with _pyttsx3_lock:
            self._engine = _shared_pyttsx3_engine()

    def voices(self) -> list[VoiceInfo]:
        with _pyttsx3_lock:
            found = self._engine.getProperty("voices")
        return [VoiceInfo(v.id, v.name or v.id, tuple(v.languages or ())) for v in found]

    def synthesize(
        self, text: str, wav_path: Path, voice: VoiceInfo, rate: int, volume: float
    ) -> None:
        with _pyttsx3_lock:
            self._engine.setProperty("voice", voice.id)
            self._engine.setProperty("rate", rate)
            self._engine.setProperty("volume", volume)
            # The espeak driver prints "Audio saved to ..." for every file. Redirecting stdout
            # would swallow other threads' output too, so the line is left alone.
            self._engine.save_to_file(text, os.fspath(wav_path))
            self._engine.runAndWait()


class _EspeakNgBackend:
    name = "espeak-ng"

    def __init__(self) -> None:
        program = shutil.which("espeak-ng")
        if program is None:
            raise TtsUnavailable(f"espeak-ng program not found: {INSTALL_HINT}")
        self._program = program

    def voices(self) -> list[VoiceInfo]:
        listing = subprocess.run(
            [self._program, "--voices"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
        # Columns: Pty Language Age/Gender VoiceName File [Other languages]
        rows = (line.split() for line in listing.splitlines()[1:])
        return [VoiceInfo(row[4], row[3], (row[1],)) for row in rows if len(row) >= 5]

    def synthesize(
        self, text: str, wav_path: Path, voice: VoiceInfo, rate: int, volume: float
    ) -> None:
        amplitude = str(round(max(0.0, min(volume, 2.0)) * 100))
        command = [self._program, "-v", voice.id, "-s", str(rate), "-a", amplitude]
        subprocess.run(
            [*command, "-w", os.fspath(wav_path), "--stdin"],
            input=text.encode("utf-8"),
            capture_output=True,
            check=True,
            timeout=_SYNTH_TIMEOUT_S,
        )


@functools.cache
def _shared_pyttsx3_engine():
    import pyttsx3

    engine = pyttsx3.init()
    engine.runAndWait()  # the priming run: see the module docstring
    # Released before interpreter teardown, when pyttsx3's finaliser can still run cleanly.
    atexit.register(_shared_pyttsx3_engine.cache_clear)
    return engine


_BACKENDS = {"pyttsx3": _Pyttsx3Backend, "espeak-ng": _EspeakNgBackend}
_AUTO_ORDER = ("espeak-ng", "pyttsx3") if sys.platform.startswith("linux") else tuple(_BACKENDS)


class TtsEngine:
    """Speaks text into WAV files with one chosen voice.

    ``backend`` is "pyttsx3", "espeak-ng", or "auto": both, in the platform's order (see the
    module docstring), moving to the next when one is missing, has no matching voice, or fails
    to produce audio.
    """

    def __init__(
        self, voice: str = "cmn", rate: int = 150, volume: float = 1.0, backend: str = "auto"
    ) -> None:
        if backend not in (*_BACKENDS, "auto"):
            expected = ", ".join(("auto", *_BACKENDS))
            raise ValueError(f"unknown TTS backend {backend!r}; expected one of {expected}")
        self.wanted_voice = voice
        self.rate = rate
        self.volume = volume
        self._candidates = list(_AUTO_ORDER) if backend == "auto" else [backend]
        self._owner: int | None = None
        self._backend, self.voice = self._open_next()

    @property
    def backend_name(self) -> str:
        return self._backend.name

    def synthesize(self, text: str, wav_path: str | os.PathLike[str]) -> Path:
        """Write ``text`` spoken to ``wav_path`` (a WAV file with at least one frame)."""
        if not text.strip():
            raise ValueError("nothing to say: empty text")
        self._check_thread()
        path = Path(wav_path)
        while True:
            try:
                self._backend.synthesize(text, path, self.voice, self.rate, self.volume)
                _require_audio(path, text)
                return path
            except (OSError, RuntimeError, subprocess.SubprocessError, wave.Error) as error:
                failed = self._backend.name
                if not self._candidates:
                    raise TtsError(f"{failed} could not speak {text!r}: {error}") from error
                log.warning("%s failed (%s); trying %s", failed, error, self._candidates[0])
                self._backend, self.voice = self._open_next()

    def _open_next(self) -> tuple[_Backend, VoiceInfo]:
        failures = []
        while self._candidates:
            name = self._candidates.pop(0)
            try:
                backend = _BACKENDS[name]()
                voice = pick_voice(backend.voices(), self.wanted_voice)
            except Exception as error:  # a broken engine install can fail in many ways
                failures.append(f"{name}: {error}")
                continue
            if voice is not None:
                return backend, voice
            failures.append(f"{name}: no voice for {self.wanted_voice!r}")
        raise TtsUnavailable(f"no speech engine works ({'; '.join(failures)}): {INSTALL_HINT}")

    def _check_thread(self) -> None:
        me = threading.get_ident()
        if self._owner is None:
            self._owner = me
        elif self._owner != me:
            raise RuntimeError("a TtsEngine may be used only by the thread that first used it")


def _require_audio(path: Path, text: str) -> None:
    with wave.open(os.fspath(path), "rb") as wav:
        if wav.getnframes() == 0:
            raise TtsError(f"empty audio for {text!r}")
