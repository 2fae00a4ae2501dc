"""The durable store: SQLite in WAL mode, one transaction per batch of commands.

A batch holds the rows the engine changed, the events they produced (numbered
with the hub-wide, gap-free `seq`) and the replies owed to each request id, so a
retried request gets its first answer and never acts twice. The engine is rebuilt
from these tables at start.

One hub per database: the store holds an exclusive lock on `<db>.lock` while open, and
refuses a database that fails `PRAGMA quick_check` instead of serving from it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from caller.core.config import HallConfig
from caller.core.errors import HallqError
from caller.core.protocol import Event, encode
from caller.hub.appeals import APPEAL_FIELDS, Appeal, Appeals
from caller.hub.bookings import BAN_FIELDS, BOOKING_FIELDS, Ban, Booking, Bookings, Strike
from caller.hub.engine import (
    ACTIVE_STATES,
    TICKET_FIELDS,
    WINDOW_FIELDS,
    Changes,
    DayCounter,
    Engine,
    Meta,
    Ticket,
    WindowState,
)
from caller.hub.followup import ALERT_FIELDS, CASE_FIELDS, Alert, Case, FollowUp
from caller.hub.roster import STAFF_FIELDS, StaffMember

_BOOKING_TIMES = ("made_at", "updated_at")
META_FIELDS = tuple(f.name for f in fields(Meta))
_ACTIVE = f"state IN ({', '.join(repr(s) for s in ACTIVE_STATES)})"  # idx_tickets_active's WHERE
_KEEP_ROWS = 4096  # rows of each table whose committed values a Store keeps (class _Rows)
_TICKET_TIMES = {"issued_at", "first_called_at", "called_at", "started_at", "finished_at",
                 "held_at", "rated_at"}


def _create_v1(db: sqlite_utils.Database) -> None:
    db["tickets"].create({
        "id": int, "number": str, "service": str, "day": str, "issued_at": str, "order": float,
        "priority": int, "lang": str, "state": str, "window": str, "target_window": str,
        "transferred": int, "first_called_at": str, "called_at": str, "started_at": str,
        "finished_at": str, "held_at": str, "service_s": float, "hold_s": float,
        "recalls": int, "requeues": int, "transfers": int, "holds": int, "staff": str,
        "rating": str, "rating_status": str, "rated_at": str,
    }, pk="id")
    db.execute("CREATE INDEX idx_tickets_active ON tickets(state) "
               "WHERE state IN ('waiting', 'called', 'held')")
    db["tickets"].create_index(["day", "service"])
    db["tickets"].create_index(["issued_at"])
    db["windows"].create({
        "id": str, "staff": str, "paused": int, "pause_reason": str, "current": int,
        "last_finished": int, "rating_ticket": int, "rating_deadline": str,
    }, pk="id")
    db["counters"].create({"service": str, "day": str, "last": int, "issued": int,
                           "segments": str}, pk=("service", "day"))
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["events"].create({"seq": int, "at": str, "name": str, "body": str}, pk="seq")
    db["events"].create_index(["name", "seq"])
    db["requests"].create({"device": str, "request_id": str, "seq": int, "reply": str},
                          pk=("device", "request_id"))


def _create_v2(db: sqlite_utils.Database) -> None:
    """Bad-rating follow-up (差评整改) and alerts for the manager."""
    db["alerts"].create({
        "id": int, "kind": str, "at": str, "message": str, "window": str,
        "ticket_number": str, "device": str, "acknowledged_at": str, "acknowledged_by": str,
    }, pk="id")
    db["cases"].create({
        "id": int, "ticket_id": int, "number": str, "service": str, "window": str,
        "staff": str, "level": str, "opened_at": str, "deadline": str, "state": str,
        "called_back_at": str, "called_back_by": str, "callback_note": str, "cause": str,
        "fix": str, "rectified_at": str, "rectified_by": str, "closed_at": str,
        "closed_by": str, "outcome": str,
    }, pk="id")
    db["cases"].create_index(["state"])


def _create_v3(db: sqlite_utils.Database) -> None:
    """Real-name tickets: the holder's person key (keyed hash), masked name, last four."""
    for column in ("person_key", "holder_name", "id_last4"):
        db["tickets"].add_column(column, str)
    db.execute("CREATE INDEX idx_tickets_person ON tickets(person_key) WHERE person_key IS NOT NULL")


