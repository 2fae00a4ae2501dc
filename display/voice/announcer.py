"""The voice announcer: turns ``ticket_called`` events into a chime and a spoken call.

One worker thread owns the TTS engine and the sink; ``Announcer.announce`` only queues. Calls are
spoken one at a time in the order they arrived. A call waiting longer than ``max_age_s`` is
dropped, a newer call of the same ticket (a recall, or a call to another window after a transfer)
replaces its waiting older call, and the queue keeps only the newest ``max_queue`` calls.

Audio is assembled from cached pieces: the spoken text (see ``display.voice.reading``) is cut into
phrases and spelled items, each piece is synthesised once, trimmed and kept as a WAV in
``cache_dir``, and a call is their concatenation with short pauses. Letters, digits and the
pieces of ``warm_texts`` are synthesised at start, so a call costs a few file reads. Pieces were
chosen over whole sentences because nearly every sentence is new (a new ticket number), so a
sentence cache would miss on almost every call. Measured with espeak-ng: a call from warm pieces
is assembled in under 1 ms, a whole sentence takes about 15 ms to synthesise (SAPI5 and NSSpeech
are slower), and both come out about 5 s long at rate 150.

The hub's announcement text is cleaned first (``caller.core.text.clean``: no control characters)
and cut to ``ANNOUNCE_MAX_CHARS``.
"""

import hashlib
import logging
import os
import re
import string
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from caller.core.text import clean
from display.voice.reading import DIGIT_WORDS, spoken_text
from drivers.audio.chime import load_chime
from drivers.audio.out import AudioSink, concat, read_wav, silence, trim_silence, write_wav
from drivers.audio.tts import TtsEngine

log = logging.getLogger(__name__)

WORD_GAP_S = 0.06
PHRASE_GAP_S = 0.2
AFTER_CHIME_S = 0.25
REPEAT_GAP_S = 0.8
# A call reads in a few seconds; a longer text from the hub would hold up every later call.
ANNOUNCE_MAX_CHARS = 80
_PHRASE_SEPARATOR = re.compile(r"\s*[，,]\s*")
_DEFAULT_VOICES = {"zh": "cmn", "yue": "yue", "en": "en"}


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hallq" / "voice"


@dataclass(frozen=True)
class VoiceSettings:
    voice: str | None = None  # None: the usual voice for ``lang`` (cmn, yue, en)
    rate: int = 150  # words per minute, as espeak-ng counts them
    volume: float = 1.0
    repeat: int = 2
    chime: bool = True
    chime_path: str | None = None  # a WAV file; None: the generated ding-dong
    max_age_s: float = 60.0
    max_queue: int = 20
    lang: str = "zh"
    one: str = "一"  # how 1 is read inside ticket numbers: 一 or 幺
    cache_dir: str | None = None  # None: default_cache_dir()
    backend: str = "auto"  # TTS backend: auto, pyttsx3, espeak-ng


@dataclass(frozen=True)
class VoiceStats:
    spoken: int = 0
    dropped_stale: int = 0
    superseded: int = 0
    dropped_overflow: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Call:
    payload: dict
    received_at: float
    ticket_key: tuple[str, str]
    number: str
    recalls: int
    text: str


def speech_pieces(spoken: str) -> list[list[str]]:
    """Phrases of cacheable pieces: each spelled item alone, runs of words kept together."""
    phrases = []
    for phrase in _PHRASE_SEPARATOR.split(spoken):
        pieces: list[str] = []
        words: list[str] = []
        for item in phrase.split():
            if len(item) == 1:
                pieces.extend([" ".join(words)] if words else [])
                words = []
                pieces.append(item)
            else:
                words.append(item)
        pieces.extend([" ".join(words)] if words else [])
        if pieces:
            phrases.append(pieces)
    return phrases


class PhraseCache:
    """Synthesised, silence-trimmed pieces of speech, in memory and as WAVs in ``directory``."""

    def __init__(self, engine: TtsEngine, directory: str | os.PathLike[str]) -> None:
        self._engine = engine
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, array] = {}

    def path_for(self, text: str) -> Path:
        engine = self._engine
        key = f"{engine.backend_name}|{engine.voice.id}|{engine.rate}|{engine.volume}|{text}"
        return self.directory / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".wav")

    def get(self, text: str) -> array:
        """Samples of ``text`` spoken, synthesising it on first use."""
        cached = self._memory.get(text)
        if cached is not None:
            return cached
        path = self.path_for(text)
        if not path.exists():
            raw = path.with_suffix(".raw.wav")
            self._engine.synthesize(text, raw)
            partial = path.with_suffix(".part")
            write_wav(partial, trim_silence(read_wav(raw)))
            partial.replace(path)
            raw.unlink()
        samples = read_wav(path)
        self._memory[text] = samples
        return samples


