"""Comparing a hall's SQLite store with what the centre holds of it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import date, datetime
from pathlib import Path

import psycopg

from caller.central.hall_log import TICKET_COLUMNS
from caller.core.client import HubClient
from caller.manager import stats

LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")


async def serve_citizens(url: str, done: asyncio.Event, window: str = "1",
                         service: str = "civil") -> int:
    """A clerk at `window` issues, calls, finishes and has rated ticket after ticket through
    the admin device until `done`, riding out hub restarts; returns the tickets served."""
    served = 0
    async with HubClient(url, "admin", "demo-admin", backoff=(0.05, 0.5)) as client:
        await client.request("login", window=window, staff="1001", timeout=20)
        while not done.is_set():
            for kind, args in (("issue_ticket", {"service": service}), ("call_next", {"window": window}),
                               ("finish", {"window": window}),
                               ("rate", {"window": window, "level": LEVELS[served % len(LEVELS)]})):
                await client.request(kind, timeout=20, **args)
            served += 1
            await asyncio.sleep(0.2)  # the demo hall caps civil at 200 tickets a day
    return served


def hub_seq(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]


def centre_position(dsn: str, hall_id: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT shipped_seq FROM halls WHERE hall_id = %s", (hall_id,)).fetchone()
    return row[0] if row else 0


def wait_shipped(dsn: str, halls: dict[str, Path], timeout: float = 60.0) -> None:
    """Until the centre holds every hall's log up to its end."""
    deadline = time.monotonic() + timeout
    while True:
        behind = {h: (centre_position(dsn, h), hub_seq(db)) for h, db in halls.items()}
        if all(c == s for c, s in behind.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the centre is behind (centre, hall): {behind}")
        time.sleep(0.2)


def hall_events(db: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT seq, name FROM events ORDER BY seq").fetchall()


def centre_events(dsn: str, hall_id: str) -> list[tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT seq, name FROM events WHERE hall_id = %s ORDER BY seq, at",
                            (hall_id,)).fetchall()


def _plain(column: str, value: object) -> object:
    if value is None:
        return None
    if column.endswith("_at"):
        return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else value.timestamp()
    if column == "day":
        return value if isinstance(value, str) else value.isoformat()
    if column == "priority":
        return bool(value)
    if column in ("service_s", "hold_s"):
        return round(float(value), 6)
    return value


def hall_tickets(db: Path) -> dict[int, dict]:
    columns = ", ".join(f'"{c}"' for c in TICKET_COLUMNS)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(f"SELECT {columns} FROM tickets").fetchall()
    return {r[0]: {c: _plain(c, v) for c, v in zip(TICKET_COLUMNS, r, strict=True)} for r in rows}


def centre_tickets(dsn: str, hall_id: str) -> dict[int, dict]:
    names = ", ".join("window_id" if c == "window" else c for c in TICKET_COLUMNS)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(f"SELECT {names} FROM tickets WHERE hall_id = %s", (hall_id,)).fetchall()
    return {r[0]: {c: _plain(c, v) for c, v in zip(TICKET_COLUMNS, r, strict=True)} for r in rows}


def centre_facts(dsn: str, hall_id: str, tz) -> list[stats.TicketFacts]:
    """The centre's tickets as the hall's statistics read them (stats.load_tickets's rules)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT t.id, t.service, t.window_id, t.staff, t.day, t.issued_at, t.first_called_at, t.state, "
            "t.transfers, t.holds, t.service_s, t.rating, t.rating_status, "
            "bool_or(c.called_back_at IS NOT NULL), "
            "bool_or(c.rectified_at IS NOT NULL) FROM tickets t LEFT JOIN cases c "
            "ON c.hall_id = t.hall_id AND c.ticket_id = t.id WHERE t.hall_id = %s "
            "GROUP BY t.hall_id, t.id", (hall_id,)).fetchall()
    return [stats.TicketFacts(
        id=tid, service=service, window=window, staff=staff, day=day.isoformat(),
        hour=issued.astimezone(tz).hour, state=state, transferred=bool(transfers), held=bool(holds),
        wait_s=(called - issued).total_seconds() if called else None,
        service_s=float(service_s or 0.0) if state == "done" else None,
        rating=rating if status == "rated" else None, defaulted=status == "default",
        called_back=cb, rectified=rect)
        for (tid, service, window, staff, day, issued, called, state, transfers, holds, service_s,
             rating, status, cb, rect) in rows]


def hall_figures(db: Path, day: date, tz) -> dict:
    conn = stats.open_readonly(db)
    try:
        return stats.figures(stats.load_tickets(conn, day, day, tz), followup=True)
    finally:
        conn.close()


def run_async(coro):
    return asyncio.run(coro)
