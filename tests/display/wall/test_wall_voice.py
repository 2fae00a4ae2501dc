"""The wall's options (area, orientation, voice) from the device, and calls spoken into real WAVs."""

from __future__ import annotations

import time
import wave
from dataclasses import replace

import pytest

from caller.core.config import ConfigError, load_config
from display.wall.options import display_options
from display.wall.voice import WallVoice, warm_texts
from drivers.audio.out import WavDirSink
from drivers.audio.tts import TtsEngine, TtsUnavailable
from tests.hubproc import DEMO_CONFIG

CFG = load_config(DEMO_CONFIG)


def with_options(**options):
    wall = CFG.devices["wall-1"]
    return replace(CFG, devices={**CFG.devices,
                                 "wall-1": replace(wall, options={**wall.options, **options})})


def test_voice_settings_come_from_the_device_options():
    settings = display_options(with_options(voice_rate=180, voice_repeat=3, voice_chime=False,
                                            voice_volume=0.8), "wall-1").voice
    assert (settings.rate, settings.repeat, settings.chime, settings.volume) == (180, 3, False, 0.8)
    assert display_options(CFG, "wall-1").voice.repeat == 2  # defaults


def test_bad_voice_options_name_the_file_and_the_key():
    with pytest.raises(ConfigError) as e:
        display_options(with_options(voice_rate="fast", voice_chime=1), "wall-1")
    message = str(e.value)
    assert "hall.toml" in message and "voice_rate: expected words per minute" in message
    assert "voice_chime: expected true or false, got 1" in message


def test_an_area_must_exist_and_selects_its_windows():
    upstairs = display_options(with_options(area="二楼"), "wall-1")
    assert (upstairs.area, upstairs.window_ids) == ("二楼", ("6", "7"))
    with pytest.raises(ConfigError, match=r"wall-1'\)\.area: expected one of .*一楼.*三楼"):
        display_options(with_options(area="三楼"), "wall-1")
    with pytest.raises(ConfigError, match="role: expected \"display\""):
        display_options(CFG, "kiosk-1")


def test_every_shown_window_is_warmed():
    texts = warm_texts(CFG, ["6", "7"])
    assert "请E001号到6号窗口办理" in texts and "请F001号到7号窗口办理" in texts
    assert not any("1号窗口" in t for t in texts)


@pytest.fixture
def espeak():
    try:
        TtsEngine("cmn")
    except TtsUnavailable as e:
        pytest.skip(f"no speech engine: {e}")


def test_calls_are_spoken_into_wav_files_with_their_timings(tmp_path, espeak):
    settings = replace(display_options(CFG, "wall-1").voice, cache_dir=str(tmp_path / "cache"),
                       rate=260, repeat=1)
    voice = WallVoice(settings, WavDirSink(tmp_path / "out"), warm_texts(CFG, ["3"]))
    try:
        for number in ("B001", "B002"):
            event = {"ticket": {"id": number, "number": number}, "window": "3",
                     "window_name": "3号窗口", "recalls": 0, "announce": f"请{number}号到3号窗口办理"}
            voice.called(event, received_at=time.monotonic())
        assert voice.announcer.wait_idle(60)
        status = voice.status()
    finally:
        voice.close()
    assert status["spoken"] == 2 and status["announced"] == 2 and status["max_pending"] <= 20
    files = sorted(p.name for p in (tmp_path / "out").glob("*.wav"))
    assert files == ["0001-B001-0.wav", "0002-B002-0.wav"]
    with wave.open(str(tmp_path / "out" / files[0])) as wav:
        assert wav.getnframes() / wav.getframerate() > 1.0  # a chime and a sentence
    assert [t["number"] for t in voice.timings] == ["B001", "B002"]
    for t in voice.timings:
        assert t["event_at"] <= t["first_sample_at"] <= t["written_at"]
