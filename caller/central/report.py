"""The central reports: the hall report's figures over many halls, from the centre.

PostgreSQL tallies the central `tickets` and `cases` tables (docs/central.md) in two
GROUPING SETS queries, the counts, microsecond sums, medians and percentiles that a
`caller.manager.stats.Tally` holds, for the period and for every key of every grouping;
the hall's own functions (`figures_of`, `tally_rows`, `rank_windows`) make the figures of
them, so a figure means the same in a hall's report and in the city's (the tests prove
the server's tallies equal `stats.tally` of the same tickets). Across halls, windows and
staff are told apart by their hall (`hall/window`); services are the city's 事项 and are
grouped by their id over every hall. The ranking ranks halls (流动红旗 at city level) with
the window ranking's scoring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from caller.central.access import CentralError
from caller.core.config import RATING_LEVELS
from caller.manager import report as hall_report
from caller.manager.stats import (
    BAD_LEVELS,
    GROUPINGS,
    RankingWeights,
    RatingRecord,
    Report,
    Spread,
    Tally,
    figures_of,
    peak_of,
    rank_windows,
    tally_rows,
)

CENTRAL_GROUPINGS = ("hall", *GROUPINGS)
_KEY_SEP = "/"  # hall/window, hall/staff
# The column of each grouping, in the order of CENTRAL_GROUPINGS.
_COLUMNS = ("hall_id", "window_key", "staff_key", "service", "hour", "day")
_BAD = ", ".join(f"'{lv}'" for lv in BAD_LEVELS)
# The period's tickets with what the figures read of each, as `stats.ticket_facts` reads a
# hall's row: the wait in exact seconds (numeric), the service time of served tickets only,
# the citizen's own rating only, the hour of issue in the hall's time, and its case.
_PERIOD_SQL = f"""
WITH c AS (
    SELECT hall_id, ticket_id, bool_or(called_back_at IS NOT NULL) AS called_back,
        bool_or(rectified_at IS NOT NULL) AS rectified
    FROM cases WHERE hall_id = ANY(%(halls)s) GROUP BY hall_id, ticket_id),
t AS (
    SELECT t.hall_id, t.hall_id || '{_KEY_SEP}' || t.window_id AS window_key,
        t.hall_id || '{_KEY_SEP}' || t.staff AS staff_key, t.service, t.day::text AS day,
        extract(hour FROM t.issued_at AT TIME ZONE h.timezone)::int AS hour, t.state, t.seq,
        t.transfers <> 0 AS transferred, t.holds <> 0 AS held,
        extract(epoch FROM t.first_called_at - t.issued_at) AS wait,
        CASE WHEN t.state = 'done' THEN t.service_s END AS service_s,
        CASE WHEN t.rating_status = 'rated' THEN t.rating END AS rating,
        t.rating_status = 'default' AS defaulted,
        c.called_back IS TRUE AS called_back, c.rectified IS TRUE AS rectified
    FROM tickets t JOIN halls h ON h.hall_id = t.hall_id
    LEFT JOIN c ON c.hall_id = t.hall_id AND c.ticket_id = t.id
    WHERE t.hall_id = ANY(%(halls)s) AND t.day BETWEEN %(first)s AND %(last)s)
"""
_GROUPING = f"GROUPING({', '.join(_COLUMNS)}), {', '.join(_COLUMNS)}"
# One row for the whole period and one per key of each grouping: the columns of a
# `stats.Tally` but its peak hour. Sums in whole microseconds as `stats.micros` rounds
# (round() of numeric and of float8); median and p90 as `stats.median` and
# `stats.percentile` pick them (percentile_cont(0.5), percentile_disc(0.9)).
_TALLY_SQL = _PERIOD_SQL + f"""
SELECT {_GROUPING},
    count(*), count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'no_show'),
    count(*) FILTER (WHERE state = 'cancelled'), count(*) FILTER (WHERE state = 'waiting'),
    count(*) FILTER (WHERE transferred), count(*) FILTER (WHERE held),
    count(wait), sum(round(wait * 1000000)),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY wait::float8),
    percentile_disc(0.9) WITHIN GROUP (ORDER BY wait::float8),
    count(service_s), sum(round(service_s * 1e6::float8)),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY service_s),
    percentile_disc(0.9) WITHIN GROUP (ORDER BY service_s),
    count(rating), {", ".join(f"count(*) FILTER (WHERE rating = '{lv}')" for lv in RATING_LEVELS)},
    count(*) FILTER (WHERE rating IN ({_BAD})), count(*) FILTER (WHERE defaulted),
    count(*) FILTER (WHERE rating IN ({_BAD}) AND called_back),
    count(*) FILTER (WHERE rating IN ({_BAD}) AND rectified)
