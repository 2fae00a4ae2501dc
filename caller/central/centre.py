"""Writing one hall's batches into the central PostgreSQL (schema: migrations/, docs/central.md).

One transaction per batch: lock the hall's row, check that its `shipped_seq` is where the
batch starts (else another shipper or a restore moved it: the caller reads again from the
centre's position), COPY the events, upsert the ticket and case rows, recompute the
touched days of `hall_days`, and move `shipped_seq`. So the position and the rows commit
together or not at all: a crash at any point ships nothing twice and loses nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from caller.central import schema, tally
from caller.central.hall_log import CASE_COLUMNS, TICKET_COLUMNS, Batch
from caller.core.errors import HallqError

_PG_TICKET = tuple("window_id" if c == "window" else c for c in TICKET_COLUMNS)
_PG_CASE = tuple("window_id" if c == "window" else c for c in CASE_COLUMNS)


class PositionMoved(HallqError):
    """The centre's position for this hall is not where the batch starts."""


@dataclass(frozen=True)
class HallIdentity:
    hall_id: str
    name: str
    region_code: str
    level: str
    timezone: str
    config_version: str
    record: str = "{}"  # JSON: what the hall's rating record reads of its config (`shipper.record_settings`)


@dataclass(frozen=True)
class Encoded:
    """A batch as the centre's COPY text (`encode`), made while the last batch is written."""

    after: int
    count: int  # events
    first: int  # seq of the first event (after + 1 unless events were pruned before shipping)
    upto: int
    upto_at: str  # `at` of the event at `upto`
    events: bytes
    tickets: bytes
    cases: bytes
    ticket_days: set[date]
    hours: Counter[datetime]  # the start of each hour the events fall in, with their number
    roster: str | None  # JSON {工号: name} of the hall's staff roster; None: the hall has none


def encode(batch: Batch, hall: HallIdentity) -> Encoded:
    """The batch of this hall as COPY text, the tickets tagged with the batch's last seq."""
    first, last = (batch.events[0], batch.events[-1]) if batch.events else ((0, ""), (0, ""))
    return Encoded(after=batch.after, count=len(batch.events), first=first[0], upto=batch.upto,
                   upto_at=last[1],
                   events=_copy_text(hall.hall_id, hall.config_version, batch.events),
                   tickets=_copy_rows(hall.hall_id, batch.tickets, batch.upto),
                   cases=_copy_rows(hall.hall_id, batch.cases),
                   ticket_days={date.fromisoformat(row[3]) for row in batch.tickets},
                   hours=_hours(batch),
                   roster=None if batch.roster is None
                   else json.dumps(dict(batch.roster), ensure_ascii=False))


