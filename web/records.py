"""What the console reads from the hall database (read only): alert history, cases,
appeals and bookings."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from caller.core.booking import mask_phone
from caller.core.personal import mask_name
from caller.manager.booking_stats import booking_rows
from caller.manager.stats import open_readonly

ALERT_COLUMNS = ("id", "kind", "at", "message", "window", "ticket_number", "device",
                 "acknowledged_at", "acknowledged_by")
CASE_COLUMNS = ("id", "ticket_id", "number", "service", "window", "staff", "level", "opened_at",
                "deadline", "state", "called_back_at", "called_back_by", "callback_note", "cause",
                "fix", "rectified_at", "rectified_by", "closed_at", "closed_by", "outcome")
MAX_ROWS = 500


@dataclass(frozen=True)
class AlertFilter:
    kind: str = ""
    state: str = ""  # "" | "open" | "acknowledged"
    first: date | None = None
    last: date | None = None


def _rows(db: Path, sql: str, args: tuple, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    conn = open_readonly(db)
    try:
        try:
            rows = conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # a database from before alerts and cases
            return []
    finally:
        conn.close()
    return [dict(zip(columns, r, strict=True)) for r in rows]


def alert_history(db: Path, f: AlertFilter) -> list[dict[str, Any]]:
    where, args = ["1=1"], []
    if f.kind:
        where.append("kind = ?")
        args.append(f.kind)
    if f.state == "open":
        where.append("acknowledged_at IS NULL")
    elif f.state == "acknowledged":
        where.append("acknowledged_at IS NOT NULL")
    if f.first:
        where.append("at >= ?")
        args.append(f.first.isoformat())
    if f.last:
        where.append("substr(at, 1, 10) <= ?")
        args.append(f.last.isoformat())
    sql = (f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE {' AND '.join(where)} "
           f"ORDER BY id DESC LIMIT {MAX_ROWS}")
    return _rows(db, sql, tuple(args), ALERT_COLUMNS)


def cases(db: Path, today: date, state: str = "") -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases"
    args: tuple = ()
    if state:
        sql += " WHERE state = ?"
        args = (state,)
    sql += f" ORDER BY state = 'closed', id DESC LIMIT {MAX_ROWS}"
    return [_with_overdue(c, today) for c in _rows(db, sql, args, CASE_COLUMNS)]


def case(db: Path, case_id: int, today: date) -> dict[str, Any] | None:
    found = _rows(db, f"SELECT {', '.join(CASE_COLUMNS)} FROM cases WHERE id = ?", (case_id,),
                  CASE_COLUMNS)
    return _with_overdue(found[0], today) if found else None


def _with_overdue(c: dict[str, Any], today: date) -> dict[str, Any]:
    """Overdue: still open after its last working day (the deadline the hub set)."""
    return {**c, "overdue": c["state"] != "closed" and today.isoformat() > c["deadline"]}


APPEAL_COLUMNS = ("id", "ticket_id", "number", "service", "window", "staff", "level", "day",
                  "filed_at", "filed_by", "reason", "state", "decided_at", "decided_by", "note")
APPEALABLE_COLUMNS = ("id", "number", "service", "window", "staff", "rating", "rated_at", "day")
APPEALABLE_DAYS = 90  # how far back the console offers bad ratings to appeal


def appeals(db: Path, state: str = "") -> list[dict[str, Any]]:
    """Appeals, the pending ones first, newest first."""
    sql = f"SELECT {', '.join(APPEAL_COLUMNS)} FROM appeals"
    args: tuple = ()
    if state:
        sql += " WHERE state = ?"
        args = (state,)
    sql += f" ORDER BY state != 'pending', id DESC LIMIT {MAX_ROWS}"
    return _rows(db, sql, args, APPEAL_COLUMNS)


def appealable(db: Path, today: date) -> list[dict[str, Any]]:
    """Citizens' bad ratings of the last APPEALABLE_DAYS days with no appeal yet."""
    since = date.fromordinal(today.toordinal() - APPEALABLE_DAYS).isoformat()
    sql = (f"SELECT {', '.join(APPEALABLE_COLUMNS)} FROM tickets WHERE rating_status = 'rated' "
           "AND rating IN ('dissatisfied', 'very_dissatisfied') AND appeal IS NULL AND day >= ? "
           f"ORDER BY rated_at DESC LIMIT {MAX_ROWS}")
    return _rows(db, sql, (since,), APPEALABLE_COLUMNS)


BOOKING_COLUMNS = ("id", "service", "slot", "slot_end", "state", "name", "phone", "id_last4",
                   "ticket_number")


def bookings(db: Path, day: date, service: str = "") -> tuple[list[dict[str, Any]],
                                                               list[dict[str, Any]]]:
    """One day's bookings, the holder masked, by slot; and the day's figures per service
    (`booking_rows`, the report's 预约统计); both for one service when `service` is given."""
    sql = f"SELECT {', '.join(BOOKING_COLUMNS)} FROM bookings WHERE day = ?"
    args: tuple = (day.isoformat(),)
    if service:
        sql += " AND service = ?"
        args += (service,)
    rows = _rows(db, sql + f" ORDER BY slot, service, id LIMIT {MAX_ROWS}", args, BOOKING_COLUMNS)
    conn = open_readonly(db)
    try:
        figures = [r for r in booking_rows(conn, day, day) if not service or r["service"] == service]
    finally:
        conn.close()
    for r in rows:
        r["name"] = mask_name(r["name"]) if r["name"] else None
        r["phone"] = mask_phone(r["phone"]) if r["phone"] else None
    return rows, figures