FROM t GROUP BY GROUPING SETS ((), {", ".join(f"({c})" for c in _COLUMNS)})
"""
# Tickets per hour of issue over the period and in each key of each grouping (the peak
# hour); and per hall and service the newest ticket row's seq (to read the name near).
_HOURS_SQL = _PERIOD_SQL + f"""
SELECT {_GROUPING}, count(*), max(seq)
FROM t GROUP BY GROUPING SETS ((hour), {", ".join(f"({c}, hour)" for c in _COLUMNS if c != "hour")},
    (hall_id, service))
"""
_RATINGS_SQL = (
    "SELECT r.hall_id, r.ticket_id, r.number, r.service, r.day::text, r.window_id, r.staff, "
    "r.level, r.rated_at, t.seq FROM ratings r JOIN tickets t "
    "ON t.hall_id = r.hall_id AND t.id = r.ticket_id "
    "WHERE r.hall_id = ANY(%s) AND r.day BETWEEN %s AND %s AND r.status = 'rated' "
    "ORDER BY r.rated_at, r.hall_id, r.ticket_id")


@dataclass(frozen=True)
class Hall:
    hall_id: str
    name: str
    region_code: str
    level: str
    tz: ZoneInfo


def select_halls(conn: psycopg.Connection, hall_ids: Sequence[str] = (),
                 region: str | None = None) -> list[Hall]:
    """The halls asked for: these ids, or a region (a code prefix: a city's code covers its
    counties' halls), or every hall; CentralError when none is known."""
    rows = conn.execute(
        "SELECT hall_id, name, region_code, level, timezone FROM halls "
        "WHERE (cardinality(%s::text[]) = 0 OR hall_id = ANY(%s)) "
        "AND (%s::text IS NULL OR region_code LIKE %s) ORDER BY region_code, hall_id",
        (list(hall_ids), list(hall_ids), region, f"{region}%")).fetchall()
    halls = [Hall(h, name, code, level, ZoneInfo(tz)) for h, name, code, level, tz in rows]
    unknown = sorted(set(hall_ids) - {h.hall_id for h in halls})
    if unknown:
        within = f" in region {region}" if region else ""
        raise CentralError(f"no hall {', '.join(unknown)}{within} in the central database")
    if not halls:
        raise CentralError(f"no hall in region {region} in the central database" if region
                           else "the central database holds no hall yet")
    return halls


Key = tuple[str, Any]  # (grouping, key); ("", None) for the whole period


def _key(row: Sequence[Any]) -> tuple[list[str], list[Any]]:
    """The columns a grouping-set row is grouped by (GROUPING's bit set: not grouped), and
    their values; then the rest of the row."""
    bits, values = row[0], row[1:1 + len(_COLUMNS)]
    grouped = [i for i in range(len(_COLUMNS)) if not bits >> (len(_COLUMNS) - 1 - i) & 1]
    return [CENTRAL_GROUPINGS[i] for i in grouped], [values[i] for i in grouped]


def _spread(count: int, sum_us: Decimal | None, median: float | None, p90: float | None) -> Spread:
    return Spread(count, int(sum_us or 0), median, p90)


def load_tallies(conn: psycopg.Connection, halls: Sequence[Hall], first: date,
                 last: date) -> tuple[dict[Key, Tally], dict[str, tuple[str, int]]]:
    """The tally of the period's tickets, and of each key of each grouping, made by the
    server; and for each service the (hall, seq) a ticket row of it was written at, to read
    its name near."""
    params = {"halls": [h.hall_id for h in halls], "first": first, "last": last}
    hours: dict[Key, dict[int, int]] = defaultdict(dict)
    named: dict[str, tuple[str, int]] = {}
    for row in conn.execute(_HOURS_SQL, params):
        by, values = _key(row)
        count, seq = row[-2:]
        if by == ["hall", "service"]:
            named.setdefault(values[1], (values[0], seq))
        elif by == ["hour"]:  # the period's hours, each its own hour row's only hour
            hours[("", None)][values[0]] = hours[("hour", values[0])][values[0]] = count
        else:
            (by_key, key), = ((b, v) for b, v in zip(by, values, strict=True) if b != "hour")
            hours[(by_key, key)][values[by.index("hour")]] = count
    tallies: dict[Key, Tally] = {}
    for row in conn.execute(_TALLY_SQL, params):
        by, values = _key(row)
        group = (by[0], values[0]) if by else ("", None)
        (issued, served, passed, cancelled, waiting, transferred, held, *spreads) = row[1 + len(_COLUMNS):]
        waits, services, rest = spreads[:4], spreads[4:8], spreads[8:]
        rated, levels, (bad, defaulted, called_back, rectified) = (
            rest[0], rest[1:1 + len(RATING_LEVELS)], rest[1 + len(RATING_LEVELS):])
        hour, hour_count = peak_of(hours.get(group, {}))
        tallies[group] = Tally(
            issued, served, passed, cancelled, waiting, transferred, held, _spread(*waits),
            _spread(*services), hour, hour_count, rated, dict(zip(RATING_LEVELS, levels, strict=True)),
            bad, defaulted, called_back, rectified)
    return tallies, named


def service_names(conn: psycopg.Connection, named: dict[str, tuple[str, int]]) -> dict[str, str]:
    """Service id -> name, from the ticket view in a shipped event about the service: the
    newest at or before the batch a ticket row of it was written with (`tickets.seq`)."""
    if not named:
        return {}
    services = list(named)
    halls, seqs = zip(*named.values(), strict=True)
    rows = conn.execute(
        "SELECT w.service, (SELECT e.body->'ticket'->>'service_name' FROM events e "
        "WHERE e.hall_id = w.hall_id AND e.seq <= w.seq AND e.body->'ticket'->>'service' = w.service "
        "ORDER BY e.seq DESC LIMIT 1) "
        "FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS w(service, hall_id, seq)",
        (services, list(halls), list(seqs))).fetchall()
    return {service: name for service, name in rows if name}


def _display_names(rows: list[dict], by: str, halls: dict[str, Hall],
                   services: dict[str, str]) -> None:
    """Names a city reader recognises: "青山镇便民服务中心 3" for a hall's window or staff."""
    for row in rows:
        if row["key"] is None:
            continue
        if by == "service":
            row["name"] = services.get(row["key"], row["key"])
        elif by in ("window", "staff"):
            hall_id, _, own = row["key"].partition(_KEY_SEP)
            row["name"] = f"{halls[hall_id].name} {own}"


def hall_rows(tallies: dict[Key, Tally], halls: Sequence[Hall]) -> list[dict[str, Any]]:
    """One row per hall: its figures, as its own report's summary."""
    return [{"key": h.hall_id, "name": h.name, "region_code": h.region_code, "level": h.level,
             **figures_of(tallies.get(("hall", h.hall_id), Tally()), True)} for h in halls]


def rank_halls(rows: Sequence[dict], city_wait_avg_s: float | None,
               weights: RankingWeights) -> list[dict[str, Any]]:
    """The 流动红旗 of halls: the window ranking's scoring with halls in the windows' place
    (volume against the busiest hall, wait against the average over all the halls)."""
    levels = {r["key"]: r["level"] for r in rows}
    return [{"hall": r["window"], "level": levels[r["window"]],
             **{k: v for k, v in r.items() if k != "window"}}
            for r in rank_windows(rows, city_wait_avg_s, weights)]


def title(halls: Sequence[Hall], region: str | None) -> str:
    if len(halls) == 1:
        return halls[0].name
    where = f"{region} 辖区" if region else "全部"
    return f"{where} {len(halls)} 个大厅"


def compute_central_report(conn: psycopg.Connection, halls: Sequence[Hall], first: date,
                           last: date, *, weights: RankingWeights | None = None,
                           region: str | None = None, now: datetime | None = None) -> Report:
    """Every figure of the period over the halls: the summary, one row per hall, the hall
    report's groupings, and the ranking of halls."""
    if last < first:
        raise CentralError(f"the period ends ({last}) before it starts ({first})")
    weights = weights or RankingWeights()
    tallies, named = load_tallies(conn, halls, first, last)
    summary = figures_of(tallies.get(("", None), Tally()), True)
    by_id = {h.hall_id: h for h in halls}
    names = service_names(conn, named)
    groups = {"hall": hall_rows(tallies, halls)}
    for by in GROUPINGS:
        mine = {key: t for (grouping, key), t in tallies.items() if grouping == by}
        groups[by] = tally_rows(mine, by, True, None, first, last)
        _display_names(groups[by], by, by_id, names)
    for row in groups["window"]:
        row["transferred_out"] = None  # from a hall's event log only
    tz = halls[0].tz
    return Report(
        hall=title(halls, region), first=first, last=last,
        generated_at=(now or datetime.now(tz)).isoformat(timespec="seconds"), summary=summary,
        groups=groups, ranking=rank_halls(groups["hall"], summary["wait_avg_s"], weights),
        weights=weights, followup_available=True, ranked="hall")


def haocha_rows(conn: psycopg.Connection, halls: Sequence[Hall], first: date,
                last: date) -> list[list[Any]]:
    """The 好差评 rows of every hall, oldest first, each with its hall's 行政区划代码; the
    办件编号 carries the hall's id (two halls number their tickets alike)."""
    by_id = {h.hall_id: h for h in halls}
    rows = conn.execute(_RATINGS_SQL, ([h.hall_id for h in halls], first, last)).fetchall()
    named: dict[str, tuple[str, int]] = {}
    for hall_id, _, _, service, *_, seq in rows:
        named.setdefault(service, (hall_id, seq))
    names = service_names(conn, named)
    out = []
    for hall_id, ticket_id, number, service, day, window, staff, level, rated_at, _ in rows:
        hall = by_id[hall_id]
        record = RatingRecord(ticket_id, f"{hall_id}-{number}", names.get(service, service), day,
                              f"{hall.name} {window}" if window else None, staff, level,
                              rated_at.astimezone(hall.tz))
        out += hall_report.haocha_rows([record], None, hall.region_code)
    return out
