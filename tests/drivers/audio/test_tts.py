"""The voice drivers: TTS into WAV files, the chime, WAV helpers and sinks."""

import math
import shutil
import subprocess
import sys
import threading
import wave
from array import array

import pytest

from drivers.audio.chime import DING_HZ, DONG_HZ, load_chime, make_chime
from drivers.audio.out import (
    SAMPLE_RATE,
    AudioUnavailable,
    SystemAudioSink,
    WavDirSink,
    concat,
    duration,
    read_wav,
    resample,
    silence,
    trim_silence,
    write_wav,
)
from drivers.audio.tts import TtsEngine, TtsUnavailable, VoiceInfo, pick_voice

CALL = "请，A 零 二 三 号，到三号窗口办理"
LINUX = sys.platform.startswith("linux")
BACKENDS = [
    # On Linux pyttsx3 drives espeak-ng with a race (see drivers.audio.tts) that shows under load.
    pytest.param("pyttsx3", marks=pytest.mark.skipif(LINUX, reason="racy espeak driver")),
    pytest.param(
        "espeak-ng",
        marks=pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed"),
    ),
]


def wav_facts(path) -> tuple[int, int, int, float, int]:
    with wave.open(str(path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        facts = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        seconds = wav.getnframes() / wav.getframerate()
    return (*facts, seconds, max(abs(v) for v in array("h", frames)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_call_sentence_becomes_a_wav_of_plausible_length(backend, tmp_path):
    engine = TtsEngine("cmn", rate=150, backend=backend)
    path = engine.synthesize(CALL, tmp_path / "call.wav")
    channels, width, rate, seconds, peak = wav_facts(path)
    assert (channels, width, rate) == (1, 2, SAMPLE_RATE)
    assert 1.0 < seconds < 8.0
    assert peak > 3000  # speech, not silence
    assert engine.backend_name == backend


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_faster_rate_gives_shorter_speech(backend, tmp_path):
    slow = TtsEngine("cmn", rate=110, backend=backend).synthesize(CALL, tmp_path / "slow.wav")
    fast = TtsEngine("cmn", rate=260, backend=backend).synthesize(CALL, tmp_path / "fast.wav")
    assert wav_facts(fast)[3] < 0.75 * wav_facts(slow)[3]


@pytest.mark.skipif(not (LINUX and shutil.which("espeak-ng")), reason="Linux with espeak-ng")
def test_linux_prefers_the_espeak_ng_program_and_pyttsx3_still_finds_mandarin():
    assert TtsEngine("cmn").backend_name == "espeak-ng"
    assert TtsEngine("cmn", backend="pyttsx3").voice.id.lower().endswith("cmn-latn-pinyin")


@pytest.mark.parametrize("voice", ["cmn", "zh", "yue", "en"])
def test_each_supported_language_has_a_voice(voice, tmp_path):
    engine = TtsEngine(voice, rate=200)
    text = "Number A, 0 2 3" if voice == "en" else "请，A 零 二 三 号"
    assert wav_facts(engine.synthesize(text, tmp_path / "v.wav"))[3] > 0.5


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed")
def test_the_mandarin_voice_reads_characters_in_mandarin():
    # espeak-ng's plain "cmn" voice switches to English for the pinyin of most characters
    # ("请" → "qing three"); the voice picked for Mandarin must not.
    engine = TtsEngine("cmn", backend="espeak-ng")
    phonemes = subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", engine.voice.id, "请三号到窗口办理"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "(en)" not in phonemes


def test_voice_choice_prefers_pinyin_mandarin_and_understands_other_engines_tags():
    espeak = [
        VoiceInfo("sit/cmn", "Chinese (Mandarin, latin as English)", ("cmn",)),
        VoiceInfo("sit/cmn-latn-pinyin", "Chinese (Mandarin, latin as Pinyin)", ("cmn-latn-pinyin",)),
        VoiceInfo("sit/yue", "Chinese (Cantonese)", ("yue",)),
    ]
    assert pick_voice(espeak, "zh").id == "sit/cmn-latn-pinyin"
    assert pick_voice(espeak, "cmn").id == "sit/cmn-latn-pinyin"
    assert pick_voice(espeak, "yue").id == "sit/yue"
    assert pick_voice(espeak, "sit/cmn").id == "sit/cmn"
    assert pick_voice(espeak, "en") is None
    sapi = [
        VoiceInfo("HKLM\\...\\TTS_MS_EN-US_ZIRA_11.0", "Microsoft Zira", ("en_US",)),
        VoiceInfo("HKLM\\...\\TTS_MS_ZH-CN_HUIHUI_11.0", "Microsoft Huihui", ("zh_CN",)),
    ]
    assert pick_voice(sapi, "cmn").name == "Microsoft Huihui"
    assert pick_voice(sapi, "en").name == "Microsoft Zira"


def test_a_missing_voice_names_what_to_install():
    with pytest.raises(TtsUnavailable, match="install espeak-ng"):
        TtsEngine("xx-no-such-voice")


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown TTS backend 'festival'"):
        TtsEngine("cmn", backend="festival")


def test_nothing_to_say_is_refused(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        TtsEngine("cmn").synthesize(" ", tmp_path / "x.wav")


def test_only_the_first_thread_may_use_an_engine(tmp_path):
    engine = TtsEngine("cmn", rate=250)
    engine.synthesize("请", tmp_path / "main.wav")
    errors = []

    def other_thread():
        try:
            engine.synthesize("请", tmp_path / "other.wav")
        except RuntimeError as error:
            errors.append(str(error))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert errors == ["a TtsEngine may be used only by the thread that first used it"]
    assert not (tmp_path / "other.wav").exists()


def dominant(samples: array, start_s: float, end_s: float, candidates: list[float]) -> float:
    """Which candidate frequency carries most energy in the window (a plain DFT bin)."""
    window = samples[round(start_s * SAMPLE_RATE) : round(end_s * SAMPLE_RATE)]

    def power(hz: float) -> float:
        w = 2 * math.pi * hz / SAMPLE_RATE
        re = sum(v * math.cos(w * n) for n, v in enumerate(window))
        im = sum(v * math.sin(w * n) for n, v in enumerate(window))
        return re * re + im * im

    return max(candidates, key=power)


def test_the_chime_is_a_ding_then_a_dong_without_clicks():
    chime = make_chime()
    assert 1.0 < duration(chime) < 2.0
    assert 0.55 * 32767 < max(abs(v) for v in chime) <= 0.6 * 32767 + 1
    assert abs(chime[0]) < 100 and max(abs(v) for v in chime[-50:]) < 100
    assert dominant(chime, 0.05, 0.35, [DING_HZ, DONG_HZ]) == DING_HZ
    assert dominant(chime, 0.8, 1.1, [DING_HZ, DONG_HZ]) == DONG_HZ


def test_chime_volume_scales_it():
    loud, soft = make_chime(1.0), make_chime(0.5)
    assert max(soft) == pytest.approx(max(loud) / 2, abs=2)


def test_a_configured_chime_file_is_converted_to_the_common_format(tmp_path):
    path = tmp_path / "bell.wav"
    stereo_44k = array("h")
    for n in range(44100):  # one second of 440 Hz, both channels
        value = round(10000 * math.sin(2 * math.pi * 440 * n / 44100))
        stereo_44k.extend((value, value))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(stereo_44k.tobytes())
    chime = load_chime(path)
    assert len(chime) == SAMPLE_RATE
    assert 9900 < max(chime) <= 10000
    assert load_chime(None) == make_chime()


def test_wav_round_trip_and_eight_bit_input(tmp_path):
    samples = array("h", [0, 1000, -1000, 32767, -32768])
    write_wav(tmp_path / "a.wav", samples)
    assert read_wav(tmp_path / "a.wav") == samples
    with wave.open(str(tmp_path / "b.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes([128, 255, 0]))
    assert read_wav(tmp_path / "b.wav") == array("h", [0, 127 << 8, -128 << 8])


def test_resampling_keeps_duration_and_shape():
    ramp = array("h", range(0, 1000, 10))
    doubled = resample(ramp, 11025, 22050)
    assert len(doubled) == 2 * len(ramp)
    assert doubled[0] == 0 and doubled[2] == 10 and doubled[1] == 5


def test_trim_silence_keeps_the_sound_and_a_margin():
    sound = array("h", [5000, -5000] * 100)
    padded = concat([silence(1.0), sound, silence(0.5)])
    trimmed = trim_silence(padded, margin_s=0.01)
    margin = round(0.01 * SAMPLE_RATE)
    assert len(trimmed) == len(sound) + 2 * margin
    assert trim_silence(silence(1.0)) == array("h")


def test_wav_dir_sink_names_files_by_sequence_number_and_recall(tmp_path):
    sink = WavDirSink(tmp_path / "voice")
    sink.play(array("h", [1, 2, 3]), seq=7, number="A023", recalls=1)
    sink.play(array("h", [4]), seq=8, number="../x", recalls=0)
    assert sorted(p.name for p in (tmp_path / "voice").iterdir()) == [
        "0007-A023-1.wav",
        "0008-___x-0.wav",
    ]
    assert read_wav(tmp_path / "voice" / "0007-A023-1.wav") == array("h", [1, 2, 3])


@pytest.mark.skipif(sys.platform == "win32", reason="Windows plays through winsound")
def test_no_audio_player_is_reported_with_what_to_install(tmp_path):
    with pytest.raises(AudioUnavailable, match=r"aplay.*--voice-out DIR"):
        SystemAudioSink(search_path=str(tmp_path))
