"""Reading the hub's event log for shipping: its SQLite file, opened read-only.

Why the file and not the websocket replay: the replay is bounded (REPLAY_MAX events, a
snapshot beyond), sends one frame per event and filters by audience, while a week's
backlog must go in seconds and whole. Reading the file in WAL mode never blocks the hub's
writer, and one read transaction gives a batch of events together with the ticket and
case rows they are about, as of the same commit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from caller.core import protocol
from caller.core.errors import HallqError

# The hall's ticket and case columns the centre keeps (caller/hub/store.py has them all).
TICKET_COLUMNS = ("id", "number", "service", "day", "issued_at", "priority", "lang", "state",
                  "window", "target_window", "first_called_at", "called_at", "started_at",
                  "finished_at", "held_at", "service_s", "hold_s", "recalls", "requeues",
                  "transfers", "holds", "staff", "rating", "rating_status", "rated_at",
                  "case_no", "appeal", "rating_reasons", "rating_text",
                  "person_key", "holder_name", "id_last4")
# Shipped only with [central] personal_data: the keyed hash, the masked name, the last
# four, and the citizen's own words (文字评价), which may name them.
PERSONAL_COLUMNS = ("rating_text", "person_key", "holder_name", "id_last4")
CASE_COLUMNS = ("id", "ticket_id", "number", "service", "window", "staff", "level", "opened_at",
                "deadline", "state", "called_back_at", "called_back_by", "rectified_at",
                "rectified_by", "closed_at", "closed_by", "outcome")
_CASE_EVENTS = (protocol.Event.CASE_OPENED, protocol.Event.CASE_UPDATED)
_APPEAL_EVENTS = (protocol.Event.APPEAL_FILED, protocol.Event.APPEAL_DECIDED)
# Free text the hall keeps: a case's call-back note, cause and fix (they may name the
# citizen and their phone) never leave it; the citizen's own words only with personal_data.
_CASE_NOTES = ("callback_note", "cause", "fix")
_COMMENTS = ("comment",)
_NOTED_EVENTS = frozenset((*_CASE_EVENTS, protocol.Event.BAD_RATING_REASONS))
_CASE_NAMES = ", ".join('"' + c + '"' for c in CASE_COLUMNS)
_CASES_SQL = (
    f"SELECT {_CASE_NAMES} FROM cases WHERE id IN ("
    "SELECT json_extract(body, '$.case.id') FROM events WHERE seq > ? AND seq <= ? "
    f"AND name IN ({', '.join('?' * len(_CASE_EVENTS))}))")


def _without_contacts(value: Any) -> Any:
    """`value` with no holder's `contact` (the phone number and name as the citizen gave
    them, for the hall's own SMS and call-backs); the masked forms stay."""
    return protocol.with_holders(
        value, lambda _, holder: {k: v for k, v in holder.items() if k != "contact"})


class HallLogError(HallqError):
    """The hub's database cannot be read as a hallq event log."""


@dataclass
class Batch:
    """Events (after, upto] of one hall with the rows they are about."""

    after: int
    events: list[tuple[int, str, str, str]] = field(default_factory=list)  # seq, at, name, body
    tickets: list[tuple] = field(default_factory=list)  # TICKET_COLUMNS
    cases: list[tuple] = field(default_factory=list)  # CASE_COLUMNS
    roster: tuple[tuple[str, str], ...] | None = None  # (工号, name) of the roster; None: no roster

    @property
    def upto(self) -> int:
        return self.events[-1][0] if self.events else self.after


class HallLog:
    """The hub's SQLite file, read-only: the hub keeps writing while we read."""

    def __init__(self, path: str | Path, personal_data: bool = False) -> None:
        p = Path(path)
        if not p.is_file():
            raise HallLogError(f"no hub database at {p} (expected the hub's --db file)")
        self.personal_data = personal_data
        try:
            self.conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True,
                                        isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout=5000")
            found = {r[0] for r in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as e:
            raise HallLogError(f"cannot read {p}: {e}") from e
        if not {"events", "tickets"} <= found:
            self.conn.close()
            raise HallLogError(f"{p} is not a hallq hub database (no events or tickets table)")
        self._has_cases = "cases" in found
        self._has_roster = "staff" in found
        present = {r[1] for r in self.conn.execute("PRAGMA table_info(tickets)")}
        # a column the hub's schema does not have yet (an older hub) is shipped empty
        ticket_columns = ", ".join(
            "NULL" if c not in present or (c in PERSONAL_COLUMNS and not personal_data) else f'"{c}"'
            for c in TICKET_COLUMNS)
        self._tickets_sql = (
            f"SELECT {ticket_columns} FROM tickets WHERE id IN (SELECT CASE WHEN name IN (?, ?) "
            "THEN json_extract(body, '$.appeal.ticket_id') ELSE json_extract(body, '$.ticket.id') END "
            "FROM events WHERE seq > ? AND seq <= ?)")
        self._dropped = _CASE_NOTES + (() if personal_data else _COMMENTS)

    def last_seq(self) -> int:
        """The newest seq in the log (0 when it is empty)."""
        return self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def read(self, after: int, limit: int) -> Batch:
        """Up to `limit` events after `after`, with the rows of the tickets and cases they
        are about, from one snapshot of the database."""
        batch = Batch(after)
        self.conn.execute("BEGIN")
        try:
            rows = self.conn.execute("SELECT seq, at, name, body FROM events WHERE seq > ? "
                                     "ORDER BY seq LIMIT ?", (after, limit)).fetchall()
            if not rows:
                return batch
            scrub = not self.personal_data
            for n, (seq, at, name, body) in enumerate(rows):
                if name in _NOTED_EVENTS:
                    body = self._without_notes(body)
                if scrub and '"holder"' in body:  # every holder taken out
                    body = protocol.encode(protocol.shown(orjson.loads(body), ("kiosk", ())))
                elif '"contact"' in body:  # a holder's phone and name as given stay in the hall
                    body = protocol.encode(_without_contacts(orjson.loads(body)))
                if body is not rows[n][3]:
                    rows[n] = (seq, at, name, body)
            batch.events = rows
            span = (after, rows[-1][0])
            # the rows of what the events are about, found by SQLite (no id crosses to Python)
            batch.tickets = self.conn.execute(self._tickets_sql, (*_APPEAL_EVENTS, *span)).fetchall()
            if self._has_cases:
                batch.cases = self.conn.execute(_CASES_SQL, (*span, *_CASE_EVENTS)).fetchall()
            if self._has_roster:
                batch.roster = tuple(self.conn.execute(
                    "SELECT staff_no, name FROM staff ORDER BY staff_no").fetchall())
        finally:
            self.conn.execute("COMMIT")
        return batch

    def _without_notes(self, body: str) -> str:
        """A case event's or a reasons event's body without the free text the hall keeps."""
        message = orjson.loads(body)
        for part in (message, message.get("case")):
            if isinstance(part, dict):
                for key in self._dropped:
                    part.pop(key, None)
        return protocol.encode(message)

    def close(self) -> None:
        self.conn.close()
