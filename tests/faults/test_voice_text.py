"""Control characters and an endless text from the hub never reach the TTS engine: the call
is spoken exactly as its clean text, and a huge one is cut short (real espeak-ng, WAV files)."""

from __future__ import annotations

import time

from display.voice.announcer import Announcer, VoiceSettings
from drivers.audio.out import SAMPLE_RATE, WavDirSink, read_wav

WAIT_S = 60  # generous: the wait ends as soon as the worker is done


def call(ticket_id: int, number: str, announce: str) -> dict:
    return {"ticket": {"number": number, "id": ticket_id}, "window": "3", "recalls": 0,
            "announce": announce}


def test_a_call_with_control_characters_sounds_like_its_clean_text(tmp_path) -> None:
    settings = VoiceSettings(rate=260, repeat=1, chime=False, cache_dir=str(tmp_path / "cache"))
    announcer = Announcer(settings, WavDirSink(tmp_path / "out"))
    try:
        announcer.announce(call(1, "A001", "请A001号到3号窗口办理"), time.monotonic())
        announcer.announce(call(2, "A0\x0001", "请A0\x1b01号\x00到3号\u202e窗口\x07办理"),
                           time.monotonic())
        announcer.announce(call(3, "A002", "请A002号到" + "很长的窗口名" * 2000 + "办理"),
                           time.monotonic())
        assert announcer.wait_idle(WAIT_S)
        assert announcer.stats.spoken == 3 and announcer.stats.failed == 0
    finally:
        announcer.close(drain=False)
    clean, dirty, huge = (read_wav(p) for p in sorted((tmp_path / "out").glob("*.wav")))
    assert dirty == clean
    # Cut to ANNOUNCE_MAX_CHARS, it reads in well under half a minute; 12,000 would take many minutes.
    assert len(huge) < 30 * SAMPLE_RATE
