"""Halls with real stores, put into a real central database the way the shipper derives its
tables (docs/central.md): the hall's rows of `tickets` and `cases`, its ratings, its events."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import psycopg

from caller.central import schema
from tests.caller.manager.test_stats_data import month_of_tickets, two_day_hall

CENTRAL_TICKET_COLUMNS = (
    "id", "number", "service", "day", "issued_at", "priority", "lang", "state", "window_id",
    "target_window", "first_called_at", "called_at", "started_at", "finished_at", "held_at",
    "service_s", "hold_s", "recalls", "requeues", "transfers", "holds", "staff", "rating",
    "rating_status", "rated_at")
CASE_COLUMNS = ("id", "ticket_id", "number", "service", "window_id", "staff", "level",
                "opened_at", "deadline", "state", "called_back_at", "called_back_by",
                "rectified_at", "rectified_by", "closed_at", "closed_by", "outcome")

# (hall id, name, region code, how its store is made)
THREE_HALLS = (
    ("qingshan", "青山镇便民服务中心", "330106001000", "two_day"),
    ("baiyun", "白云街道便民服务中心", "330106002000", "month:1"),
    ("xiling", "西岭县政务服务中心", "330127", "month:2"),
)
OTHER_CITY = ("donghu", "东湖区政务服务中心", "330203", "month:3")


def make_store(path: Path, kind: str) -> None:
    if kind == "two_day":
        two_day_hall(path).store.close()
    else:
        month_of_tickets(path, "2026-11-23", days=2, per_day=40, seed=int(kind.split(":")[1]))


def _hall_rows(db: Path, table: str, columns: tuple[str, ...]) -> list[tuple]:
    conn = sqlite3.connect(db)
    names = ", ".join('"window"' if c == "window_id" else f'"{c}"' for c in columns)
    rows = conn.execute(f"SELECT {names} FROM {table}").fetchall()
    conn.close()
    return rows


def ship_copy(dsn: str, hall_id: str, name: str, region: str, db: Path) -> None:
    """Write one hall's store into the centre as the shipper's derived tables hold it."""
    events = _hall_rows(db, "events", ("seq", "at", "name", "body"))
    last_seq = max((e[0] for e in events), default=0)
    # each ticket's row as written from the newest event about it (0: the store has none)
    about = {}
    for seq, _, _, body in events:
        ticket = json.loads(body).get("ticket")
        if isinstance(ticket, dict):
            about[ticket["id"]] = seq
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO halls (hall_id, name, region_code, level, timezone, "
                     "config_version, shipped_seq) VALUES (%s, %s, %s, 'town', 'Asia/Shanghai', "
                     "'test', %s)", (hall_id, name, region, last_seq))
        schema.ensure_partitions(conn, {schema.month_of(datetime.fromisoformat(e[1]))
                                        for e in events})
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO events VALUES (%s, %s, %s, %s, 'test', %s)",
                            [(hall_id, *e) for e in events])
            columns = ", ".join(CENTRAL_TICKET_COLUMNS)
            marks = ", ".join(["%s"] * (len(CENTRAL_TICKET_COLUMNS) + 2))
            tickets = _hall_rows(db, "tickets", CENTRAL_TICKET_COLUMNS)
            cur.executemany(
                f"INSERT INTO tickets (hall_id, {columns}, seq) VALUES ({marks})",
                [(hall_id, *t[:5], bool(t[5]), *t[6:], about.get(t[0], 0)) for t in tickets])
            cur.executemany(
                "INSERT INTO ratings (hall_id, ticket_id, number, service, day, window_id, staff, "
                "level, status, rated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(hall_id, t[0], t[1], t[2], t[3], t[8], t[21], t[22], t[23], t[24])
                 for t in tickets if t[23]])
            case_columns = ", ".join(CASE_COLUMNS)
            marks = ", ".join(["%s"] * (len(CASE_COLUMNS) + 1))
            cur.executemany(f"INSERT INTO cases (hall_id, {case_columns}) VALUES ({marks})",
                            [(hall_id, *c) for c in _hall_rows(db, "cases", CASE_COLUMNS)])
