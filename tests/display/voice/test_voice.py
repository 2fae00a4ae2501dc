"""The announcer, end to end into WAV files (the --voice-out DIR mode)."""

import threading
import time
from array import array
from contextlib import contextmanager
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from display.voice.announcer import (
    AFTER_CHIME_S,
    REPEAT_GAP_S,
    Announcer,
    PhraseCache,
    VoiceSettings,
    speech_pieces,
)
from drivers.audio.chime import make_chime
from drivers.audio.out import SAMPLE_RATE, WavDirSink, read_wav
from drivers.audio.tts import TtsEngine, TtsUnavailable

WAIT_S = 60  # generous: these waits end as soon as the worker is done


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("voice-cache")


@pytest.fixture
def settings(cache_dir) -> VoiceSettings:
    return VoiceSettings(rate=260, repeat=2, cache_dir=str(cache_dir))


def called(number: str, window: str = "3", recalls: int = 0, ticket_id: int | None = None):
    return {
        "ticket": {"number": number, "id": ticket_id if ticket_id is not None else number},
        "window": window,
        "window_name": f"{window}号窗口",
        "recalls": recalls,
        "announce": f"请{number}号到{window}号窗口办理",
    }


@contextmanager
def running(settings, sink, **options):
    announcer = Announcer(settings, sink, **options)
    try:
        yield announcer
    finally:
        announcer.close(drain=False)
        assert not any(t.name == "voice-announcer" for t in threading.enumerate())


class RecordingSink(WavDirSink):
    """A real WAV directory sink that notes when each write starts and ends."""

    def __init__(self, directory):
        super().__init__(directory)
        self.spans: list[tuple[int, float, float]] = []

    def play(self, samples, *, seq, number, recalls):
        start = time.monotonic()
        super().play(samples, seq=seq, number=number, recalls=recalls)
        self.spans.append((seq, start, time.monotonic()))


class GatedSink(RecordingSink):
    """Holds the first announcement until the test opens the gate."""

    def __init__(self, directory):
        super().__init__(directory)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def play(self, samples, *, seq, number, recalls):
        self.entered.set()
        assert self.gate.wait(WAIT_S)
        super().play(samples, seq=seq, number=number, recalls=recalls)


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.wav"))


def test_five_calls_give_five_wavs_in_call_order_each_starting_with_the_chime(settings, tmp_path):
    sink = RecordingSink(tmp_path / "out")
    with running(settings, sink) as announcer:
        for n in range(1, 6):
            announcer.announce(called(f"A{n:03d}", window=str(n)), time.monotonic())
        assert announcer.wait_idle(WAIT_S)
        assert announcer.stats.spoken == 5
    assert names(tmp_path / "out") == [f"{n:04d}-A{n:03d}-0.wav" for n in range(1, 6)]
    chime = make_chime(settings.volume)
    for name in names(tmp_path / "out"):
        audio = read_wav(tmp_path / "out" / name)
        assert audio[: len(chime)] == chime
        gap = audio[len(chime) : len(chime) + round(AFTER_CHIME_S * SAMPLE_RATE)]
        assert not any(gap)
        assert max(audio[len(chime) + len(gap) :]) > 3000  # then speech
    spans = sorted(sink.spans)
    assert [seq for seq, _, _ in spans] == [1, 2, 3, 4, 5]
    for (_, _, end), (_, next_start, _) in pairwise(spans):
        assert end <= next_start  # never two announcements at once


def test_length_grows_by_one_sentence_and_one_pause_per_repeat(settings, tmp_path):
    lengths = []
    for repeat in (1, 2, 3):
        out = tmp_path / f"r{repeat}"
        with running(replace(settings, repeat=repeat), WavDirSink(out)) as a:
            a.announce(called("B042", window="12"), time.monotonic())
            assert a.wait_idle(WAIT_S)
        lengths.append(len(read_wav(out / "0001-B042-0.wav")))
    step = lengths[1] - lengths[0]
    assert lengths[2] - lengths[1] == step
    sentence_s = step / SAMPLE_RATE - REPEAT_GAP_S
    assert 1.0 < sentence_s < 6.0
    chime_and_pause = len(make_chime()) + round(AFTER_CHIME_S * SAMPLE_RATE)
    assert lengths[0] == chime_and_pause + step - round(REPEAT_GAP_S * SAMPLE_RATE)


