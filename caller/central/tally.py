"""The central report's tallies: a `stats.Tally` for the period and for every key of every
grouping, over a city's million tickets in about a second.

PostgreSQL selects the period's tickets and derives what the figures read of each, as
`stats.ticket_facts` reads a hall's row (the hour of issue in the hall's own time, the
wait in whole microseconds, the case's follow-up, the citizen's own rating), and sends
them as one bytea of fixed-width rows; numpy tallies them. PostgreSQL
could group them itself (GROUPING SETS with percentile_cont/percentile_disc), but its
ordered-set aggregates re-sort the tickets for every grouping and took 20 s for the city
(BENCHMARKS.md). The figures are then made by the hall's own `stats.figures_of`, and the
tests prove every tally equal to `stats.tally` of the same tickets.

Window, staff and service keys travel as 64-bit hashes of their text
(`hashtextextended`); the text of each is read back from one ticket carrying it. Two
keys of one report would have to share a hash to be mixed up (odds about n² / 2⁶⁵).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import psycopg

from caller.core.config import RATING_LEVELS
from caller.manager.stats import BAD_LEVELS, Spread, Tally, median, nearest_rank, peak_of

KEY_SEP = "/"  # hall/window, hall/staff
_STATES = ("done", "no_show", "cancelled", "waiting")  # bits 0–2; any other state is 4
_RATED_OTHER = len(RATING_LEVELS) + 1  # a rating code: rated, with a level hallq does not know
_BAD_CODES = [RATING_LEVELS.index(lv) + 1 for lv in BAD_LEVELS]

_STATE_SQL = " ".join(f"WHEN '{s}' THEN {n}" for n, s in enumerate(_STATES))
_LEVEL_SQL = " ".join(f"WHEN '{lv}' THEN {n}" for n, lv in enumerate(RATING_LEVELS, start=1))
# One ticket's facts, packed (bits: state 0–2, transferred 3, held 4, defaulted 5, case
# called back 6, case rectified 7, no window 8, no staff 9, never called 10; the rating
# code (0 none) from bit 11; the day as days since 2000-01-01). PostgreSQL gives | and <<
# one precedence: every shift is in brackets. `t` a ticket, joined by FACT_JOINS to `h`
# its hall and `c` its cases.
FACT_ROW = f"""int8send(t.id)
    || int8send(coalesce(hashtextextended(t.hall_id || '{KEY_SEP}' || t.window_id, 0), 0))
    || int8send(coalesce(hashtextextended(t.hall_id || '{KEY_SEP}' || t.staff, 0), 0))
    || int8send(hashtextextended(t.service, 0)) || int4send(t.day - DATE '2000-01-01')
    || int4send(extract(hour FROM t.issued_at AT TIME ZONE h.timezone)::int)
    || int4send((CASE t.state {_STATE_SQL} ELSE 4 END)
    | ((t.transfers <> 0)::int << 3) | ((t.holds <> 0)::int << 4)
    | ((t.rating_status IS NOT DISTINCT FROM 'default')::int << 5)
    | ((c.called_back IS TRUE)::int << 6) | ((c.rectified IS TRUE)::int << 7)
    | ((t.window_id IS NULL)::int << 8) | ((t.staff IS NULL)::int << 9)
    | ((t.first_called_at IS NULL)::int << 10)
    | ((CASE WHEN t.rating_status = 'rated' AND t.rating IS NOT NULL
        THEN CASE t.rating {_LEVEL_SQL} ELSE {_RATED_OTHER} END ELSE 0 END) << 11))
    || int8send(coalesce(round(extract(epoch FROM t.first_called_at - t.issued_at) * 1000000)::bigint, 0))
    || float8send(t.service_s)"""
FACT_JOINS = """JOIN halls h ON h.hall_id = t.hall_id
LEFT JOIN LATERAL (
    SELECT bool_or(called_back_at IS NOT NULL) AS called_back, bool_or(rectified_at IS NOT NULL) AS rectified
    FROM cases WHERE cases.hall_id = t.hall_id AND cases.ticket_id = t.id) c ON true"""
# The period's facts, a bytea per hall and day: packed once by the shipper when the day
# closed (`hall_days.facts`, caller/central/centre.py), packed here for the days still
# open, read in one snapshot (so a day the shipper closes meanwhile counts once).
_CLOSED_SQL = """
SELECT hall_id, day, facts FROM hall_days
WHERE hall_id = ANY(%(halls)s) AND day BETWEEN %(first)s AND %(last)s AND facts IS NOT NULL
"""
# One index scan per open hall-day (a join let the planner scan every ticket for a day's).
_OPEN_SQL = f"""
SELECT o.hall_id, f.facts
FROM unnest(%(halls)s::text[], %(days)s::date[]) AS o(hall_id, day), LATERAL (
    SELECT string_agg({FACT_ROW}, '') AS facts
    FROM tickets t {FACT_JOINS} WHERE t.hall_id = o.hall_id AND t.day = o.day) f
