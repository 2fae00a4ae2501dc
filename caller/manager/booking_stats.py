"""Appointments (预约) and remote tickets (线上取号) in figures: per business day and
service, bookings made for that day, check-ins (on time and late), no-shows,
cancellations and remote tickets taken (docs/statistics.md, "Appointments")."""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

BOOKING_COLUMNS = {"booked": "预约数", "checked_in": "签到数", "late": "其中迟到",
                   "no_show": "爽约数", "cancelled": "取消数", "remote": "线上取号数"}


def booking_rows(conn: sqlite3.Connection, first: date, last: date) -> list[dict[str, Any]]:
    """One row per (day, service) with any booking or remote ticket, oldest day first; [] for
    a database from before appointments."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "bookings" not in tables:
        return []
    span = (first.isoformat(), last.isoformat())
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(day: str, service: str) -> dict[str, Any]:
        return rows.setdefault((day, service), {"day": day, "service": service,
                                                **dict.fromkeys(BOOKING_COLUMNS, 0)})

    for day, service, state, n in conn.execute(
            "SELECT day, service, state, COUNT(*) FROM bookings WHERE day BETWEEN ? AND ? "
            "GROUP BY day, service, state", span):
        r = row(day, service)
        r["booked"] += n
        if state in ("checked_in", "late"):
            r["checked_in"] += n
        if state in ("late", "no_show", "cancelled"):
            r[state] += n
    for day, service, n in conn.execute(
            "SELECT day, service, COUNT(*) FROM tickets WHERE source = 'remote' "
            "AND day BETWEEN ? AND ? GROUP BY day, service", span):
        row(day, service)["remote"] += n
    return [rows[k] for k in sorted(rows)]


def booking_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {k: sum(r[k] for r in rows) for k in BOOKING_COLUMNS}
