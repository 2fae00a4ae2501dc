"""Statistics for hall managers, read from the hub's SQLite store.

Every figure is defined here once (docs/statistics.md gives the same definitions
with their formulas). The database is opened read-only: the report may run while
the hub is serving the hall.

A ticket counts in the period of its business day (the `day` it was issued for),
and in exactly one row of each grouping, by where it ended: its last service, the
window and staff that served (or passed, or hold) it, the hour it was issued.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta, tzinfo
from operator import attrgetter
from pathlib import Path
from typing import Any

from caller.core.config import RATING_LEVELS, ConfigError, HallConfig
from caller.core.errors import HallqError
from caller.core.protocol import Event
from caller.manager.booking_stats import booking_rows

SATISFIED_LEVELS = RATING_LEVELS[:3]  # 非常满意, 满意, 基本满意
BAD_LEVELS = RATING_LEVELS[3:]  # 不满意, 非常不满意
GROUPINGS = ("window", "staff", "service", "hour", "day", "month")
# Groupings whose figures leave out a rating whose appeal was upheld (申诉成立): the staff
# member's own, and the window ranking built from the window rows.
EXCUSING = frozenset({"staff"})

Progress = Callable[[int, int], None]  # (days done, days in the period)


class StatsError(HallqError):
    """The database cannot be read as a hallq store."""


# ---------------------------------------------------------------------- reading


def open_readonly(path: str | Path) -> sqlite3.Connection:
    """Open the hub's database for reading only; raise StatsError if it is not one."""
    p = Path(path)
    if not p.is_file():
        raise StatsError(f"no database at {p}")
    try:
        conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("PRAGMA busy_timeout=5000")
        ok = _has_table(conn, "tickets")
    except sqlite3.Error as e:
        raise StatsError(f"cannot read {p}: {e}") from e
    if not ok:
        conn.close()
        raise StatsError(f"{p} is not a hallq database (no tickets table)")
    return conn


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (name,)).fetchone()
    return row is not None


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the statistics need to know about one ticket."""

    id: int
    service: str
    window: str | None
    staff: str | None
    day: str
    hour: int  # hour of day it was issued, hall time
    state: str
    transferred: bool
    held: bool
    wait_s: float | None  # first call − issue; None if never called
    service_s: float | None  # time at windows, holds excluded; served tickets only
    rating: str | None  # the citizen's own rating
    defaulted: bool  # nobody rated: the hall's default level was filled in
    called_back: bool | None  # bad rating's case called back; None: no case record
    rectified: bool | None
    appeal: str | None = None  # the bad rating's appeal: "pending" | "upheld" | "rejected"

    @property
    def month(self) -> str:
        return self.day[:7]


_TICKET_SQL = ("SELECT id, service, window, staff, day, issued_at, first_called_at, state, "
               "transfers, holds, service_s, rating, rating_status, {appeal} FROM tickets "
               "WHERE day = ?")


def ticket_columns(conn: sqlite3.Connection) -> set[str]:
    """The columns of the tickets table: later migrations (and other parts of hallq) add
    some, and a report reads a database of any age."""
    return {row[1] for row in conn.execute("PRAGMA table_info(tickets)")}


def _when(value: str | datetime) -> datetime:
    """A stored time: ISO text in the hall's SQLite, a datetime from the central database."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _seconds(later: str | datetime | None, earlier: str | datetime) -> float | None:
    if later is None:
        return None
    return (_when(later) - _when(earlier)).total_seconds()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def load_tickets(conn: sqlite3.Connection, first: date, last: date, tz: tzinfo | None = None,
                 progress: Progress | None = None) -> list[TicketFacts]:
    """Every ticket whose business day lies in [first, last]."""
    cases = _load_cases(conn)
    days = days_between(first, last)
    sql = _TICKET_SQL.format(appeal="appeal" if "appeal" in ticket_columns(conn) else "NULL")
    out: list[TicketFacts] = []
    for done, day in enumerate(days, start=1):
        out += (ticket_facts(row, cases, tz) for row in conn.execute(sql, (day.isoformat(),)))
        if progress is not None:
            progress(done, len(days))
    return out


