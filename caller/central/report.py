"""The central reports: the hall report's figures over many halls, from the centre.

The central `tickets` and `cases` tables (docs/central.md) are tallied
(caller/central/tally.py) into the counts, microsecond sums, medians and percentiles that
a `caller.manager.stats.Tally` holds, for the period and for every key of every grouping;
the hall's own functions (`figures_of`, `tally_rows`, `rank_windows`) make the figures of
them, so a figure means the same in a hall's report and in the city's (the tests prove
those tallies equal `stats.tally` of the same tickets). Across halls, windows and
staff are told apart by their hall (`hall/window`); services are the city's 事项 and are
grouped by their id over every hall. The ranking ranks halls (流动红旗 at city level) with
the window ranking's scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from caller.central.access import CentralError
from caller.central.tally import KEY_SEP, Key, load_tallies
from caller.core.config import RatingPolicy
from caller.manager import record as rating_record
from caller.manager.stats import (
    GROUPINGS,
    RankingWeights,
    Report,
    Tally,
    figures_of,
    rank_windows,
    tally_rows,
)

CENTRAL_GROUPINGS = ("hall", *GROUPINGS)
# The rating record's rows, the time in the hall's own zone as rating_record.TIME_FORMAT
# gives it: formatting 900,000 times in Python cost more than the query.
_RATINGS_SQL = (
    "SELECT r.hall_id, r.ticket_id, r.service, r.window_id, r.staff, r.level, r.status, "
    "to_char(r.rated_at AT TIME ZONE h.timezone, 'YYYYMMDD\"T\"HH24MISS'), r.hall_id || '-' || r.number, "
    "r.case_no, r.appeal, r.reasons, r.rating_text, r.holder_name "
    "FROM ratings r JOIN halls h ON h.hall_id = r.hall_id "
    "WHERE r.hall_id = ANY(%s) AND r.day BETWEEN %s AND %s "
    "AND r.status IN ('rated', 'default') AND r.level IS NOT NULL "
    "ORDER BY r.rated_at, r.hall_id, r.ticket_id")
_POLICY_KEYS = ("channel_name", "channel_code", "code_order")  # of `shipper.record_settings`
_SORT_MEMORY = "SET LOCAL work_mem = '256MB'"  # a region's month of ratings sorted in memory
_TICKET_SEQS_SQL = (
    "SELECT x.service, t.hall_id, t.seq FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
    "AS x(service, hall_id, id) JOIN tickets t ON t.hall_id = x.hall_id AND t.id = x.id")


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
            hall_id, _, own = row["key"].partition(KEY_SEP)
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
    tallies, named = load_tallies(conn, [h.hall_id for h in halls], first, last)
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
                last: date) -> list[rating_record.RecordRow]:
    """The rating record (caller/manager/record.py) of every hall, oldest first, each row as
    its hall's own export writes it (from the ratings, config settings and staff roster the
    shipper sends), except that 排队号 carries the hall's id (two halls number their tickets
    alike) and 评价次数 counts a 办件编号's ratings over the whole export."""
    with conn.transaction():
        conn.execute(_SORT_MEMORY)
        rows = conn.execute(_RATINGS_SQL, ([h.hall_id for h in halls], first, last)).fetchall()
        kept = {hall_id: (record, roster) for hall_id, record, roster in conn.execute(
            "SELECT hall_id, record, roster FROM halls WHERE hall_id = ANY(%s)",
            ([h.hall_id for h in halls],))}
    # a hall last shipped by a hallq before schema 6 sent no services: their names from its events
    unnamed: dict[str, tuple[str, int]] = {}  # service -> (hall, ticket) of its first row
    for hall_id, ticket, service, *_ in rows:
        if "services" not in kept[hall_id][0]:
            unnamed.setdefault(service, (hall_id, ticket))
    names = service_names(conn, _ticket_seqs(conn, unnamed))
    records = {h.hall_id: _hall_record(h, *kept[h.hall_id], names) for h in halls}
    out = rating_record.Rows()
    for (hall_id, _ticket, service, window, staff, level, status, rated_at, number, case_no,
         appeal, reasons, text, holder) in rows:
        out.add(records[hall_id], case_no=case_no, service=service, holder=holder,
                rated_at=rated_at, level=level, status=status, reasons=reasons, text=text,
                staff=staff, window=window, number=number, appeal=appeal)
    return out.rows


def _hall_record(hall: Hall, settings: dict, roster: dict | None,
                 names: dict[str, str]) -> rating_record.HallRecord:
    """What the shipper sent of the hall's config and roster, as its own export reads it."""
    policy = replace(RatingPolicy(), **{k: settings[k] for k in _POLICY_KEYS if k in settings})
    items = ({s: (code, name) for s, (code, name) in settings["services"].items()}
             if "services" in settings else {s: ("", n) for s, n in names.items()})
    return rating_record.HallRecord(hall.region_code, policy, items, settings.get("windows", {}),
                                    roster or {})


def _ticket_seqs(conn: psycopg.Connection,
                 tickets: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """service -> (hall, seq its ticket's row was written at), for `service_names`."""
    if not tickets:
        return {}
    halls, ids = zip(*tickets.values(), strict=True)
    rows = conn.execute(_TICKET_SEQS_SQL, (list(tickets), list(halls), list(ids))).fetchall()
    return {service: (hall_id, seq) for service, hall_id, seq in rows}
