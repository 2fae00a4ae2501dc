"""Limits per device and per address: rate limits on commands and a lockout after
failed hellos. Pure bookkeeping on a monotonic clock; the hub decides what to refuse.

The defaults are documented in `docs/protocol.md` ("Limits").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rate:
    per_s: float  # sustained rate
    burst: int  # how many may come at once


# Commands that reach the writer, per role; a few commands have a tighter limit of their own.
ROLE_RATES: dict[str, Rate] = {
    "kiosk": Rate(5, 20), "display": Rate(5, 20), "led": Rate(5, 20), "evaluator": Rate(10, 30),
    "terminal": Rate(20, 50), "counter": Rate(40, 100), "admin": Rate(50, 200),
}
COMMAND_RATES: dict[str, Rate] = {
    "issue_ticket": Rate(1, 30),  # a kiosk prints a ticket every few seconds at most
    "report_alert": Rate(0.2, 5),
}
HELLO_FREE_FAILURES = 10  # wrong tokens per (address, device) before the lockout
HELLO_FAILURE_WINDOW_S = 60.0
HELLO_LOCKOUT_S = (5.0, 300.0)  # first lockout, longest (doubling in between)
TRACKED_KEYS_MAX = 10_000  # forget the oldest keys beyond this (memory bound)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """Token buckets per key (device, command class)."""

    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def allow(self, device: str, role: str, command: str) -> float:
        """0 when the command may run now; otherwise the seconds until it may."""
        wait = self._take((device, "*"), ROLE_RATES.get(role, Rate(5, 20)))
        rate = COMMAND_RATES.get(command)
        if not wait and rate is not None:
            wait = self._take((device, command), rate)
        return wait

    def _take(self, key: tuple[str, str], rate: Rate) -> float:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= TRACKED_KEYS_MAX:
                self._buckets.pop(next(iter(self._buckets)))
            bucket = self._buckets[key] = _Bucket(float(rate.burst), now)
        bucket.tokens = min(rate.burst, bucket.tokens + (now - bucket.at) * rate.per_s)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate.per_s


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    lockouts: int = 0


@dataclass
class HelloGuard:
    """Counts wrong tokens per (address, device); past `HELLO_FREE_FAILURES` in the window
    the pair is locked out, and while locked every hello for it is refused unchecked,
    so guessing gains nothing. Each new lockout lasts twice the last one."""

    clock: Callable[[], float] = time.monotonic
    _keys: dict[tuple[str, str], _Failures] = field(default_factory=dict)

    def locked(self, address: str, device: str) -> bool:
        entry = self._keys.get((address, device))
        return entry is not None and entry.locked_until > self.clock()

    def failed(self, address: str, device: str) -> float:
        """Count a wrong token; return the lockout it starts in seconds (0: none)."""
        now = self.clock()
        key = (address, device)
        entry = self._keys.pop(key, None) or _Failures()
        self._keys[key] = entry  # most recent last, so the oldest are forgotten first
        if len(self._keys) > TRACKED_KEYS_MAX:
            self._keys.pop(next(iter(self._keys)))
        entry.times = [t for t in entry.times if now - t < HELLO_FAILURE_WINDOW_S] + [now]
        if len(entry.times) <= HELLO_FREE_FAILURES:
            return 0.0
        first, longest = HELLO_LOCKOUT_S
        lockout = min(longest, first * 2 ** entry.lockouts)
        entry.lockouts += 1
        entry.times.clear()
        entry.locked_until = now + lockout
        return lockout
