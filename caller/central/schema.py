"""The central schema: migrations applied in order, and the monthly event partitions.

`migrations/NNN_topic.sql` are applied in the order of their number, each in its own
transaction, and recorded in `schema_migrations`; a transaction-level advisory lock lets
many shippers start at once against a new database. Each month's partition of `events`
is made when the first event of that month arrives.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from importlib.resources import files

import psycopg

from caller.core.errors import HallqError

_MIGRATION_NAME = re.compile(r"(\d{3})_[a-z0-9_]+\.sql")
_LOCK_MIGRATE = 19_001  # pg_advisory_xact_lock keys of this module
_LOCK_PARTITION = 19_002


class SchemaError(HallqError):
    """The central database is not one this hallq can write to."""


def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration shipped with hallq, in order."""
    found = []
    for entry in files("caller.central").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.fullmatch(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise SchemaError(f"the central migrations are not numbered 1..n: {numbers}")
    return found


def schema_version(conn: psycopg.Connection) -> int:
    """The newest migration applied (0 for an empty database)."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]


def migrate(conn: psycopg.Connection) -> int:
    """Bring the database up to the newest migration; return its number.

    Raises SchemaError when the database is newer than this hallq (an older shipper must
    not write into a schema it does not know)."""
    known = migrations()
    newest = known[-1][0] if known else 0
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_MIGRATE,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version integer PRIMARY KEY, name text NOT NULL, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        current = schema_version(conn)
        if current > newest:
            raise SchemaError(f"the central database is at schema version {current}, newer than "
                              f"this hallq knows ({newest}): upgrade hallq on this machine")
        for number, name, sql in known[current:]:
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                         (number, name))
    return newest


def partition_name(month: date) -> str:
    return f"events_{month.year:04d}_{month.month:02d}"


def month_of(at: datetime) -> date:
    """The first day of the (UTC) month `at` (aware) falls in: partitions are cut at UTC
    midnights."""
    utc = at.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def ensure_partitions(conn: psycopg.Connection, months: set[date]) -> None:
    """Create the monthly partitions of `events` that `months` need and do not exist yet,
    in a transaction of their own (so two shippers never race on one)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_PARTITION,))
        for month in sorted(months):
            following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF events "
                f"FOR VALUES FROM ('{month.isoformat()} 00:00+00') "
                f"TO ('{following.isoformat()} 00:00+00')")


def existing_partitions(conn: psycopg.Connection) -> set[date]:
    """The months that have a partition of `events`."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'events'::regclass").fetchall()
    out = set()
    for (name,) in rows:
        match = re.fullmatch(r"events_(\d{4})_(\d{2})", name)
        if match:
            out.add(date(int(match.group(1)), int(match.group(2)), 1))
    return out
