"""The city's 30-day report from the central database: `central_report_s` at
`central_events` events.

A throwaway PostgreSQL (hallq/harness/postgres.py) is filled by the server itself
(INSERT … SELECT over generate_series: no rows cross the socket) with 100 halls in four
counties × 30 days of tickets, their ratings and cases-free follow-up, and eight events per
ticket (issued, queue, called, queue, started, finished, rating requested, rating
received), about ten million events. Then the report is run as `hallq report --central
--region … --out city.xlsx` runs it: every figure of the period, the 按大厅 sheet and the
ranking of halls, written as a workbook. Two sizes tell how the cost grows: one county
(a quarter of the halls) and the whole city. `--keep DIR` fills a cluster in DIR once and
reports from it again on later runs (the fill takes minutes).

    .venv/bin/python -m hallq.benches.central [--quick] [--keep /var/tmp/hallq-central]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg

from caller.central import centre, schema
from caller.central.access import connect_readonly
from caller.central.report import compute_central_report, select_halls
from caller.core.protocol import Event
from caller.manager.report import write_xlsx
from hallq.harness.postgres import DATABASE, Postgres

FIRST_DAY = date(2026, 11, 1)
COUNTIES = ("330101", "330102", "330103", "330104")
SERVICES = ("civil", "labour", "family", "party", "build", "finance", "green")
WINDOWS = 8
TICKET_EVENTS = (Event.TICKET_ISSUED, Event.QUEUE_CHANGED, Event.TICKET_CALLED,
                 Event.QUEUE_CHANGED, Event.TICKET_STARTED, Event.TICKET_FINISHED,
                 Event.RATING_REQUESTED, Event.RATING_RECEIVED)
FREE_DISK_GB = 10  # refuse to start below this much free space in the temporary folder


@dataclass(frozen=True)
class Size:
    halls: int
    days: int
    per_day: int  # tickets per hall and day

    @classmethod
    def for_mode(cls, quick: bool) -> Size:
        return cls(20, 7, 40) if quick else cls(100, 30, 420)

    @property
    def events(self) -> int:
        return self.halls * self.days * self.per_day * len(TICKET_EVENTS)


def _halls_sql(size: Size) -> tuple[str, list]:
    rows = [(f"h{n:03d}", f"第{n:03d}便民服务中心", f"{COUNTIES[n % len(COUNTIES)]}{n:03d}")
            for n in range(size.halls)]
    sql = ("INSERT INTO halls (hall_id, name, region_code, level, timezone, config_version) "
           "SELECT * , 'town', 'Asia/Shanghai', 'bench' FROM unnest(%s::text[], %s::text[], %s::text[])")
    return sql, [list(c) for c in zip(*rows, strict=True)]


# One row per ticket, drawn with random(): 90 % served, 5 % passed, 5 % cancelled; waits of
# up to an hour, 2–30 minutes at the window, 80 % of the served rated.
_TICKETS_SQL = """
INSERT INTO tickets (hall_id, id, number, service, day, issued_at, priority, lang, state,
    window_id, first_called_at, called_at, started_at, finished_at, service_s, transfers,
    holds, staff, rating, rating_status, rated_at, seq)
SELECT hall_id, id, chr(65 + s) || lpad((id %% %(per_day)s + 1)::text, 3, '0'), services[s + 1],
    day, issued, false, 'zh', state,
    CASE WHEN state <> 'cancelled' THEN w::text END,
    CASE WHEN state <> 'cancelled' THEN issued + wait END,
    CASE WHEN state <> 'cancelled' THEN issued + wait END,
    CASE WHEN state = 'done' THEN issued + wait + interval '30 seconds' END,
    CASE WHEN state = 'done' THEN issued + wait + served END,
    CASE WHEN state = 'done' THEN extract(epoch FROM served) ELSE 0 END,
    (r3 < 0.05)::int, (r3 > 0.97)::int,
    CASE WHEN state <> 'cancelled' THEN '10' || w END,
    CASE WHEN state = 'done' AND r4 < 0.8 THEN levels[1 + (r5 * r5 * 5)::int %% 5] END,
    CASE WHEN state = 'done' THEN CASE WHEN r4 < 0.8 THEN 'rated' ELSE 'timeout' END END,
    CASE WHEN state = 'done' AND r4 < 0.8 THEN issued + wait + served + interval '5 seconds' END,
    (id + 1) * %(events)s
FROM (
    SELECT hall_id, id, day, (r2 * 7)::int %% 7 AS s, 1 + (r6 * %(windows)s)::int %% %(windows)s AS w,
        day::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '8 hours 30 minutes'
            + r7 * interval '9 hours' AS issued,
        r8 * interval '1 hour' AS wait, interval '2 minutes' + r9 * interval '28 minutes' AS served,
        CASE WHEN r1 < 0.9 THEN 'done' WHEN r1 < 0.95 THEN 'no_show' ELSE 'cancelled' END AS state,
        r3, r4, r5, %(services)s::text[] AS services, %(levels)s::text[] AS levels
    FROM (
        SELECT h.hall_id, g AS id, %(first)s::date + g / %(per_day)s AS day,
            random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
            random() AS r6, random() AS r7, random() AS r8, random() AS r9
        FROM halls h, generate_series(0, %(days)s * %(per_day)s - 1) g
    ) drawn
) t
"""

_RATINGS_SQL = """
INSERT INTO ratings (hall_id, ticket_id, number, service, day, window_id, staff, level, status, rated_at)
SELECT hall_id, id, number, service, day, window_id, staff, rating, rating_status, rated_at
FROM tickets WHERE rating_status IS NOT NULL
"""

# Eight events per ticket, a second apart from its issue, bodies like the hub's.
_EVENTS_SQL = """
INSERT INTO events (hall_id, seq, at, name, config_version, body)
SELECT hall_id, id * %(events)s + k + 1, issued_at + k * interval '1 second', names[k + 1], 'bench',
    json_build_object('type', 'event', 'seq', id * %(events)s + k + 1, 'event', names[k + 1],
        'ticket', json_build_object('id', id, 'number', number, 'service', service,
            'service_name', service || '业务', 'priority', 'normal', 'state', state,
            'window', window_id, 'issued_at', issued_at, 'called_at', called_at,
            'finished_at', finished_at, 'recalls', 0))
