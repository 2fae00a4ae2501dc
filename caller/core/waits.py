"""How long a waiting ticket will wait: a pure function of the hall's state and the recent
pace of the windows that serve its service (docs/statistics.md, "The wait estimate").

The method, in three steps:

1. **Each window's pace** is the mean of its last `KEEP` stints (call to finish, pass,
   transfer or hold, in hall seconds); a window with none yet takes the hall's recent
   mean, and a hall with none `DEFAULT_STINT_S`.
2. **The service's rate** adds up, over the windows that may call its tickets now
   (staffed, not paused; weight 0 only when no window of weight 1 or 2 is open), the
   share of each window's time the service gets: the window splits its time among its
   services in proportion to weight × tickets waiting, so a window of weight 2 for the
   service gives it most of its time while others wait too. A ticket sent to one window
   (a transfer) is served by that window, or by its AB backup while it is away.
3. **The wait** of a ticket with `ahead` tickets before it: the idle windows take the
   first ones at once; the rest leave at the service's rate, the first after half a
   stint (the windows are part-way through theirs):
   `max(0, ahead - idle + 0.5) / rate`.

No window open for it: no estimate (`None`); the page and the ticket then say nothing
rather than promise. `hallq bench` measures the errors of this estimate on the demo's
busy hour (`wait_estimate_mae_min`, `wait_estimate_p90_err_min`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

KEEP = 8  # stints per window the pace is taken from
DEFAULT_STINT_S = 420.0  # seven minutes: the pace of a window nobody has measured yet


@dataclass
class Paces:
    """The recent stints of each window, in hall seconds."""

    keep: int = KEEP
    _stints: dict[str, deque[float]] = field(default_factory=dict)
    _hall_mean: float | None = None  # kept until the next stint: every estimate asks for it

    def add(self, window: str, seconds: float) -> None:
        if seconds > 0:
            self._stints.setdefault(window, deque(maxlen=self.keep)).append(seconds)
            self._hall_mean = None

    def hall_mean(self) -> float:
        if self._hall_mean is None:
            values = [s for q in self._stints.values() for s in q]
            self._hall_mean = sum(values) / len(values) if values else DEFAULT_STINT_S
        return self._hall_mean

    def mean(self, window: str, hall_mean: float | None = None) -> float:
        q = self._stints.get(window)
        if q:
            return sum(q) / len(q)
        return hall_mean if hall_mean is not None else self.hall_mean()


@dataclass(frozen=True)
class WindowNow:
    """What the estimate needs of a window at this moment."""

    id: str
    services: dict[str, int]  # service -> weight (2 first, 1 normal, 0 only when idle)
    open: bool  # staffed and not paused
    idle: bool  # open and nobody at the counter
    pace_s: float  # its mean stint
    backup: str | None = None


def service_rate(service: str, windows: list[WindowNow], waiting: dict[str, int]) -> tuple[float, int]:
    """(tickets per second, idle windows) for `service` given how many wait for each service."""
    serving = [w for w in windows if w.open and w.services.get(service, 0) >= 1]
    if not serving:
        serving = [w for w in windows if w.open and service in w.services]
    rate = 0.0
    for w in serving:
        total = own = 0  # the demand on the window's time, and this service's part of it
        for s, weight in w.services.items():
            if weight >= 1:
                demand = weight * max(waiting.get(s, 0), 0)
                total += demand
                if s == service:
                    own = demand
        share = own / total if total else 1.0
        rate += (share or 1.0 / max(len(w.services), 1)) / w.pace_s
    return rate, sum(1 for w in serving if w.idle)


def directed_rate(window: str, windows: list[WindowNow]) -> tuple[float, int]:
    """(tickets per second, idle windows) for tickets sent to `window` (a transfer)."""
    by_id = {w.id: w for w in windows}
    target = by_id.get(window)
    if target is None:
        return 0.0, 0
    backup = by_id.get(target.backup) if target.backup else None
    serving = [target] if target.open else [backup] if backup is not None and backup.open else []
    return sum(1 / w.pace_s for w in serving), sum(1 for w in serving if w.idle)


def wait_seconds(ahead: int, rate: float, idle: int) -> float | None:
    """The estimated wait of a ticket with `ahead` before it; None when nobody serves it."""
    if rate <= 0:
        return None
    return max(0.0, ahead - idle + 0.5) / rate if ahead >= idle else 0.0


def minutes(seconds: float | None) -> int | None:
    """Whole minutes as a person reads them (at least 1 when there is any wait)."""
    if seconds is None:
        return None
    return max(1, round(seconds / 60)) if seconds > 0 else 0