def _create_v7_rating_record(db: sqlite_utils.Database) -> None:
    """The rating record: the 办件编号 entered at finish, the state of a rating's appeal
    (申诉复核), and the appeals themselves."""
    db["tickets"].add_column("case_no", str)
    db["tickets"].add_column("appeal", str)
    db["appeals"].create({
        "id": int, "ticket_id": int, "number": str, "service": str, "window": str,
        "staff": str, "level": str, "day": str, "filed_at": str, "filed_by": str,
        "reason": str, "state": str, "decided_at": str, "decided_by": str, "note": str,
    }, pk="id")
    db["appeals"].create_index(["state"])
    db["appeals"].create_index(["ticket_id"])
    db.execute("CREATE INDEX idx_tickets_unrated ON tickets(day) WHERE state = 'done' "
               "AND (rating_status IS NULL OR rating_status = 'timeout')")


def _create_staff_roster(db: sqlite_utils.Database) -> None:
    """The staff roster (人员名册) and their portraits; a bad rating's reasons and the
    citizen's words (文字评价) on the ticket and its follow-up case."""
    db["staff"].create({
        "staff_no": str, "name": str, "title": str, "stars": int, "windows": str,
        "active": int, "photo": str, "updated_at": str,
    }, pk="staff_no")
    db["staff_photos"].create({"staff_no": str, "jpeg": bytes}, pk="staff_no")
    db["tickets"].add_column("rating_reasons", str)
    db["tickets"].add_column("rating_text", str)
    db["cases"].add_column("reasons", str, not_null_default="")
    db["cases"].add_column("comment", str, not_null_default="")


def _create_bookings(db: sqlite_utils.Database) -> None:
    """Remote tickets and appointments (预约): where a ticket came from and its holder's
    contact, remote tickets per day, the bookings and the blacklist (失信)."""
    for column in ("source", "phone", "contact_name"):
        db["tickets"].add_column(column, str)
    db["counters"].add_column("remote", int, not_null_default=0)
    db["bookings"].create({
        "id": int, "code": str, "service": str, "day": str, "slot": str, "slot_end": str,
        "person_key": str, "id_last4": str, "checkin_key": str, "name": str, "phone": str,
        "lang": str, "made_at": str, "state": str, "updated_at": str, "ticket_id": int,
        "ticket_number": str,
    }, pk="id")
    db["bookings"].create_index(["day", "service"])
    db["bookings"].create_index(["person_key"])
    db["bans"].create({
        "id": int, "person_key": str, "id_last4": str, "name": str, "reason": str,
        "strikes": int, "since": str, "until": str, "lifted_at": str, "lifted_by": str,
    }, pk="id")


def _create_ticket_codes(db: sqlite_utils.Database) -> None:
    """The code of each ticket's live page (caller.core.ticketcode): `hallq web` finds the
    ticket by it."""
    db["tickets"].add_column("code", str)
    db.execute("CREATE UNIQUE INDEX idx_tickets_code ON tickets(code) WHERE code IS NOT NULL")


def _add_alert_parts(db: sqlite_utils.Database) -> None:
    """Which part of a device an alert is about: a recovery closes that part's fault only."""
    db["alerts"].add_column("part", str)


def _local_ticket_indexes(db: sqlite_utils.Database) -> None:
    """Indexes whose new entries of a batch share a leaf page: every reader of tickets by
    day asks for the day alone (one leaf per service was written per batch), and no query
    reads tickets by `issued_at` (BENCHMARKS.md, issue 14, fourth round)."""
    db.execute("DROP INDEX idx_tickets_day_service")
    db.execute("DROP INDEX idx_tickets_issued_at")
    db["tickets"].create_index(["day"])


def _named_event_indexes(db: sqlite_utils.Database) -> None:
    """Index only the events read by name: the calls (the walls' recent calls at start) and
    the transfers (the report). An index of every name wrote a leaf per name per batch."""
    db.execute("DROP INDEX idx_events_name_seq")
    db.execute(f"CREATE INDEX idx_events_called ON events(seq) WHERE name = '{Event.TICKET_CALLED}'")
    db.execute("CREATE INDEX idx_events_transferred ON events(seq) "
               f"WHERE name = '{Event.TICKET_TRANSFERRED}'")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _create_v1, _create_v2, _create_v3, _create_v7_rating_record, _create_bookings,
    _create_staff_roster, _create_ticket_codes, _add_alert_parts, _local_ticket_indexes,
    _named_event_indexes]