def test_without_chime_the_call_starts_with_speech(settings, tmp_path):
    with running(replace(settings, chime=False), WavDirSink(tmp_path)) as a:
        a.announce(called("A001"), time.monotonic())
        assert a.wait_idle(WAIT_S)
    audio = read_wav(tmp_path / "0001-A001-0.wav")
    assert max(abs(v) for v in audio[: SAMPLE_RATE // 10]) > 1000


def test_a_burst_keeps_the_queue_bounded_drops_stale_calls_and_recalls_supersede(settings, tmp_path):
    sink = GatedSink(tmp_path / "out")
    config = replace(settings, max_queue=5, max_age_s=60)
    with running(config, sink) as announcer:
        announcer.announce(called("Z000"), time.monotonic())
        assert sink.entered.wait(WAIT_S)  # the worker is busy with Z000 from here on
        now = time.monotonic()
        for n in range(1, 95):
            announcer.announce(called(f"A{n:03d}"), now)
        announcer.announce(called("S001"), now - 3600)  # waited an hour: stale
        announcer.announce(called("R001", ticket_id=500), now)
        announcer.announce(called("A095"), now)
        announcer.announce(called("A096"), now)
        announcer.announce(called("R001", window="4", recalls=1, ticket_id=500), now)
        assert announcer.pending == 5
        sink.gate.set()
        assert announcer.wait_idle(WAIT_S)
        stats = announcer.stats
    assert names(tmp_path / "out") == [
        "0001-Z000-0.wav",
        "0002-A094-0.wav",
        "0003-A095-0.wav",
        "0004-A096-0.wav",
        "0005-R001-1.wav",
    ]
    assert (stats.spoken, stats.dropped_stale, stats.superseded) == (5, 1, 1)
    assert stats.dropped_overflow == 100 - 1 - 5 - 1  # all but the first, the 5 kept, R001 r0
    spans = sorted(sink.spans)
    for (_, _, end), (_, next_start, _) in pairwise(spans):
        assert end <= next_start


def test_first_sample_hook_sees_every_spoken_call_in_order(settings, tmp_path):
    seen = []
    sink = RecordingSink(tmp_path)
    hook = lambda payload, t: seen.append((payload["ticket"]["number"], t))  # noqa: E731
    with running(settings, sink, on_first_sample=hook) as announcer:
        received = time.monotonic()
        for number in ("C001", "C002", "C003"):
            announcer.announce(called(number), received)
        assert announcer.wait_idle(WAIT_S)
    assert [number for number, _ in seen] == ["C001", "C002", "C003"]
    starts = [start for _, start, _ in sorted(sink.spans)]
    assert all(received <= t <= start for (_, t), start in zip(seen, starts, strict=True))


def test_close_without_drain_drops_what_is_waiting(settings, tmp_path):
    sink = GatedSink(tmp_path)
    announcer = Announcer(settings, sink)
    announcer.announce(called("D001"), time.monotonic())
    assert sink.entered.wait(WAIT_S)
    announcer.announce(called("D002"), time.monotonic())
    closer = threading.Thread(target=announcer.close, kwargs={"drain": False})
    closer.start()
    sink.gate.set()
    closer.join()
    assert names(tmp_path) == ["0001-D001-0.wav"]
    with pytest.raises(RuntimeError, match="closed"):
        announcer.announce(called("D003"), time.monotonic())


def test_close_with_drain_speaks_everything_queued(settings, tmp_path):
    announcer = Announcer(settings, WavDirSink(tmp_path))
    for number in ("E001", "E002"):
        announcer.announce(called(number), time.monotonic())
    announcer.close()
    assert names(tmp_path) == ["0001-E001-0.wav", "0002-E002-0.wav"]


def test_a_call_that_cannot_be_read_is_counted_and_the_next_is_spoken(cache_dir, tmp_path):
    config = VoiceSettings(lang="en", rate=260, cache_dir=str(cache_dir))
    with running(config, WavDirSink(tmp_path)) as announcer:
        announcer.announce({**called("F001"), "announce": "暂停服务"}, time.monotonic())
        announcer.announce(called("F002"), time.monotonic())
        assert announcer.wait_idle(WAIT_S)
        assert (announcer.stats.failed, announcer.stats.spoken) == (1, 1)
    assert names(tmp_path) == ["0001-F002-0.wav"]


def test_the_cache_is_warm_after_start_so_a_call_needs_no_synthesis(settings, tmp_path):
    warm = ["请A001号到7号窗口办理"]
    with running(settings, WavDirSink(tmp_path), warm_texts=warm) as announcer:
        assert announcer.wait_idle(WAIT_S)
    engine = TtsEngine(settings.voice or "cmn", settings.rate, settings.volume)
    cache = PhraseCache(engine, settings.cache_dir)
    pieces = ["请", "A", "零", "九", "号", "到七号窗口办理"]
    assert all(cache.path_for(piece).exists() for piece in pieces)
    cached = sorted(Path(settings.cache_dir).glob("*.wav"))
    assert cached and not list(Path(settings.cache_dir).glob("*.part"))
    audio = cache.get("到七号窗口办理")
    assert isinstance(audio, array) and len(audio) > SAMPLE_RATE // 2


def test_speech_is_cut_into_reusable_pieces():
    assert speech_pieces("请，A 零 二 三 号，到三号窗口办理") == [
        ["请"],
        ["A", "零", "二", "三", "号"],
        ["到三号窗口办理"],
    ]
    assert speech_pieces("Number A, 0 2 3, please go to window 12") == [
        ["Number", "A"],
        ["0", "2", "3"],
        ["please go to window 12"],
    ]


def test_an_announcer_that_cannot_speak_says_so_at_start(settings, tmp_path):
    config = replace(settings, voice="xx-no-such-voice")
    with pytest.raises(TtsUnavailable, match="espeak-ng"):
        Announcer(config, WavDirSink(tmp_path))
    assert not any(t.name == "voice-announcer" for t in threading.enumerate())
