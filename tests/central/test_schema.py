from datetime import UTC, date, datetime

import psycopg
import pytest

from caller.central import centre, schema


def test_migrate_twice_applies_once_and_records_the_version(postgres):
    with psycopg.connect(postgres.dsn_for("postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS fresh")
        admin.execute("CREATE DATABASE fresh")
    with psycopg.connect(postgres.dsn_for("fresh")) as conn:
        assert schema.schema_version(conn) == 0
        newest = schema.migrate(conn)
        assert schema.migrate(conn) == newest == len(schema.migrations())
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert rows[0] == (1, "001_central.sql")


def test_a_database_newer_than_this_hallq_is_refused(central_dsn):
    with psycopg.connect(central_dsn) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')")
        conn.commit()
        with pytest.raises(schema.SchemaError, match="newer than"):
            schema.migrate(conn)


def test_events_go_to_monthly_partitions_made_on_demand(central_dsn):
    at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    with psycopg.connect(central_dsn) as conn:
        conn.execute("INSERT INTO halls (hall_id, name, region_code, level, timezone, config_version) "
                     "VALUES ('h1', '大厅', '110101', 'county', 'Asia/Shanghai', 'v')")
        with pytest.raises(psycopg.errors.CheckViolation):  # no partition for that month yet
            conn.execute("INSERT INTO events VALUES ('h1', 1, %s, 'ticket_issued', 'v', '{}')", (at,))
        conn.rollback()
        schema.ensure_partitions(conn, {schema.month_of(at)})
        schema.ensure_partitions(conn, {schema.month_of(at)})  # again: nothing to do
        conn.execute("INSERT INTO events VALUES ('h1', 1, %s, 'ticket_issued', 'v', '{}')", (at,))
        assert schema.existing_partitions(conn) == {date(2026, 12, 1)}
        where = conn.execute("SELECT tableoid::regclass::text FROM events").fetchone()[0]
        assert where == "events_2026_12"


def test_ticket_rows_with_tabs_newlines_and_backslashes_reach_the_centre_unchanged(central_dsn):
    """The shipper writes the hub's rows as COPY text: SQLite's None, int, float, 0/1 and
    text, escaped only where a row needs it."""
    rows = [(1, "A\t001", None, 2.5, 1), (2, "C:\\hall\nnew\rline", "plain", 0.0, 0),
            (3, "\\N", "", 1e-05, 1)]
    with psycopg.connect(central_dsn) as conn:
        conn.execute("CREATE TEMP TABLE t (hall_id text, id bigint, a text, b text, x double precision, "
                     "p boolean, seq bigint)")
        with conn.cursor().copy("COPY t FROM STDIN") as copy:
            copy.write(centre._copy_rows("h1", rows, 42))
        got = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
    assert got == [("h1", n, a, b, x, bool(p), 42) for n, a, b, x, p in rows]


def test_event_bodies_are_stored_as_json_read_by_key(central_dsn):
    with psycopg.connect(central_dsn) as conn:
        kind = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                            "WHERE attrelid = 'events'::regclass AND attname = 'body'").fetchone()[0]
    assert kind == "json"