def ticket_facts(row: Sequence[Any], cases: dict[int, tuple[bool, bool]] | None,
                 tz: tzinfo | None) -> TicketFacts:
    """One ticket row, its columns in the order of `_TICKET_SQL` (the day as ISO text), with
    the case records of its hall (None: the store keeps none)."""
    (tid, service, window, staff, tday, issued_at, first_called_at, state, transfers, holds,
     service_s, rating, rating_status, *rest) = row
    appeal = rest[0] if rest else None  # the appeal column: only a hall's store has it
    issued = _when(issued_at)
    case = cases.get(tid) if cases is not None else None
    return TicketFacts(
        id=tid, service=service, window=window, staff=staff, day=tday,
        hour=(issued.astimezone(tz) if tz else issued).hour, state=state,
        transferred=bool(transfers), held=bool(holds),
        wait_s=_seconds(first_called_at, issued_at),
        service_s=float(service_s or 0.0) if state == "done" else None,
        rating=rating if rating_status == "rated" else None,
        defaulted=rating_status == "default",
        called_back=case[0] if case else None, rectified=case[1] if case else None,
        appeal=appeal,
    )


def _load_cases(conn: sqlite3.Connection) -> dict[int, tuple[bool, bool]] | None:
    """ticket id -> (called back, rectified); None when the store has no cases table."""
    if not _has_table(conn, "cases"):
        return None
    rows = conn.execute(
        "SELECT ticket_id, MAX(called_back_at IS NOT NULL), MAX(rectified_at IS NOT NULL) "
        "FROM cases GROUP BY ticket_id")
    return {tid: (bool(cb), bool(rect)) for tid, cb, rect in rows}


def transfers_out(conn: sqlite3.Connection, ticket_ids: set[int],
                  since: datetime | None) -> dict[str, int] | None:
    """Transfers away from each window of the given tickets, from the event log.

    None when the log no longer reaches back to `since` (old events are pruned)."""
    earliest = conn.execute("SELECT at FROM events ORDER BY seq LIMIT 1").fetchone()
    if since is not None and (earliest is None or datetime.fromisoformat(earliest[0]) > since):
        return None
    counts: Counter[str] = Counter()
    for tid, window in conn.execute(
            "SELECT json_extract(body, '$.ticket.id'), json_extract(body, '$.from_window') "
            f"FROM events WHERE name = '{Event.TICKET_TRANSFERRED}'"):  # for its index
        if tid in ticket_ids:
            counts[window] += 1
    return dict(counts)


# ---------------------------------------------------------------------- definitions


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p % of values at or below it.

    PostgreSQL's `percentile_disc(p / 100)` picks the same value."""
    if not values:
        return None
    return sorted(values)[nearest_rank(len(values), p) - 1]


def nearest_rank(n: int, p: float) -> int:
    """The rank (1..n) of the p-th percentile among n sorted values."""
    return max(1, math.ceil(round(p * n / 100, 9)))  # round: 7 × 100 / 100 is 7, not 7.000…1