class Announcer:
    """Speaks ``ticket_called`` payloads through ``sink`` from one worker thread.

    ``received_at`` values and ``max_age_s`` are measured with ``clock`` (time.monotonic).
    ``on_first_sample(payload, t)`` is called from the worker just before an announcement's audio
    is handed to the sink. Raises the TTS engine's error (e.g. ``TtsUnavailable``) if it cannot
    start.
    """

    def __init__(
        self,
        config: VoiceSettings,
        sink: AudioSink,
        *,
        on_first_sample: Callable[[dict, float], None] | None = None,
        warm_texts: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if config.voice is None:
            config = replace(config, voice=_DEFAULT_VOICES.get(config.lang, config.lang))
        self.config = config
        self._sink = sink
        self._on_first_sample = on_first_sample
        self._warm_texts = list(warm_texts)
        self._clock = clock
        self._queue: deque[_Call] = deque()
        self._cond = threading.Condition()
        self._stats = VoiceStats()
        self._busy = True  # until the engine is open and the cache warm
        self._closing = False
        self._start_error: BaseException | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voice-announcer", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error

    @property
    def stats(self) -> VoiceStats:
        with self._cond:
            return self._stats

    @property
    def pending(self) -> int:
        """Calls waiting to be spoken (not counting the one being spoken)."""
        with self._cond:
            return len(self._queue)

    def announce(self, called_payload: dict, received_at: float) -> None:
        """Queue one call for speaking; returns at once."""
        ticket = called_payload.get("ticket") or {}
        number = clean(ticket.get("number", ""))
        text = clean(called_payload.get("announce"), ANNOUNCE_MAX_CHARS)
        if not text:
            log.warning("call without announce text ignored: %r", called_payload)
            return
        ticket_id = ticket.get("id")
        key = ("id", str(ticket_id)) if ticket_id is not None else ("number", number)
        call = _Call(
            called_payload, received_at, key, number, int(called_payload.get("recalls", 0)), text
        )
        with self._cond:
            if self._closing:
                raise RuntimeError("the announcer is closed")
            older = [waiting for waiting in self._queue if waiting.ticket_key == key]
            for waiting in older:
                self._queue.remove(waiting)
            self._count(superseded=len(older))
            self._queue.append(call)
            while len(self._queue) > self.config.max_queue:
                dropped = self._queue.popleft()
                self._count(dropped_overflow=1)
                log.warning(
                    "voice queue full (%d): dropped %s", self.config.max_queue, dropped.number
                )
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or being spoken; False if ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, drain: bool = True, timeout: float | None = None) -> None:
        """Stop the worker: after speaking what is queued (``drain``), or after the current call."""
        with self._cond:
            self._closing = True
            if not drain and self._queue:
                log.info("voice announcer closing: %d calls not spoken", len(self._queue))
                self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout)

    def _count(self, **increments: int) -> None:
        self._stats = replace(
            self._stats, **{name: getattr(self._stats, name) + n for name, n in increments.items()}
        )

    def _run(self) -> None:
        config = self.config
        try:
            engine = TtsEngine(config.voice or "", config.rate, config.volume, config.backend)
            cache = PhraseCache(engine, config.cache_dir or default_cache_dir())
            chime = load_chime(config.chime_path, config.volume) if config.chime else None
        except BaseException as error:  # reported to the constructor, which re-raises it
            self._start_error = error
            self._started.set()
            return
        self._started.set()
        try:
            self._warm(cache)
        except Exception:
            log.exception("voice cache warm-up failed; pieces will be synthesised on demand")
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return
                call = self._queue.popleft()
                self._busy = True
            try:
                self._speak(call, cache, chime)
            except Exception:
                log.exception("could not announce %s", call.number)
                with self._cond:
                    self._count(failed=1)

    def _warm(self, cache: PhraseCache) -> None:
        config = self.config
        if config.lang == "en":
            pieces = [*string.ascii_uppercase, *string.digits]
        else:
            pieces = [*string.ascii_uppercase, *DIGIT_WORDS.replace("一", config.one), "号"]
        for text in self._warm_texts:
            spoken = spoken_text(text, config.lang, one=config.one)
            pieces.extend(piece for phrase in speech_pieces(spoken) for piece in phrase)
        for piece in dict.fromkeys(pieces):
            cache.get(piece)

    def _speak(self, call: _Call, cache: PhraseCache, chime: array | None) -> None:
        config = self.config
        if self._clock() - call.received_at > config.max_age_s:
            log.info("call of %s dropped: waited over %s s", call.number, config.max_age_s)
            with self._cond:
                self._count(dropped_stale=1)
            return
        spoken = spoken_text(call.text, config.lang, one=config.one, codes=[call.number])
        speech = self._render(spoken, cache)
        parts = [chime, silence(AFTER_CHIME_S)] if chime is not None else []
        for i in range(max(1, config.repeat)):
            parts.extend([silence(REPEAT_GAP_S), speech] if i else [speech])
        audio = concat(parts)
        with self._cond:
            seq = self._stats.spoken + 1
        if self._on_first_sample is not None:
            self._on_first_sample(call.payload, self._clock())
        self._sink.play(audio, seq=seq, number=call.number, recalls=call.recalls)
        with self._cond:
            self._count(spoken=1)

    @staticmethod
    def _render(spoken: str, cache: PhraseCache) -> array:
        parts: list[array] = []
        for p, phrase in enumerate(speech_pieces(spoken)):
            if p:
                parts.append(silence(PHRASE_GAP_S))
            for i, piece in enumerate(phrase):
                if i:
                    parts.append(silence(WORD_GAP_S))
                parts.append(cache.get(piece))
        return concat(parts)
