"""Limits per device and per address: rate limits on commands and a backoff after
failed hellos. Pure bookkeeping on a monotonic clock; the hub decides what to refuse.

The defaults are documented in `docs/protocol.md` ("Limits"); a hall's `[limits]` table
(config/SCHEMA.md) overrides them per role or per role and command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from caller.core.config import RateLimit as Rate

# Commands that reach the writer (and `stats`), per device by role; a few commands have a
# tighter limit of their own, for some roles. Far above what a person at a device does,
# with bursts for a hall's busiest moments.
ROLE_RATES: dict[str, Rate] = {
    "kiosk": Rate(20, 120), "display": Rate(10, 30), "led": Rate(10, 30),
    "evaluator": Rate(20, 50), "terminal": Rate(50, 100), "counter": Rate(100, 200),
    "admin": Rate(200, 500),
    "web": Rate(100, 300),  # one client for every console user and every citizen's phone
}
DEFAULT_RATE = Rate(10, 30)
COMMAND_RATES: dict[tuple[str, str], Rate] = {  # (role, command); "*": every role
    ("kiosk", "issue_ticket"): Rate(5, 120),
    ("*", "report_alert"): Rate(0.5, 10),
}
HELLO_FREE_FAILURES = 20  # wrong tokens per (address, device) in the window before backoff
HELLO_UNKNOWN_FREE = 200  # hellos per address naming no device of this hall, in the window
HELLO_FAILURE_WINDOW_S = 60.0
HELLO_DELAY_S = (0.5, 5.0)  # the first delayed refusal, the longest (doubling in between)
HELLO_DELAYED_MAX = 4  # delayed refusals at once per address; more are turned away unchecked
TRACKED_KEYS_MAX = 10_000  # forget the oldest keys beyond this (memory bound)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """Token buckets per key (device, command class)."""

    clock: Callable[[], float] = time.monotonic
    configured: dict[str, Rate] = field(default_factory=dict)  # the hall's [limits]
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)
    _rates: dict[tuple[str, str], tuple[Rate, Rate | None]] = field(default_factory=dict)

    def allow(self, device: str, role: str, command: str) -> float:
        """0 when the command may run now; otherwise the seconds until it may."""
        rates = self._rates.get((role, command))
        if rates is None:
            rates = self._rates[(role, command)] = self._rates_of(role, command)
        wait = self._take((device, "*"), rates[0])
        if not wait and rates[1] is not None:
            wait = self._take((device, command), rates[1])
        return wait

    def _rates_of(self, role: str, command: str) -> tuple[Rate, Rate | None]:
        """The role's rate over all its commands, and this command's own (if any)."""
        return (self.configured.get(role) or ROLE_RATES.get(role, DEFAULT_RATE),
                self.configured.get(f"{role}.{command}") or self.configured.get(f"*.{command}")
                or COMMAND_RATES.get((role, command)) or COMMAND_RATES.get(("*", command)))

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
class HelloGuard:
    """Backoff after failed hellos. Past the free failures in the window, each refusal of
    a wrong token to (address, device) is delayed, twice as long as the one before; an
    address may hold only `HELLO_DELAYED_MAX` delayed refusals at once, and its further
    hellos are turned away before their token is checked. So a guesser gets a few tries
    per `HELLO_DELAY_S[1]` seconds at most, while the right token is never delayed."""

    clock: Callable[[], float] = time.monotonic
    _failures: dict[tuple[str, str | None], list[float]] = field(default_factory=dict)
    _delayed: dict[str, int] = field(default_factory=dict)

    def busy(self, address: str) -> bool:
        return self._delayed.get(address, 0) >= HELLO_DELAYED_MAX

    def failed(self, address: str, device: str | None) -> float:
        """Count a refused hello (device None: no such device); return the seconds to wait
        before refusing it (0: at once)."""
        now = self.clock()
        key = (address, device)
        times = [t for t in self._failures.pop(key, []) if now - t < HELLO_FAILURE_WINDOW_S]
        times.append(now)
        self._failures[key] = times  # most recent last, so the oldest are forgotten first
        if len(self._failures) > TRACKED_KEYS_MAX:
            self._failures.pop(next(iter(self._failures)))
        beyond = len(times) - (HELLO_FREE_FAILURES if device is not None else HELLO_UNKNOWN_FREE)
        if beyond <= 0:
            return 0.0
        first, longest = HELLO_DELAY_S
        return min(longest, first * 2 ** min(beyond - 1, 16))

    def hold(self, address: str) -> None:
        self._delayed[address] = self._delayed.get(address, 0) + 1

    def release(self, address: str) -> None:
        left = self._delayed.get(address, 1) - 1
        if left > 0:
            self._delayed[address] = left
        else:
            self._delayed.pop(address, None)