def median(ordered: Sequence[float]) -> float | None:
    """The middle of sorted values; for an even count the point halfway from the lower to
    the upper middle value, computed as PostgreSQL's `percentile_cont(0.5)` computes it
    (lo + 0.5 × (hi − lo)); the central reports' numpy tallies use this function."""
    n = len(ordered)
    if not n:
        return None
    lo, hi = ordered[(n - 1) // 2], ordered[n // 2]
    return lo + 0.5 * (hi - lo) if n % 2 == 0 else lo


def micros(seconds: float) -> int:
    """A duration in whole microseconds (round half to even, as PostgreSQL's round())."""
    return round(seconds * 1e6)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _secs(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def peak_of(counts: Mapping[int, int]) -> tuple[int | None, int]:
    """The hour with the most tickets issued (the earliest on a tie), and that count."""
    if not counts:
        return None, 0
    hour = min(counts, key=lambda h: (-counts[h], h))
    return hour, counts[hour]


def peak_hour(tickets: Iterable[TicketFacts]) -> tuple[int | None, int]:
    """The hour of day with the most tickets issued (the earliest on a tie), and that count."""
    return peak_of(Counter(map(_HOUR, tickets)))


@dataclass(frozen=True, slots=True)
class Spread:
    """Durations as the figures read them: how many, their sum in whole microseconds (the
    average is exact, wherever it is summed), the median and the nearest-rank 90th percentile."""

    count: int = 0
    sum_us: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, ordered: Sequence[float]) -> Spread:
        """Of sorted values."""
        n = len(ordered)
        return cls(n, sum(map(micros, ordered)), median(ordered),
                   ordered[nearest_rank(n, 90) - 1] if n else None)

    @property
    def avg(self) -> float | None:
        return self.sum_us / (self.count * 10**6) if self.count else None


@dataclass(frozen=True, slots=True)
class Tally:
    """What every figure of one set of tickets is computed from: counts and two spreads.

    The hall's report tallies its TicketFacts (`tally`); the central report tallies the
    city's tickets in numpy (caller/central/tally.py); `figures_of` turns either into the
    figures, so a figure is defined once."""

    issued: int = 0
    served: int = 0  # state done
    passed: int = 0  # state no_show
    cancelled: int = 0
    waiting: int = 0
    transferred: int = 0
    held: int = 0
    waits: Spread = Spread()
    services: Spread = Spread()  # of served tickets
    peak_hour: int | None = None
    peak_hour_issued: int = 0
    rated: int = 0  # the citizens' own ratings
    levels: Mapping[str, int] = field(default_factory=dict)  # of them, per RATING_LEVELS level
    bad: int = 0
    defaulted: int = 0
    called_back: int = 0  # bad-rated tickets whose case was called back
    rectified: int = 0
    bad_all: int = 0  # bad ratings, an upheld appeal's included (what 申诉率 divides by)
    appeals: int = 0
    appeals_upheld: int = 0


# Each figure is one pass in C (map over a getter) where it can be: a hall's report runs
# these over every ticket of the period, once per grouping.
_HOUR, _STATE, _WAIT, _RATING = (attrgetter(n) for n in ("hour", "state", "wait_s", "rating"))
_TRANSFERRED, _HELD, _DEFAULTED = (attrgetter(n) for n in ("transferred", "held", "defaulted"))


def tally(tickets: Sequence[TicketFacts], excuse_upheld: bool = False) -> Tally:
    """`excuse_upheld`: leave out the ratings whose appeal was upheld (a staff member's figures)."""
    states = Counter(map(_STATE, tickets))
    counted = [t for t in tickets if not (excuse_upheld and t.appeal == "upheld")]
    levels = Counter(map(_RATING, counted))
    del levels[None]
    bad = [t for t in counted if t.rating in BAD_LEVELS]
    appealed = [t for t in tickets if t.appeal is not None]
    hour, hour_count = peak_hour(tickets)
    return Tally(
        issued=len(tickets), served=states["done"], passed=states["no_show"],
        cancelled=states["cancelled"], waiting=states["waiting"],
        transferred=sum(map(_TRANSFERRED, tickets)), held=sum(map(_HELD, tickets)),
        waits=Spread.of(sorted(w for w in map(_WAIT, tickets) if w is not None)),
        services=Spread.of(sorted(t.service_s for t in tickets
                                  if t.state == "done" and t.service_s is not None)),
        peak_hour=hour, peak_hour_issued=hour_count, rated=levels.total(),
        levels={lv: levels[lv] for lv in RATING_LEVELS}, bad=len(bad),
        defaulted=sum(map(_DEFAULTED, tickets)), called_back=sum(bool(t.called_back) for t in bad),
        rectified=sum(bool(t.rectified) for t in bad),
        bad_all=sum(t.rating in BAD_LEVELS for t in tickets), appeals=len(appealed),
        appeals_upheld=sum(t.appeal == "upheld" for t in appealed))


def figures_of(t: Tally, followup: bool) -> dict[str, Any]:
    """Every figure of a tally. Rates are fractions 0–1, times seconds.

    `followup`: the store has case records, so 回访率 and 差评整改率 can be computed.
    Defaults filled in by the no-rating policy are counted apart, never as ratings."""
    good = sum(t.levels.get(lv, 0) for lv in SATISFIED_LEVELS)
    return {
        "issued": t.issued,
        "served": t.served,
        "passed": t.passed,
        "cancelled": t.cancelled,
        "waiting": t.waiting,
        "transferred": t.transferred,
        "held": t.held,
        "wait_avg_s": _secs(t.waits.avg),
        "wait_median_s": _secs(t.waits.median),
        "wait_p90_s": _secs(t.waits.p90),
        "service_avg_s": _secs(t.services.avg),
        "service_median_s": _secs(t.services.median),
        "service_p90_s": _secs(t.services.p90),
        "peak_hour": t.peak_hour,
        "peak_hour_issued": t.peak_hour_issued,
        "rated": t.rated,
        "rating_rate": _ratio(t.rated, t.served),
        "satisfaction_rate": _ratio(good, t.rated),
        "good_rate": _ratio(good, t.rated),
        "bad_rate": _ratio(t.bad, t.rated),
        **{lv: t.levels.get(lv, 0) for lv in RATING_LEVELS},
        "bad_ratings": t.bad,
        "defaulted": t.defaulted,
        "default_rate": _ratio(t.defaulted, t.served),
        "appeals": t.appeals,
        "appeals_upheld": t.appeals_upheld,
        "appeal_rate": _ratio(t.appeals, t.bad_all),
        "callback_rate": _ratio(t.called_back, t.bad) if followup else None,
        "rectification_rate": _ratio(t.rectified, t.bad) if followup else None,
    }


def figures(tickets: Sequence[TicketFacts], followup: bool,
            excuse_upheld: bool = False) -> dict[str, Any]:
    """Every figure for one set of tickets (`figures_of` their `tally`)."""
    return figures_of(tally(tickets, excuse_upheld), followup)


# ---------------------------------------------------------------------- groupings


def _ordered_keys(by: str, found: Iterable[Any], config: HallConfig | None,
                  first: date, last: date) -> list[Any]:
    """The rows of a grouping in reading order; the day and hour rows have no gaps."""
    found = set(found)
    if by == "day":
        return [d.isoformat() for d in days_between(first, last)]
    if by == "hour":
        return list(range(min(found), max(found) + 1)) if found else []
    if by == "month":
        return sorted({d.isoformat()[:7] for d in days_between(first, last)})
    known: list[Any] = []
    if config is not None and by in ("window", "service"):
        known = list(config.windows if by == "window" else config.services)
        known = [k for k in known if k in found]
    rest = sorted(k for k in found if k is not None and k not in known)
    return known + rest + ([None] if None in found else [])


def _name(by: str, key: Any, config: HallConfig | None) -> str | None:
    if key is None:
        return None
    if by == "hour":
        return f"{key:02d}:00-{key + 1:02d}:00"
    if config is not None and by == "window" and key in config.windows:
        return config.windows[key].name
    if config is not None and by == "service" and key in config.services:
        return config.services[key].name
    return str(key)


def group_rows(tickets: Sequence[TicketFacts], by: str, followup: bool,
               config: HallConfig | None, first: date, last: date) -> list[dict[str, Any]]:
    """One row per window/staff/service/hour/day: {"key", "name", **figures}."""
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; expected one of {', '.join(GROUPINGS)}")
    return _rows(tickets, by, followup, config, first, last, by in EXCUSING)


def _rows(tickets: Sequence[TicketFacts], by: str, followup: bool, config: HallConfig | None,
          first: date, last: date, excuse_upheld: bool) -> list[dict[str, Any]]:
    buckets: dict[Any, list[TicketFacts]] = defaultdict(list)
    for t in tickets:
        buckets[getattr(t, by)].append(t)  # groupings are named after TicketFacts fields
    return tally_rows({k: tally(v, excuse_upheld) for k, v in buckets.items()}, by, followup,
                      config, first, last)


def tally_rows(tallies: Mapping[Any, Tally], by: str, followup: bool, config: HallConfig | None,
               first: date, last: date) -> list[dict[str, Any]]:
    """The rows of a grouping from each key's tally, in reading order (`group_rows`)."""
    return [{"key": k, "name": _name(by, k, config), **figures_of(tallies.get(k, Tally()), followup)}
            for k in _ordered_keys(by, tallies, config, first, last)]


# ---------------------------------------------------------------------- ranking (流动红旗)


@dataclass(frozen=True)
class RankingWeights:
    """Points of the 100-point window score; they must add up to 100.

    satisfaction: × 满意率 (0–1); volume: × served / the busiest window's served;
    wait: × min(1, hall average wait / window average wait); rating_rate: × 评价率;
    bad_rate: × (1 − 差评率); rectification: × 整改率, in full when there was no bad rating.
    A rate that cannot be computed (nothing rated) earns no points. The rates are the
    citizens' own ratings, without defaults and without ratings whose appeal was upheld."""

    satisfaction: float = 40.0
    volume: float = 30.0
    wait: float = 20.0
    rating_rate: float = 10.0
    bad_rate: float = 0.0
    rectification: float = 0.0

    def __post_init__(self) -> None:
        values = asdict(self)
        if any(v < 0 for v in values.values()):
            raise ValueError(f"ranking weights must not be negative: {values}")
        if not math.isclose(sum(values.values()), 100.0, abs_tol=1e-9):
            raise ValueError(f"ranking weights must add up to 100, got {sum(values.values()):g}")

    @classmethod
    def parse(cls, text: str) -> RankingWeights:
        """From "satisfaction=40,volume=30,wait=20,rating_rate=10" (missing keys keep defaults)."""
        names = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, number = part.partition("=")
            if not sep or key.strip() not in names:
                raise ValueError(f"expected NAME=POINTS with NAME one of {', '.join(sorted(names))}, "
                                 f"got {part!r}")
            try:
                values[key.strip()] = float(number)
            except ValueError:
                raise ValueError(f"{key.strip()}: expected a number, got {number!r}") from None
        return cls(**values)

    @classmethod
    def of_config(cls, config: HallConfig) -> RankingWeights:
        """The hall config's `[rating] ranking_weights` (missing keys keep the defaults);
        a ConfigError names the file and the key."""
        points = config.rating.ranking_weights
        names = {f.name for f in fields(cls)}
        try:
            unknown = sorted(set(points) - names)
            if unknown:
                raise ValueError(f"unknown weight {unknown[0]!r}; expected one of "
                                 + ", ".join(sorted(names)))
            return cls(**points)
        except ValueError as e:
            raise ConfigError(config.path, [f"rating.ranking_weights: {e}"]) from None


def rank_windows(window_rows: Sequence[dict], hall_wait_avg_s: float | None,
                 weights: RankingWeights) -> list[dict[str, Any]]:
    """The window ranking: windows that served at least one ticket, best score first."""
    ranked = [r for r in window_rows if r["key"] is not None and r["served"] > 0]
    if not ranked:
        return []
    busiest = max(r["served"] for r in ranked)
    out = []
    for r in ranked:
        wait = r["wait_avg_s"]
        wait_factor = 1.0 if not wait or hall_wait_avg_s is None else min(1.0, hall_wait_avg_s / wait)
        parts = {
            "satisfaction_points": weights.satisfaction * (r["satisfaction_rate"] or 0.0),
            "volume_points": weights.volume * r["served"] / busiest,
            "wait_points": weights.wait * wait_factor,
            "rating_rate_points": weights.rating_rate * (r["rating_rate"] or 0.0),
            "bad_rate_points": weights.bad_rate * (1.0 - r["bad_rate"]
                                                   if r["bad_rate"] is not None else 0.0),
            "rectification_points": weights.rectification * (
                1.0 if not r["bad_ratings"] else (r["rectification_rate"] or 0.0)),
        }
        out.append({
            "window": r["key"], "name": r["name"], "score": round(sum(parts.values()), 1),
            **{k: round(v, 1) for k, v in parts.items()},
            "served": r["served"], "satisfaction_rate": r["satisfaction_rate"],
            "rating_rate": r["rating_rate"], "bad_rate": r["bad_rate"], "wait_avg_s": wait,
        })
    out.sort(key=lambda x: (-x["score"], -x["served"], x["window"]))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    return out


# ---------------------------------------------------------------------- the report


@dataclass
class Report:
    hall: str
    first: date
    last: date
    generated_at: str
    summary: dict[str, Any]
    groups: dict[str, list[dict[str, Any]]]
    ranking: list[dict[str, Any]]
    weights: RankingWeights
    followup_available: bool
    ranked: str = "window"  # what the ranking ranks: windows, or halls in a central report
    bookings: list[dict[str, Any]] = field(default_factory=list)  # per day and service

    def to_dict(self) -> dict[str, Any]:
        return {
            "hall": self.hall, "from": self.first.isoformat(), "to": self.last.isoformat(),
            "generated_at": self.generated_at, "summary": self.summary, "groups": self.groups,
            "ranking": self.ranking, "weights": asdict(self.weights),
            "followup_available": self.followup_available,
            **({"bookings": self.bookings} if self.bookings else {}),
        }


def compute_report(conn: sqlite3.Connection, first: date, last: date, *,
                   config: HallConfig | None = None, weights: RankingWeights | None = None,
                   progress: Progress | None = None, now: datetime | None = None) -> Report:
    """All figures of a period: the summary, every grouping and the window ranking."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    weights = weights or RankingWeights()
    tz = config.hall.tz if config is not None else None
    followup = _has_table(conn, "cases")
    tickets = load_tickets(conn, first, last, tz, progress)
    summary = figures(tickets, followup)
    groups = {by: group_rows(tickets, by, followup, config, first, last) for by in GROUPINGS}
    earliest = min((t.id for t in tickets), default=None)
    since = _issued_at(conn, earliest) if earliest is not None else None
    moved = transfers_out(conn, {t.id for t in tickets}, since)
    for row in groups["window"]:
        row["transferred_out"] = (moved.get(row["key"], 0) if moved is not None and row["key"]
                                  else None)
    stamp = (now or datetime.now(tz)).isoformat(timespec="seconds")
    return Report(
        hall=config.hall.name if config is not None else "", first=first, last=last,
        generated_at=stamp, summary=summary, groups=groups,
        ranking=rank_windows(_rows(tickets, "window", followup, config, first, last, True),
                             summary["wait_avg_s"], weights),
        weights=weights, followup_available=followup,
        bookings=[{**r, "service_name": config.services[r["service"]].name
                   if config is not None and r["service"] in config.services else r["service"]}
                  for r in booking_rows(conn, first, last)],
    )


def _issued_at(conn: sqlite3.Connection, ticket_id: int) -> datetime:
    row = conn.execute("SELECT issued_at FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    return datetime.fromisoformat(row[0])


# ---------------------------------------------------------------------- live figures


def live_figures(conn_or_path: sqlite3.Connection | str | Path, day: str) -> dict[str, Any]:
    """Today's figures for the hub's snapshot: waiting and average wait per service,
    ratings so far. Same definitions as the report."""
    conn = conn_or_path if isinstance(conn_or_path, sqlite3.Connection) else open_readonly(conn_or_path)
    try:
        followup = _has_table(conn, "cases")
        d = date.fromisoformat(day)
        tickets = load_tickets(conn, d, d)
    finally:
        if conn is not conn_or_path:
            conn.close()
    total = figures(tickets, followup)
    by_service: dict[str, list[TicketFacts]] = defaultdict(list)
    for t in tickets:
        by_service[t.service].append(t)
    services = {}
    for sid, group in sorted(by_service.items()):
        f = figures(group, followup)
        services[sid] = {k: f[k] for k in ("issued", "waiting", "served", "wait_avg_s")}
    keys = ("issued", "waiting", "served", "passed", "wait_avg_s", "rated", "rating_rate",
            "satisfaction_rate", "bad_ratings")
    return {"day": day, **{k: total[k] for k in keys}, "services": services}