class Centre:
    """A connection to the central database for one hall."""

    def __init__(self, dsn: str, hall: HallIdentity, *, connect_timeout: int = 5) -> None:
        self.hall = hall
        self.tz = ZoneInfo(hall.timezone)
        # autocommit: every transaction is an explicit `transaction()` block
        self.conn = psycopg.connect(dsn, connect_timeout=connect_timeout, autocommit=True,
                                    application_name=f"hallq ship {hall.hall_id}")
        self._months: set[date] = set()
        self._roster: str | None = None  # as last committed by this connection
        try:
            schema.migrate(self.conn)
            self._months = schema.existing_partitions(self.conn)
            self._register()
            self._prepare_staging()
        except BaseException:
            self.conn.close()
            raise

    def _register(self) -> None:
        """Insert or refresh the hall's row; the position is never touched here."""
        h = self.hall
        with self.conn.transaction():
            self.conn.execute(
                "INSERT INTO halls (hall_id, name, region_code, level, timezone, config_version, "
                "record) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (hall_id) DO UPDATE SET "
                "name = EXCLUDED.name, region_code = EXCLUDED.region_code, level = EXCLUDED.level, "
                "timezone = EXCLUDED.timezone, config_version = EXCLUDED.config_version, "
                "record = EXCLUDED.record, last_seen = now()",
                (h.hall_id, h.name, h.region_code, h.level, h.timezone, h.config_version, h.record))

    def _prepare_staging(self) -> None:
        with self.conn.transaction():
            self.conn.execute("CREATE TEMP TABLE stage_tickets (LIKE tickets) ON COMMIT DELETE ROWS")
            self.conn.execute("CREATE TEMP TABLE stage_cases (LIKE cases) ON COMMIT DELETE ROWS")

    def position(self) -> int:
        """The newest seq of this hall the centre holds."""
        with self.conn.transaction():
            row = self.conn.execute("SELECT shipped_seq FROM halls WHERE hall_id = %s",
                                    (self.hall.hall_id,)).fetchone()
        return row[0]

    def heartbeat(self) -> None:
        with self.conn.transaction():
            self.conn.execute("UPDATE halls SET last_seen = now() WHERE hall_id = %s",
                              (self.hall.hall_id,))

    def write(self, batch: Encoded) -> None:
        """Commit one batch and the new position; raise PositionMoved (writing nothing)
        when the centre's position is not `batch.after`."""
        if not batch.count:
            return
        months = {schema.month_of(at + edge) for at in batch.hours for edge in (_ZERO, _HOUR)}
        if not months <= self._months:
            schema.ensure_partitions(self.conn, months - self._months)
            self._months |= months
        hid, cur = self.hall.hall_id, self.conn.cursor()
        with self.conn.transaction():
            shipped = cur.execute("SELECT shipped_seq FROM halls WHERE hall_id = %s FOR UPDATE",
                                  (hid,)).fetchone()[0]
            if shipped != batch.after:
                raise PositionMoved(f"the centre holds hall {hid} up to seq {shipped}, "
                                    f"the batch starts after {batch.after}")
            with cur.copy("COPY events (hall_id, seq, at, name, config_version, body) FROM STDIN") as copy:
                copy.write(batch.events)
            self._stage(cur, "stage_tickets", (*_PG_TICKET, "seq"), batch.tickets)
            self._stage(cur, "stage_cases", _PG_CASE, batch.cases)
            roster = batch.roster if batch.roster != self._roster else None
            # the rest needs no answer: sent together, one round trip (each wait for the
            # centre is time the read-ahead thread's encoding does not hide)
            with self.conn.pipeline():
                if batch.tickets:
                    self._tickets(cur)
                if batch.cases:
                    self._cases(cur)
                days = batch.ticket_days | self._event_days(cur, batch.hours)
                derive_days(cur, hid, days, with_cases=bool(batch.cases))
                close_days(cur, hid, datetime.fromisoformat(batch.upto_at).astimezone(self.tz).date())
                cur.execute("UPDATE halls SET shipped_seq = %s, shipped_at = %s, last_seen = now(), "
                            "config_version = %s, roster = coalesce(%s::json, roster) WHERE hall_id = %s",
                            (batch.upto, batch.upto_at, self.hall.config_version, roster, hid))
        if roster is not None:
            self._roster = roster

    @staticmethod
    def _stage(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], rows: bytes) -> None:
        if rows:
            with cur.copy(f"COPY {table} (hall_id, {', '.join(columns)}) FROM STDIN") as copy:
                copy.write(rows)

    @staticmethod
    def _tickets(cur: psycopg.Cursor) -> None:
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in (*_PG_TICKET[1:], "seq"))
        cur.execute(f"INSERT INTO tickets SELECT * FROM stage_tickets "
                    f"ON CONFLICT (hall_id, id) DO UPDATE SET {updates}")
        cur.execute(
            "INSERT INTO ratings (hall_id, ticket_id, number, service, day, window_id, staff, level, "
            "status, rated_at, case_no, appeal, reasons, rating_text, holder_name) "
            "SELECT hall_id, id, number, service, day, window_id, staff, rating, "
            "rating_status, rated_at, case_no, appeal, rating_reasons, rating_text, holder_name "
            "FROM stage_tickets WHERE rating_status IS NOT NULL "
            "ON CONFLICT (hall_id, ticket_id) DO UPDATE SET window_id = EXCLUDED.window_id, "
            "staff = EXCLUDED.staff, level = EXCLUDED.level, status = EXCLUDED.status, "
            "rated_at = EXCLUDED.rated_at, case_no = EXCLUDED.case_no, appeal = EXCLUDED.appeal, "
            "reasons = EXCLUDED.reasons, rating_text = EXCLUDED.rating_text, "
            "holder_name = EXCLUDED.holder_name")

    @staticmethod
    def _cases(cur: psycopg.Cursor) -> None:
        names = ", ".join(_PG_CASE)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _PG_CASE[1:])
        cur.execute(f"INSERT INTO cases ({', '.join(('hall_id', *_PG_CASE))}) "
                    f"SELECT hall_id, {names} FROM stage_cases "
                    f"ON CONFLICT (hall_id, id) DO UPDATE SET {updates}")

    def _event_days(self, cur: psycopg.Cursor, hours: Counter[datetime]) -> set[date]:
        """Add the batch's events to `hall_days.events` of the days (hall time) they fall on."""
        counts: Counter[date] = Counter()
        for hour, n in hours.items():
            counts[hour.astimezone(self.tz).date()] += n
        cur.execute(
            "INSERT INTO hall_days SELECT %s, day, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n "
            "FROM unnest(%s::date[], %s::integer[]) AS x(day, n) "
            "ON CONFLICT (hall_id, day) DO UPDATE SET events = hall_days.events + EXCLUDED.events",
            (self.hall.hall_id, list(counts), list(counts.values())))
        return set(counts)

    def close(self) -> None:
        self.conn.close()