class StorageError(HallqError):
    """The database refused a write (disk full, I/O error, read-only file)."""


class StoreUnavailable(HallqError):
    """The database cannot be served at all; starting again will not help."""


class DatabaseInUse(StoreUnavailable):
    """Another hub has this database open."""


class DamagedDatabase(StoreUnavailable):
    """The file is not a sound SQLite database."""


@dataclass
class StoredEvent:
    seq: int
    body: dict


class Store:
    """All the hub's durable state. Only the hub process opens it."""

    def __init__(self, path: str | Path, synchronous: str = "FULL") -> None:
        """Open (or create) the database; raise DatabaseInUse or DamagedDatabase."""
        self.path = str(path)
        self._lock = _lock(self.path)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._check()
            self.db = sqlite_utils.Database(self.conn)
            self.db.enable_wal()
            self.conn.execute(f"PRAGMA synchronous={synchronous}")
            self.conn.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except BaseException as e:
            self.conn.close()
            self._lock.close()
            if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
                raise DamagedDatabase(_damaged(self.path, str(e))) from e
            raise
        # Lookups from the event loop read through their own connection: in WAL mode it
        # sees only committed data, never a batch the writer is still committing.
        self.reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.last_seq = self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        self._rows = {name: _Rows(name, names) for name, names in (
            ("tickets", TICKET_FIELDS), ("windows", WINDOW_FIELDS), ("alerts", ALERT_FIELDS),
            ("cases", CASE_FIELDS), ("appeals", APPEAL_FIELDS), ("staff", STAFF_FIELDS),
            ("bookings", BOOKING_FIELDS), ("bans", BAN_FIELDS))}
        self._meta: dict[str, str] = {}  # the meta rows as committed

    # ------------------------------------------------------------------ schema

    def _check(self) -> None:
        rows = [r[0] for r in self.conn.execute("PRAGMA quick_check(5)").fetchall()]
        if rows != ["ok"]:
            raise DamagedDatabase(_damaged(self.path, "; ".join(rows)))

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        version = self.schema_version()
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                migration(self.db)
                self.conn.execute(f"PRAGMA user_version={number}")
                self.conn.execute("COMMIT")
            except Exception:
                self.conn.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ writing

    def commit(self, changes: Changes, events: Iterable[dict], at: datetime,
               replies: Iterable[tuple[str, str, str]] = ()) -> list[dict]:
        """Write one batch atomically; return the events numbered with their seq.
        `replies`: (device, request id, the reply's frame) of each request it answers.

        Raises StorageError (and writes nothing) when SQLite refuses."""
        numbered = []
        seq = self.last_seq
        stamp = at.isoformat(timespec="milliseconds")
        for event in events:
            seq += 1
            numbered.append({"type": "event", "seq": seq, "at": stamp, **event})
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                written, meta = self._write(changes, numbered, seq, replies)
                self.conn.execute("COMMIT")
            except BaseException:
                self._forget()  # a failed COMMIT may yet have left its rows
                if self.conn.in_transaction:  # a failed COMMIT has already rolled back
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise StorageError(str(e)) from e
        self.last_seq = seq
        for table, rows in written:
            self._rows[table].committed(rows)
        self._meta.update(meta)
        return numbered

    def _write(self, changes: Changes, numbered: list[dict], seq: int,
               replies: Iterable[tuple[str, str, str]],
               ) -> tuple[list[tuple[str, dict]], list[tuple[str, str]]]:
        """Write a batch inside its transaction; return the rows and meta values written."""
        c = self.conn
        written = []
        for table, rows in self._rows.items():
            objs = getattr(changes, table)
            if objs:
                written.append((table, rows.write(c, objs)))
        if changes.photos:
            c.executemany("INSERT OR REPLACE INTO staff_photos VALUES (?, ?)", changes.photos)
        if changes.counters:
            c.executemany(
                "INSERT INTO counters (service, day, last, issued, segments, remote) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(service, day) DO UPDATE SET "
                "last = excluded.last, issued = excluded.issued, segments = excluded.segments, "
                "remote = excluded.remote",
                [(k.service, k.day, k.last, k.issued, encode(k.segments), k.remote)
                 for k in changes.counters])
        meta = []
        if changes.meta is not None:
            values = changes.meta
            meta = [(name, value) for name in META_FIELDS
                    if self._meta.get(name) != (value := json.dumps(getattr(values, name)))]
        if meta:
            c.executemany("INSERT INTO meta VALUES (?, ?) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value", meta)
        if numbered:
            c.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                          [(e["seq"], e["at"], e["event"], encode(e)) for e in numbered])
        rows = [(device, rid, seq, reply) for device, rid, reply in replies]
        if rows:
            c.executemany("INSERT OR REPLACE INTO requests VALUES (?, ?, ?, ?)", rows)
        return written, meta

    def _forget(self) -> None:
        """The tables may hold other rows than those committed through `commit`."""
        for rows in self._rows.values():
            rows.forget()
        self._meta.clear()

    # ------------------------------------------------------------------ reading

    def lookup_reply(self, device: str, request_id: str) -> dict | None:
        row = self.reader.execute("SELECT reply FROM requests WHERE device = ? AND request_id = ?",
                                (device, request_id)).fetchone()
        return json.loads(row[0]) if row else None

    def request_keys(self, limit: int) -> set[tuple[str, str]] | None:
        """Every (device, request id) stored, or None when there are more than `limit`."""
        rows = self.conn.execute("SELECT device, request_id FROM requests LIMIT ?",
                                 (limit + 1,)).fetchall()
        return None if len(rows) > limit else set(rows)

    def events_since(self, since: int, limit: int = 100_000) -> list[dict] | None:
        """Events after `since`, or None when some of them are no longer kept."""
        if since > self.last_seq:
            return None  # the client saw events this store never had (restored from a backup)
        if since == self.last_seq:
            return []
        first = self.reader.execute("SELECT MIN(seq) FROM events").fetchone()[0]
        if first is None or first > since + 1 or self.last_seq - since > limit:
            return None
        rows = self.reader.execute("SELECT body FROM events WHERE seq > ? ORDER BY seq",
                                 (since,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def load_engine(self, config: HallConfig, now: datetime) -> Engine:
        """Rebuild the engine from the tables: the state it had when the last batch committed."""
        engine = Engine(config, now)
        meta_rows = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        if not meta_rows:
            engine.roster.restore(self._staff())
            return engine
        meta = Meta(**{k: json.loads(v) for k, v in meta_rows.items()})
        windows = [_window_from_row(r) for r in self._dict_rows("SELECT * FROM windows")]
        refs = {i for w in windows for i in (w.current, w.last_finished, w.rating_ticket) if i}
        marks = ", ".join("?" * len(ACTIVE_STATES))
        # the states written out: SQLite takes a partial index only for a query whose terms
        # match its WHERE, and not with parameters
        rows = self._dict_rows(f"SELECT * FROM tickets WHERE {_ACTIVE}")
        if refs:
            rows += self._dict_rows(
                f"SELECT * FROM tickets WHERE id IN ({', '.join('?' * len(refs))}) "
                f"AND state NOT IN ({marks})", (*sorted(refs), *ACTIVE_STATES))
        counters = [DayCounter(r["service"], r["day"], r["last"], r["issued"],
                               json.loads(r["segments"]), r["remote"])
                    for r in self._dict_rows("SELECT * FROM counters WHERE day >= ?", (meta.day,))]
        engine.restore(meta, [_ticket_from_row(r) for r in rows], windows, counters,
                       self._recent_calls(config.calling.recent_calls), self._followup(),
                       self._appeals(), self._bookings(config, meta.day), self._staff())
        # the windows' paces for the wait estimate: their last finished tickets of the day
        for window, seconds in reversed(self.conn.execute(
                "SELECT window, service_s FROM tickets WHERE day = ? AND state = 'done' "
                "AND window IS NOT NULL ORDER BY finished_at DESC LIMIT ?",
                (meta.day, engine.paces.keep * len(config.windows))).fetchall()):
            engine.paces.add(window, seconds)
        return engine

    def _staff(self) -> list[StaffMember]:
        return [StaffMember(**{**_times(r, ("updated_at",)), "active": bool(r["active"])})
                for r in self._dict_rows("SELECT * FROM staff ORDER BY staff_no")]

    def _bookings(self, config: HallConfig, today: str) -> Bookings:
        """The bookings of the business day and later, the strikes and bans that count."""
        bookings = Bookings()
        since = (date.fromisoformat(today) - timedelta(days=config.booking.strike_days)).isoformat()
        live = [Booking(**_times(r, _BOOKING_TIMES)) for r in self._dict_rows(
            "SELECT * FROM bookings WHERE day >= ? ORDER BY id", (today,))]
        strikes = [Strike(r["person_key"], r["day"], r["kind"]) for r in self._dict_rows(
            "SELECT person_key, CASE state WHEN 'no_show' THEN day ELSE substr(updated_at, 1, 10) "
            "END AS day, CASE state WHEN 'no_show' THEN 'no_show' ELSE 'cancel' END AS kind "
            "FROM bookings WHERE state IN ('no_show', 'cancelled') AND person_key IS NOT NULL "
            "AND day >= ? ORDER BY updated_at, id", (since,))]
        bans = [Ban(**_times(r, ("lifted_at",))) for r in self._dict_rows(
            "SELECT * FROM bans WHERE until >= ? ORDER BY id", (since,))]
        next_id = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM bookings").fetchone()[0]
        next_ban = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM bans").fetchone()[0]
        bookings.restore(live, strikes, bans, next_id, next_ban)
        return bookings

    def _appeals(self) -> Appeals:
        appeals = Appeals()
        pending = [Appeal(**_times(r, ("filed_at", "decided_at"))) for r in self._dict_rows(
            "SELECT * FROM appeals WHERE state = 'pending' ORDER BY id")]
        next_id = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM appeals").fetchone()[0]
        appeals.restore(pending, next_id)
        return appeals

    def _followup(self) -> FollowUp:
        followup = FollowUp()
        alerts = [Alert(**_times(r, ("at", "acknowledged_at"))) for r in self._dict_rows(
            "SELECT * FROM alerts WHERE acknowledged_at IS NULL ORDER BY id")]
        cases = [Case(**_times(r, ("opened_at", "called_back_at", "rectified_at", "closed_at")))
                 for r in self._dict_rows("SELECT * FROM cases WHERE state != 'closed' ORDER BY id")]
        next_alert = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM alerts").fetchone()[0]
        next_case = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM cases").fetchone()[0]
        followup.restore(alerts, cases, next_alert, next_case)
        return followup

    def _recent_calls(self, limit: int) -> list[dict]:
        seen: set[int] = set()
        calls: list[dict] = []
        cursor = self.conn.execute(  # the name written out, for idx_events_called
            f"SELECT body FROM events WHERE name = '{Event.TICKET_CALLED}' ORDER BY seq DESC")
        for (body,) in cursor:
            event = json.loads(body)
            tid = event["ticket"]["id"]
            if tid in seen:
                continue
            seen.add(tid)
            calls.append({k: v for k, v in event.items() if k not in ("type", "seq", "at", "event")})
            if len(calls) >= limit:
                break
        cursor.close()
        return calls

    def _dict_rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        cursor = self.conn.execute(sql, tuple(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def ticket(self, ticket_id: int) -> Ticket | None:
        rows = self._dict_rows("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return _ticket_from_row(rows[0]) if rows else None

    def ticket_numbered(self, day: str, number: str) -> Ticket | None:
        """The ticket of that number on that business day (numbers restart each day)."""
        rows = self._dict_rows("SELECT * FROM tickets WHERE day = ? AND number = ? "
                               "ORDER BY id DESC LIMIT 1", (day, number))
        return _ticket_from_row(rows[0]) if rows else None

    def ticket_coded(self, code: str) -> Ticket | None:
        """The ticket whose page code (caller.core.ticketcode) is `code`."""
        rows = self._dict_rows("SELECT * FROM tickets WHERE code = ?", (code,))
        return _ticket_from_row(rows[0]) if rows else None

    def unrated_tickets(self, until_day: str, limit: int) -> list[Ticket]:
        """Finished tickets of business days up to `until_day` that nobody rated (the
        no-rating policy's candidates), oldest first."""
        return [_ticket_from_row(r) for r in self._dict_rows(
            "SELECT * FROM tickets WHERE state = 'done' AND (rating_status IS NULL "
            "OR rating_status = 'timeout') AND day <= ? ORDER BY day, id LIMIT ?",
            (until_day, limit))]

    def prune(self, keep_events: int = 200_000, keep_request_seq: int = 100_000,
              shipped: int | None = None) -> None:
        """Drop old events and request ids (tickets are kept for the statistics). With
        `shipped` (the hall ships to the centre), no event after it is dropped."""
        upto = self.last_seq - keep_events
        if shipped is not None:
            upto = min(upto, shipped)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("DELETE FROM events WHERE seq <= ?", (upto,))
        self.conn.execute("DELETE FROM requests WHERE seq <= ?",
                          (self.last_seq - keep_request_seq,))
        self.conn.execute("COMMIT")

    def purge(self, today: str, retention_days: int) -> int:
        """Erase the personal fields older than the retention period (个人信息保护法): of
        every business day before `today` minus `retention_days`. Returns the tickets erased."""
        return self.erase_holders(kept_from(today, retention_days))

    def erase_holders(self, before_day: str) -> int:
        """Forget who held the tickets of days before ``before_day`` (the retention period):
        in the tickets and in the stored events. Returns how many tickets were erased."""
        self._forget()
        self.conn.execute("BEGIN IMMEDIATE")
        cursor = self.conn.execute(
            "UPDATE tickets SET person_key = NULL, holder_name = NULL, id_last4 = NULL, "
            "phone = NULL, contact_name = NULL "
            "WHERE (person_key IS NOT NULL OR phone IS NOT NULL) AND day < ?", (before_day,))
        self.conn.execute(
            "UPDATE bookings SET person_key = NULL, id_last4 = NULL, checkin_key = NULL, "
            "name = NULL, phone = NULL WHERE day < ? AND (name IS NOT NULL OR phone IS NOT NULL "
            "OR person_key IS NOT NULL)", (before_day,))
        self.conn.execute(
            "UPDATE bans SET person_key = NULL, id_last4 = NULL, name = NULL "
            "WHERE until < ? AND person_key IS NOT NULL", (before_day,))
        self.conn.execute(
            "UPDATE events SET body = json_remove(body, '$.ticket.holder', '$.booking.holder') "
            "WHERE substr(at, 1, 10) < ? AND instr(body, '\"holder\"') > 0", (before_day,))
        self.conn.execute("COMMIT")
        return cursor.rowcount

    def request_mark(self) -> int:
        """The newest row of the request table, for pruning it by age (`prune_requests`)."""
        return self.conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM requests").fetchone()[0]

    def prune_requests(self, up_to: int) -> int:
        """Forget the request ids stored up to an earlier `request_mark()`; return how many.
        The newest row always stays, so rowids keep growing."""
        cursor = self.conn.execute(
            "DELETE FROM requests WHERE rowid <= ? AND rowid < (SELECT MAX(rowid) FROM requests)",
            (up_to,))
        return cursor.rowcount

    def backup(self, target: str | Path) -> None:
        """A consistent copy of the database, safe while the hub runs."""
        dest = sqlite3.connect(str(target))
        with dest:
            self.conn.backup(dest)
        dest.close()

    def close(self) -> None:
        self.reader.close()
        self.conn.close()
        self._lock.close()


def kept_from(today: str, retention_days: int) -> str:
    """The first business day whose personal fields are still kept."""
    return (date.fromisoformat(today) - timedelta(days=retention_days)).isoformat()


def _lock(path: str) -> IO[str]:
    """Hold `<path>.lock` exclusively (released when the file is closed, also by a crash)."""
    lock = open(f"{path}.lock", "a+", encoding="utf-8")  # noqa: SIM115 - kept open while in use
    lock.seek(0)  # Windows locks the byte at the position
    if not _try_lock(lock.fileno()):
        try:
            holder = lock.read().strip() or "?"
        except OSError:  # Windows: the holder's locked byte cannot be read
            holder = "?"
        lock.close()
        raise DatabaseInUse(
            f"the database {path} is in use by another hub (pid {holder}, lock file "
            f"{path}.lock); one hub per database: stop the other one or give this one "
            "another --db")
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _damaged(path: str, detail: str) -> str:
    return (f"the database {path} is damaged ({detail}); the hub will not serve from it. "
            "Restore the last backup (docs/deployment.md, \"Restore\"), or move the file "
            "aside to start with an empty database")


class _Rows:
    """Writes a table's rows from the objects (dataclasses) they mirror, key first.

    A row this store committed before (among the last `_KEEP_ROWS`) is written as an
    UPDATE of the columns that changed, and not at all when none did; any other row is
    upserted. SQLite rewrites an index entry whenever a column it covers is assigned, even
    to its old value, and INSERT OR REPLACE deletes and re-inserts the row and every index
    entry: a call's tickets dirtied pages of four indexes whose keys had not changed
    (BENCHMARKS.md, issue 14, fourth round). NULLs are written into the statement and bools
    bound as ints: the sqlite3 module binds a None or a bool four times slower than an int
    (it looks each up for an adapter, raising and clearing an AttributeError; third round)."""

    def __init__(self, table: str, names: tuple[str, ...]) -> None:
        self._table = table
        self._columns = [f'"{n}"' for n in names]
        self._values = attrgetter(*names)
        self._sql: dict[tuple, str] = {}  # the shape of a write (below) -> its statement
        # key -> the values committed and their row (as bound), oldest first
        self._written: dict[Any, tuple[tuple, list]] = {}

    def write(self, conn: sqlite3.Connection, objs: Iterable[Any]) -> dict[Any, tuple[tuple, list]]:
        """Write the objects' rows; return those written, for `committed`."""
        rows: dict[Any, tuple[tuple, list]] = {}
        shapes: dict[tuple, list[list]] = {}
        for obj in objs:
            values = self._values(obj)
            key = values[0]
            old = self._written.get(key)
            if old is None:  # ("insert", which values are NULL)
                row = _bound(values)
                shape: tuple = ("insert", tuple([v is None for v in row]))
                params = [v for v in row if v is not None]
            else:  # ("update", (column index, the new value is NULL) of each changed one)
                before, row = old
                # the values are immutable: one still the object committed is unchanged
                looked = [i for i in range(1, len(values)) if values[i] is not before[i]]
                if not looked:
                    continue
                row = row.copy()
                changed = []
                for i, v in zip(looked, _bound([values[i] for i in looked]), strict=True):
                    if v != row[i]:
                        row[i] = v
                        changed.append((i, v is None))
                if not changed:
                    rows[key] = (values, row)
                    continue
                shape = ("update", tuple(changed))
                params = [row[i] for i, null in changed if not null]
                params.append(key)
            rows[key] = (values, row)
            shapes.setdefault(shape, []).append(params)
        for shape, params in shapes.items():
            sql = self._sql.get(shape)
            if sql is None:
                sql = self._sql[shape] = self._statement(shape)
            conn.executemany(sql, params)
        return rows

    def _statement(self, shape: tuple) -> str:
        kind, parts = shape
        cols = self._columns
        if kind == "update":
            sets = ", ".join(f"{cols[i]} = {'NULL' if null else '?'}" for i, null in parts)
            return f"UPDATE {self._table} SET {sets} WHERE {cols[0]} = ?"
        values = ", ".join("NULL" if null else "?" for null in parts)
        assigned = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        return (f"INSERT INTO {self._table} ({', '.join(cols)}) VALUES ({values}) "
                f"ON CONFLICT({cols[0]}) DO UPDATE SET {assigned}")

    def committed(self, rows: dict[Any, tuple[tuple, list]]) -> None:
        """Remember the rows of a committed `write`, the last `_KEEP_ROWS` of them."""
        written = self._written
        for key, row in rows.items():
            written.pop(key, None)
            written[key] = row
        if len(written) > _KEEP_ROWS:
            for key in list(islice(written, len(written) - _KEEP_ROWS)):
                del written[key]

    def forget(self) -> None:
        """The table may differ from what was committed through here: upsert every row."""
        self._written.clear()


def _bound(values: Iterable[Any]) -> list:
    """Values as a row binds them: a time as its ISO text, a bool as an int."""
    return [v.isoformat() if type(v) is datetime else int(v) if type(v) is bool else v
            for v in values]


def _times(row: dict, names: Iterable[str]) -> dict:
    return {k: (datetime.fromisoformat(v) if k in names and v else v) for k, v in row.items()}


def _ticket_from_row(row: dict) -> Ticket:
    values = _times(row, _TICKET_TIMES)
    values["priority"] = bool(values["priority"])
    values["transferred"] = bool(values["transferred"])
    return Ticket(**values)


def _window_from_row(row: dict) -> WindowState:
    values = _times(row, ("rating_deadline",))
    values["paused"] = bool(values["paused"])
    values["pause_reason"] = values["pause_reason"] or ""
    return WindowState(**values)