WHERE f.facts IS NOT NULL
"""
_EPOCH = date(2000, 1, 1)
_FIELDS = (("id", ">i8"), ("window", ">i8"), ("staff", ">i8"), ("service", ">i8"),
           ("day", ">i4"), ("hour", ">i4"), ("bits", ">i4"), ("wait_us", ">i8"), ("service_s", ">f8"))
_ROW = np.dtype(list(_FIELDS))  # one ticket's bytes in the string_agg, big-endian (…send)
_KEYS_SQL = f"""
SELECT x.n, t.hall_id || '{KEY_SEP}' || t.window_id, t.hall_id || '{KEY_SEP}' || t.staff,
    t.service, t.seq
FROM unnest(%s::text[], %s::bigint[]) WITH ORDINALITY AS x(hall_id, id, n)
JOIN tickets t ON t.hall_id = x.hall_id AND t.id = x.id
"""

Key = tuple[str, Any]  # (grouping, key); ("", None) for the whole period


def _rows(conn: psycopg.Connection, hall_ids: Sequence[str], first: date,
          last: date) -> dict[str, np.ndarray]:
    """The period's tickets as columns (`hall` the index in `hall_ids`, `day` the offset
    from `first`): a bytea of packed rows per hall and day crosses the socket (a row per
    ticket costs Python a million calls)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute("SET LOCAL jit = off")  # compiling the open days' scan costs more than it saves
        found = conn.execute(_CLOSED_SQL, {"halls": list(hall_ids), "first": first, "last": last},
                             binary=True).fetchall()
        closed = {(h, d) for h, d, _ in found}
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        still_open = [(h, d) for h in hall_ids for d in days if (h, d) not in closed]
        found = [(h, facts) for h, _, facts in found]
        if still_open:
            halls, open_days = zip(*still_open, strict=True)
            found += conn.execute(_OPEN_SQL, {"halls": list(halls), "days": list(open_days)},
                                  binary=True).fetchall()
    code = {h: n for n, h in enumerate(hall_ids)}
    rows = np.frombuffer(b"".join(facts for _, facts in found), dtype=_ROW)
    cols = {name: rows[name].astype(rows[name].dtype.newbyteorder("=")) for name, _ in _FIELDS}
    cols["hall"] = np.repeat(np.array([code[h] for h, _ in found], dtype=np.int32),
                             [len(facts) // _ROW.itemsize for _, facts in found])
    cols["day"] -= (first - _EPOCH).days
    return cols


_DENSE_SPAN = 1 << 16  # keys spanning fewer integers than this (halls, hours, days) need no sort


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and each value's index among them: small integers by a
    table, hashes by a sort."""
    if len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < _DENSE_SPAN:
            shifted = values - low
            seen = np.bincount(shifted) > 0
            return np.flatnonzero(seen) + low, (np.cumsum(seen) - 1)[shifted]
    return np.unique(values, return_inverse=True)


class _Grouping:
    """One grouping's keys as dense codes 0..size-1: `values[code]` the key's value (the
    code after the last stands for "no key" when `has_missing`); with `firsts`,
    `first[code]` the row that first carries it."""

    def __init__(self, values: np.ndarray, missing: np.ndarray | None = None, *,
                 firsts: bool = False) -> None:
        present = np.flatnonzero(~missing) if missing is not None and missing.any() else None
        own = values if present is None else values[present]
        self.values, inverse = _dense(own)
        self.has_missing = present is not None
        self.size = len(self.values) + self.has_missing
        # small codes: numpy's stable sort of 16-bit integers is a radix sort
        dtype = np.int16 if self.size < 2**15 else np.int64
        if present is None:
            self.codes = inverse.astype(dtype)
        else:
            self.codes = np.full(len(values), len(self.values), dtype=dtype)
            self.codes[present] = inverse
        if firsts:
            first = np.full(len(self.values), len(own), dtype=np.int64)
            np.minimum.at(first, inverse, np.arange(len(own)))
            self.first = first if present is None else present[first]


_SPLIT = 26  # microsecond sums as two float sums of 26-bit halves, each exact below 2**53


@dataclass(frozen=True)
class _Sorted:
    """Durations of some rows: `order` the rows sorted by value, `values` in that order;
    `high` and `low` each row's duration in whole microseconds split for exact sums."""

    order: np.ndarray
    values: np.ndarray
    rows: np.ndarray
    high: np.ndarray
    low: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, values: np.ndarray, micros: np.ndarray) -> _Sorted:
        order = rows[np.argsort(values[rows])]
        own = micros[rows]
        return cls(order, values[order], rows, (own >> _SPLIT).astype(np.float64),
                   (own & (1 << _SPLIT) - 1).astype(np.float64))


@dataclass(frozen=True)
class _Facts:
    """What every grouping tallies, packed into small integers once for all of them."""

    flags: np.ndarray  # state | transferred << 3 | held << 4 | defaulted << 5
    rating: np.ndarray  # rating code << 2 | case called back | case rectified << 1
    hour: np.ndarray
    waits: _Sorted
    services: _Sorted


def _spreads(codes: np.ndarray, size: int, s: _Sorted) -> list[Spread]:
    """Each code's Spread of the durations `s`: the sums by code in one pass, the median
    and p90 read at their ranks in the values sorted by code, by value within it."""
    if size == 1:
        within, counts = None, [len(s.order)]
    else:
        by_code = codes[s.order]
        within = np.argsort(by_code, kind="stable")
        counts = np.bincount(by_code, minlength=size).tolist()
    mine = codes[s.rows]
    sums = ((np.bincount(mine, s.high, minlength=size).astype(np.int64) << _SPLIT)
            + np.bincount(mine, s.low, minlength=size).astype(np.int64)).tolist()
    ranks, start = [], 0
    for n in counts:  # the lower and upper middle and the p90 of each code (its first row when empty)
        ranks += (start + (n - 1) // 2, start + n // 2, start + nearest_rank(n, 90) - 1) if n else (0, 0, 0)
        start += n
    at = np.array(ranks, dtype=np.int64)
    picked = s.values[at if within is None else within[at]].tolist() if start else []
    out = []
    for code, n in enumerate(counts):
        lo, hi, p90 = picked[3 * code:3 * code + 3] if n else (None, None, None)
        out.append(Spread(n, sums[code], float(median((lo, hi)) if n % 2 == 0 else lo), float(p90))
                   if n else Spread())
    return out


def _bit(bits: np.ndarray, n: int) -> np.ndarray:
    return (bits >> n & 1).astype(bool)


def _tallies(g: _Grouping, facts: _Facts) -> list[Tally]:
    """The tally of each code of a grouping, from three counts by code: of the flags, of
    the ratings and of the hours."""
    size, wide = g.size, g.codes.astype(np.int64)

    def table(values: np.ndarray, width: int) -> np.ndarray:
        return np.bincount(wide * width + values, minlength=size * width).reshape(size, width)

    flags = table(facts.flags, 64).reshape(size, 8, 8)  # [code, transferred/held/defaulted, state]
    states = flags.sum(axis=1)
    issued, served, passed, cancelled, waiting = (
        states.sum(axis=1).tolist(), *(states[:, n].tolist() for n in range(4)))
    transferred, held, defaulted = (flags[:, [c for c in range(8) if c >> n & 1]].sum(axis=(1, 2)).tolist()
                                    for n in range(3))
    rated = table(facts.rating, 32).reshape(size, 8, 4)  # [code, rating code, case follow-up]
    levels = rated.sum(axis=2).tolist()
    bad = rated[:, _BAD_CODES]
    bad_n, called_back, rectified = (bad.sum(axis=(1, 2)).tolist(), bad[:, :, 1::2].sum(axis=(1, 2)).tolist(),
                                     bad[:, :, 2:].sum(axis=(1, 2)).tolist())
    hours = table(facts.hour, 24).tolist()
    wait_spreads, service_spreads = (_spreads(g.codes, size, s) for s in (facts.waits, facts.services))
    out = []
    for c in range(size):
        hour, hour_count = peak_of({h: n for h, n in enumerate(hours[c]) if n})
        out.append(Tally(
            issued[c], served[c], passed[c], cancelled[c], waiting[c], transferred[c], held[c],
            wait_spreads[c], service_spreads[c], hour, hour_count, sum(levels[c][1:]),
            dict(zip(RATING_LEVELS, levels[c][1:], strict=False)), bad_n[c], defaulted[c],
            called_back[c], rectified[c], bad_all=bad_n[c]))  # the centre has no appeals
    return out


def load_tallies(conn: psycopg.Connection, hall_ids: Sequence[str], first: date,
                 last: date) -> tuple[dict[Key, Tally], dict[str, tuple[str, int]]]:
    """The tally of the period's tickets of these halls, and of each key of each grouping
    (`hall`, then `stats.GROUPINGS`); and for each service the (hall, seq) a ticket row of
    it was written at, to read its name near."""
    cols = _rows(conn, hall_ids, first, last)
    bits = cols["bits"]
    called, done = np.flatnonzero(~_bit(bits, 10)), np.flatnonzero((bits & 7) == 0)
    service_s = cols["service_s"]
    facts = _Facts(
        flags=bits & 63, rating=(bits >> 11) << 2 | (bits >> 6 & 3), hour=cols["hour"],
        # exact microseconds, divided as timedelta.total_seconds()
        waits=_Sorted.of(called, cols["wait_us"] / 1e6, cols["wait_us"]),
        services=_Sorted.of(done, service_s, np.rint(service_s * 1e6).astype(np.int64)))  # stats.micros
    groupings = {"": _Grouping(np.zeros(len(bits), dtype=np.int64)), "hall": _Grouping(cols["hall"]),
                 "window": _Grouping(cols["window"], _bit(bits, 8), firsts=True),
                 "staff": _Grouping(cols["staff"], _bit(bits, 9), firsts=True),
                 "service": _Grouping(cols["service"], firsts=True), "hour": _Grouping(cols["hour"]),
                 "day": _Grouping(cols["day"]), "month": _Grouping(_months(first, last)[cols["day"]])}
    texts = _key_texts(conn, hall_ids, cols, [groupings[by] for by in ("window", "staff", "service")])
    keys: dict[str, list[Any]] = {
        "": [None] * groupings[""].size, "hall": [hall_ids[v] for v in groupings["hall"].values.tolist()],
        "hour": groupings["hour"].values.tolist(),
        "day": [(first + timedelta(days=v)).isoformat() for v in groupings["day"].values.tolist()],
        "month": [f"{v // 12}-{v % 12 + 1:02d}" for v in groupings["month"].values.tolist()]}
    for column, by in enumerate(("window", "staff", "service")):
        g = groupings[by]
        keys[by] = [texts[i][column] for i in g.first.tolist()] + [None] * g.has_missing
    named = {texts[i][2]: (hall_ids[cols["hall"][i]], texts[i][3])
             for i in groupings["service"].first.tolist()}
    tallies = {(by, key): t for by, g in groupings.items()
               for key, t in zip(keys[by], _tallies(g, facts), strict=True)}
    return tallies, named


def _months(first: date, last: date) -> np.ndarray:
    """For each day of the period (by its offset from `first`), its month as year * 12 + month - 1."""
    days = (first + timedelta(days=d) for d in range((last - first).days + 1))
    return np.array([d.year * 12 + d.month - 1 for d in days], dtype=np.int64)


def _key_texts(conn: psycopg.Connection, hall_ids: Sequence[str], cols: dict[str, np.ndarray],
               groupings: list[_Grouping]) -> dict[int, tuple[str, str, str, int]]:
    """Row index -> (window key, staff key, service, seq) of the ticket at each row that
    first carried a key of these groupings."""
    rows = sorted({i for g in groupings for i in g.first.tolist()})
    found = conn.execute(_KEYS_SQL, ([hall_ids[h] for h in cols["hall"][rows].tolist()],
                                     cols["id"][rows].tolist())).fetchall()
    return {rows[n - 1]: rest for n, *rest in found}