def derive_days(cur: psycopg.Cursor, hall_id: str, days: set[date], *, with_cases: bool = False) -> None:
    """Recompute the ticket figures of `hall_days` for the days touched, and open them
    again (`facts` NULL until `close_days`); `with_cases`: the days of the tickets of the
    staged cases too (a case changes its ticket's facts)."""
    if not days and not with_cases:
        return
    touched = ("%s::date[] || ARRAY(SELECT t.day FROM stage_cases s JOIN tickets t "
               "ON t.hall_id = s.hall_id AND t.id = s.ticket_id)") if with_cases else "%s::date[]"
    cur.execute(
        "INSERT INTO hall_days SELECT hall_id, day, count(*), "
        "count(*) FILTER (WHERE state = 'waiting'), count(*) FILTER (WHERE state = 'done'), "
        "count(*) FILTER (WHERE state = 'no_show'), count(*) FILTER (WHERE state = 'cancelled'), "
        "COALESCE(sum(EXTRACT(EPOCH FROM first_called_at - issued_at)), 0), "
        "count(first_called_at), COALESCE(sum(service_s) FILTER (WHERE state = 'done'), 0), "
        "count(*) FILTER (WHERE rating_status = 'rated'), "
        "count(*) FILTER (WHERE rating_status = 'rated' AND rating IN "
        "('very_satisfied', 'satisfied', 'basic')), "
        "count(*) FILTER (WHERE rating_status = 'rated' AND rating IN "
        "('dissatisfied', 'very_dissatisfied')), "
        "count(*) FILTER (WHERE rating_status = 'default'), 0 "
        f"FROM tickets WHERE hall_id = %s AND day = ANY({touched}) GROUP BY hall_id, day "
        "ON CONFLICT (hall_id, day) DO UPDATE SET issued = EXCLUDED.issued, "
        "waiting = EXCLUDED.waiting, served = EXCLUDED.served, passed = EXCLUDED.passed, "
        "cancelled = EXCLUDED.cancelled, wait_sum_s = EXCLUDED.wait_sum_s, "
        "waits = EXCLUDED.waits, service_sum_s = EXCLUDED.service_sum_s, "
        "rated = EXCLUDED.rated, satisfied = EXCLUDED.satisfied, bad = EXCLUDED.bad, "
        "defaulted = EXCLUDED.defaulted, facts = NULL",
        (hall_id, sorted(days)))


def close_days(cur: psycopg.Cursor, hall_id: str, today: date) -> None:
    """Pack the facts of every open day before `today` (hall time) for the report
    (caller/central/tally.py): a day is closed once the hall's events have passed it, and
    opened again when a batch touches one of its tickets or their cases."""
    cur.execute(
        f"UPDATE hall_days d SET facts = coalesce((SELECT string_agg({tally.FACT_ROW}, '') "
        f"FROM tickets t {tally.FACT_JOINS} WHERE t.hall_id = d.hall_id AND t.day = d.day), '') "
        "WHERE d.hall_id = %s AND d.day < %s AND d.facts IS NULL", (hall_id, today))


_ZERO, _HOUR = timedelta(0), timedelta(minutes=59, seconds=59)
_BACKSLASH = "\\"


def _hour_key(at: str) -> str:
    """The hour an ISO time with an offset falls in, with its offset: '2026-11-23T09+08:00'."""
    return at[:13] + at[19:].lstrip(".0123456789")


def _hours(batch: Batch) -> Counter[datetime]:
    """The start of every hour the batch's events fall in, with how many fall in it (a
    few hours per batch, so the events' months and days are found without parsing each
    event's time)."""
    hours: Counter[datetime] = Counter()
    for key, n in Counter(_hour_key(at) for _, at, _, _ in batch.events).items():
        hours[datetime.fromisoformat(f"{key[:13]}:00{key[13:]}")] += n
    return hours


def _copy_text(hall_id: str, version: str, events: list[tuple[int, str, str, str]]) -> bytes:
    """The events as COPY text rows. Hall ids, versions, times and event names hold no
    tab, newline or backslash (the config and the protocol see to it), and JSON text holds
    no raw control character, so only the bodies' backslashes need escaping: all at once."""
    prefix, middle = f"{hall_id}\t", f"\t{version}\t"
    text = "".join([f"{prefix}{seq}\t{at}\t{name}{middle}{body}\n" for seq, at, name, body in events])
    return text.replace(_BACKSLASH, _BACKSLASH * 2).encode()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_rows(hall_id: str, rows: list[tuple], *rest: object) -> bytes:
    """Rows as the hub's SQLite gives them (None, int, float, str; booleans as 0/1, which
    PostgreSQL reads as booleans too) as COPY text, each after `hall_id` and before `rest`.
    Only a row whose text holds a tab, newline, CR or backslash is escaped."""
    lines = []
    for row in rows:
        values = (hall_id, *row, *rest)
        texts = "".join(v for v in values if type(v) is str)
        escape = "\t" in texts or "\\" in texts or "\n" in texts or "\r" in texts
        lines.append("\t".join(
            "\\N" if v is None else (v.translate(_COPY_ESCAPES) if escape else v) if type(v) is str
            else str(v) for v in values))
    return "".join(f"{line}\n" for line in lines).encode()
