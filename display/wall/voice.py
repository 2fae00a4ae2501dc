"""The TV wall's voice: the glue between the wall's
`ticket_called` events and `display.voice.announcer.Announcer` (which owns its worker thread; nothing
here blocks).

It also keeps, per spoken call, when the wall got the event, when its first sample went to the
sink and when the sink was done, for `hallq.benches.voice`.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict

from caller.core.config import HallConfig
from display.voice.announcer import Announcer, VoiceSettings
from drivers.audio.out import AudioSink

TIMINGS_KEPT = 500


def warm_texts(config: HallConfig, window_ids: Iterable[str]) -> list[str]:
    """The announcement of a sample ticket at each window the wall shows, so the words of every
    window are synthesised before the first call."""
    texts = []
    for wid in window_ids:
        window = config.windows[wid]
        for sid in window.services:
            service = config.services[sid]
            texts.append(config.calling.announce.format(
                number=f"{service.prefix}001", window_name=window.name, window=window.id,
                service_name=service.name))
    return list(dict.fromkeys(texts))


class _TimedSink:
    """Passes audio on to the real sink and notes when each call was handed over and done."""

    def __init__(self, inner: AudioSink, voice: WallVoice) -> None:
        self._inner = inner
        self._voice = voice

    def play(self, samples: array, *, seq: int, number: str, recalls: int) -> None:
        self._inner.play(samples, seq=seq, number=number, recalls=recalls)
        self._voice._written(number, recalls, time.monotonic())


class WallVoice:
    """What the wall calls when a call is shown; counts what was queued and spoken."""

    def __init__(self, settings: VoiceSettings, sink: AudioSink, texts: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._received: dict[tuple[str, int], float] = {}
        self._first_sample: dict[tuple[str, int], float] = {}
        self.timings: deque[dict] = deque(maxlen=TIMINGS_KEPT)
        self.announced = 0
        self.max_pending = 0
        self._ready = False
        self.announcer = Announcer(settings, _TimedSink(sink, self),
                                   on_first_sample=self._on_first_sample, warm_texts=texts)

    def called(self, event: dict, received_at: float) -> None:
        """Queue one `ticket_called` event for speaking (returns at once)."""
        self._note(self._received, event, received_at)
        self.announcer.announce(event, received_at)
        self.announced += 1
        self.max_pending = max(self.max_pending, self.announcer.pending)

    def status(self) -> dict:
        stats = asdict(self.announcer.stats)
        idle = self.announcer.wait_idle(0)
        self._ready = self._ready or idle  # idle once: the cache is warm
        return {"enabled": True, "ready": self._ready, "idle": idle, "announced": self.announced,
                "pending": self.announcer.pending, "max_pending": self.max_pending,
                "max_queue": self.announcer.config.max_queue, **stats}

    def close(self) -> None:
        self.announcer.close(drain=False, timeout=10)

    def _on_first_sample(self, payload: dict, at: float) -> None:
        self._note(self._first_sample, payload, at)

    def _note(self, moments: dict[tuple[str, int], float], call: dict, at: float) -> None:
        """Remember when something happened to a call; calls never spoken are forgotten later."""
        with self._lock:
            moments[(call["ticket"]["number"], int(call.get("recalls", 0)))] = at
            while len(moments) > TIMINGS_KEPT:
                moments.pop(next(iter(moments)))

    def _written(self, number: str, recalls: int, at: float) -> None:
        key = (number, recalls)
        with self._lock:
            self.timings.append({"number": number, "recalls": recalls,
                                 "event_at": self._received.pop(key, None),
                                 "first_sample_at": self._first_sample.pop(key, None),
                                 "written_at": at})
