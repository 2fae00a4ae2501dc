"""The store writes a row it committed before as an UPDATE of the columns that changed:
what it keeps must still be every column of the engine's objects, after any command, a
refused commit and a restart; and a database of the previous schema keeps its rows."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from pathlib import Path

import pytest

from caller.core.config import parse_config
from caller.hub import store as store_module
from caller.hub.store import StorageError, Store
from tests.caller.halls import MONDAY_9AM, Clock, Driver, raw

COMMANDS = [
    ("login", {"window": "1", "staff": "101"}),
    ("login", {"window": "2", "staff": "102"}),
    ("issue_ticket", {"service": "a"}),
    ("issue_ticket", {"service": "b"}),
    ("issue_ticket", {"service": "a"}),
    ("call_next", {"window": "1"}),
    ("recall", {"window": "1"}),
    ("start", {"window": "1"}),
    ("hold", {"window": "1"}),  # held_at set
    ("call_next", {"window": "1"}),
    ("transfer", {"window": "1", "to_window": "2"}),  # its window back to NULL, a target set
    ("call_next", {"window": "2"}),
    ("pause", {"window": "1", "reason": "午休"}),
    ("finish", {"window": "2", "case_no": "BJ-0001"}),
    ("resume", {"window": "1"}),
    ("call_held", {"window": "1", "ticket": 1}),
    ("transfer", {"window": "1", "to_service": "c"}),  # its service changes
    ("issue_ticket", {"service": "c"}),
    ("call_next", {"window": "2"}),
    ("finish", {"window": "2"}),
    ("set_notice", {"text": "今日下午三点停办"}),
    ("logout", {"window": "1"}),
]


def hall() -> Driver:
    return Driver(parse_config(raw()), Clock(MONDAY_9AM))


def run(d: Driver, store: Store, command: str, args: dict) -> dict:
    reply, events = d.engine.handle({"type": command, "device": "admin", **args}, d.clock.now)
    assert reply["ok"], (command, reply)
    store.commit(d.engine.take_changes(), events, d.clock.now, [])
    d.clock.advance(7)
    return reply


def assert_stored_as(d: Driver, path: Path) -> None:
    """A store opened afresh rebuilds the engine's state, every column of it."""
    store = Store(path)
    try:
        loaded = store.load_engine(d.config, d.clock.now)
        assert {i: asdict(t) for i, t in loaded.tickets.items()} == {
            i: asdict(t) for i, t in d.engine.tickets.items()}
        assert loaded.windows == d.engine.windows
        assert loaded.meta == d.engine.meta
        assert {s: asdict(c) for s, c in loaded.counters.items()} == {
            s: asdict(c) for s, c in d.engine.counters.items()}
        for n in range(1, d.engine.meta.next_ticket_id):
            kept = store.ticket(n)
            assert kept is not None and kept.number.startswith(("A", "B", "C"))
    finally:
        store.close()


def test_every_column_survives_updates_of_the_changed_ones(tmp_path) -> None:
    d = hall()
    store = Store(tmp_path / "hall.db")
    try:
        replies = {}
        for command, args in COMMANDS:
            replies[command, tuple(args.items())] = run(d, store, command, args)
            for ticket in d.engine.tickets.values():
                assert store.ticket(ticket.id) == ticket, command
        finished = replies["finish", (("window", "2"), ("case_no", "BJ-0001"))]["ticket"]["id"]
        done = store.ticket(finished)
        assert done is not None and (done.state, done.case_no) == ("done", "BJ-0001")
        moved = store.ticket(1)
        assert moved is not None and (moved.service, moved.transfers) == ("c", 1)
    finally:
        store.close()
    assert_stored_as(d, tmp_path / "hall.db")


def test_a_refused_commit_leaves_the_rows_as_committed(tmp_path) -> None:
    d = hall()
    path = tmp_path / "hall.db"
    store = Store(path)
    try:
        for command, args in COMMANDS[:6]:
            run(d, store, command, args)
        store.conn.execute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON events "
                           "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        with pytest.raises(StorageError):
            run(d, store, "finish", {"window": "1"})
        store.conn.execute("DROP TRIGGER refuse")
        assert store.ticket(1).state == "called"
        # as the hub does after a refused commit: the engine again from the store
        d.engine = store.load_engine(d.config, d.clock.now)
        for command, args in [("finish", {"window": "1"}), ("call_next", {"window": "1"}),
                              ("start", {"window": "1"})]:
            run(d, store, command, args)
        assert store.ticket(1).state == "done"
    finally:
        store.close()
    assert_stored_as(d, path)


def test_the_index_migration_keeps_the_rows_and_serves_the_queries(tmp_path, monkeypatch) -> None:
    d = hall()
    path = tmp_path / "hall.db"
    previous = store_module.MIGRATIONS[:-1]
    with monkeypatch.context() as m:
        m.setattr(store_module, "MIGRATIONS", previous)
        store = Store(path)
        for command, args in COMMANDS[:12]:
            run(d, store, command, args)
        assert store.schema_version() == len(previous)
        store.close()
    store = Store(path)
    try:
        assert store.schema_version() == len(store_module.MIGRATIONS)
        for command, args in COMMANDS[12:]:
            run(d, store, command, args)
    finally:
        store.close()
    assert_stored_as(d, path)
    conn = sqlite3.connect(path)
    try:
        def plan(sql: str, *args: object) -> str:
            return " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args))

        day = d.engine.meta.day
        assert "idx_tickets_day" in plan("SELECT * FROM tickets WHERE day = ?", day)
        assert "idx_tickets_day" in plan("SELECT * FROM tickets WHERE day BETWEEN ? AND ?", day, day)
        assert "idx_tickets_active" in plan(
            f"SELECT * FROM tickets WHERE {store_module._ACTIVE}")
        indexes = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets'")}
        assert "idx_tickets_day_service" not in indexes
        assert "idx_tickets_issued_at" not in indexes
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == \
            d.engine.meta.next_ticket_id - 1
    finally:
        conn.close()