FROM tickets, generate_series(0, %(events)s - 1) k, (SELECT %(names)s::text[] AS names) n
WHERE hall_id = %(hall)s
"""


def fill(dsn: str, size: Size) -> float:
    """Generate the data in the server; seconds it took."""
    started = time.perf_counter()
    last = FIRST_DAY + timedelta(days=size.days)
    with psycopg.connect(dsn, autocommit=True) as conn:
        schema.migrate(conn)
        months = set()
        day = FIRST_DAY - timedelta(days=1)
        while day <= last:
            months.add(date(day.year, day.month, 1))
            day += timedelta(days=1)
        schema.ensure_partitions(conn, months)
        conn.execute(*_halls_sql(size))
        params = {"per_day": size.per_day, "days": size.days, "first": FIRST_DAY,
                  "windows": WINDOWS, "services": list(SERVICES), "events": len(TICKET_EVENTS),
                  "levels": ["very_satisfied", "satisfied", "basic", "dissatisfied",
                             "very_dissatisfied"]}
        conn.execute(_TICKETS_SQL, params)
        conn.execute(_RATINGS_SQL)
        names = [str(e) for e in TICKET_EVENTS]
        days = {FIRST_DAY + timedelta(days=d) for d in range(size.days)}
        for (hall_id,) in conn.execute("SELECT hall_id FROM halls").fetchall():
            conn.execute(_EVENTS_SQL, {"events": len(TICKET_EVENTS), "names": names, "hall": hall_id})
            with conn.cursor() as cur:  # the derived days as the shipper leaves them, the
                centre.derive_days(cur, hall_id, days)  # period's last day still open (today)
                centre.close_days(cur, hall_id, last - timedelta(days=1))
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def report_seconds(dsn: str, region: str, first: date, last: date, out: Path) -> tuple[float, int]:
    """`hallq report --central --region REGION --out city.xlsx`, timed; and its tickets."""
    started = time.perf_counter()
    with connect_readonly(dsn) as conn:
        halls = select_halls(conn, (), region)
        result = compute_central_report(conn, halls, first, last, region=region)
    write_xlsx(result, out, ["hall", "window", "staff", "service", "hour", "day"])
    return time.perf_counter() - started, result.summary["issued"]


def _filled(dsn: str, size: Size) -> bool:
    """Whether the database already holds this size's generated halls and tickets."""
    with psycopg.connect(dsn) as conn:
        if schema.schema_version(conn) != len(schema.migrations()):
            return False
        halls, tickets = conn.execute("SELECT (SELECT count(*) FROM halls), "
                                      "(SELECT count(*) FROM tickets)").fetchone()
    return (halls, tickets) == (size.halls, size.halls * size.days * size.per_day)


def measure(quick: bool, keep: Path | None = None) -> dict:
    """`keep`: the folder of a cluster to fill once and reuse (generating ten million
    events takes minutes), left running; a new throwaway cluster when None."""
    size = Size.for_mode(quick)
    tmp = Path(tempfile.gettempdir()) if keep is None else keep.parent
    free_gb = shutil.disk_usage(tmp).free / 2**30
    if free_gb < FREE_DISK_GB and not (keep is not None and keep.exists()):
        return {"central_report_s": None, "central_events": None,
                "central_note": f"only {free_gb:.0f} GB free in {tmp}, {FREE_DISK_GB} GB needed"}
    first, last = FIRST_DAY, FIRST_DAY + timedelta(days=size.days - 1)
    pg = Postgres(keep)
    if keep is None or not (pg.data / "postmaster.pid").exists():  # a kept one may be running
        pg.start()
    try:
        fill_s = None
        if keep is None or not _filled(pg.dsn, size):
            if keep is not None:  # another size, or a fill cut short: start again
                with psycopg.connect(pg.dsn_for("postgres"), autocommit=True) as conn:
                    conn.execute(f"DROP DATABASE {DATABASE}")
                    conn.execute(f"CREATE DATABASE {DATABASE}")
            fill_s = round(fill(pg.dsn, size), 1)
        with psycopg.connect(pg.dsn) as conn:
            events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            disk = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        with tempfile.TemporaryDirectory(prefix="hallq-bench-central-") as work:
            county_s, county_tickets = report_seconds(pg.dsn, COUNTIES[0], first, last,
                                                      Path(work) / "county.xlsx")
            city_s, city_tickets = report_seconds(pg.dsn, COUNTIES[0][:4], first, last,
                                                  Path(work) / "city.xlsx")
    finally:
        if keep is None:
            pg.close()
    per_ticket = len(TICKET_EVENTS)
    return {"central_report_s": round(city_s, 2), "central_events": events,
            "central_tickets": city_tickets,
            "central_county_report_s": round(county_s, 2),
            "central_county_events": county_tickets * per_ticket,
            "central_fill_s": fill_s, "central_db_mb": round(disk / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="fill a cluster in DIR once and reuse it on later runs")
    args = parser.parse_args()
    print(json.dumps(measure(args.quick, args.keep), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
