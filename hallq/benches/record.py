"""The rating record's work on a big store: what one daily run of the no-rating policy
costs the hub's writer (while it runs, every command waits behind it), and how long the
month's rating record takes to write.

    python -m hallq.benches.record [TICKETS]

The store is written straight into SQLite (`hallq.benches.hall.fill_store`): finished
tickets of past days, all rated for the export, all unrated for the policy.
"""

from __future__ import annotations

import io
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from caller.core.config import HallConfig, parse_config
from caller.hub.engine import DEFAULTS_PER_RUN
from caller.hub.store import Store
from caller.manager.record import load_record, write_record
from caller.manager.stats import open_readonly
from hallq.benches.hall import fill_store, generated_hall

DEFAULT_POLICY = '\n[rating]\nunrated = "default"\ndefault_after_days = 7\n'
RUNS = 5  # policy batches timed


def _config() -> HallConfig:
    import tomllib

    return parse_config(tomllib.loads(generated_hall() + DEFAULT_POLICY))


def measure_defaults(db: Path, config: HallConfig) -> float:
    """Median ms of one policy batch (DEFAULTS_PER_RUN tickets) as the writer runs it:
    the candidates read from the store, the engine's command, the commit."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE tickets SET rating = NULL, rating_status = 'timeout', rated_at = NULL")
    conn.close()
    store = Store(db, synchronous="FULL")
    now = datetime(2026, 1, 31, 9, tzinfo=UTC)
    try:
        engine = store.load_engine(config, now)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            engine.adopt(store.unrated_tickets(engine.default_cutoff(now), DEFAULTS_PER_RUN))
            _, events = engine.handle({"type": "apply_default_ratings"}, now)
            store.commit(engine.take_changes(), events, now)
            times.append((time.perf_counter() - started) * 1000)
            assert len(events) == DEFAULTS_PER_RUN, len(events)
    finally:
        store.close()
    return round(statistics.median(times), 1)


def measure_export(db: Path, config: HallConfig) -> tuple[float, int]:
    """Seconds to read the record of every ticket and write it as xlsx; and its rows."""
    started = time.perf_counter()
    conn = open_readonly(db)
    try:
        rows = load_record(conn, date(2025, 1, 1), date(2025, 12, 31), config)
    finally:
        conn.close()
    write_record(rows, io.BytesIO(), "xlsx")
    return round(time.perf_counter() - started, 2), len(rows)


def measure(work: Path, quick: bool) -> dict:
    config = _config()
    db = work / "record.db"
    fill_store(db, 5_000 if quick else 31_500)  # more than RUNS batches of defaults
    export_s, rows = measure_export(db, config)
    return {"record_xlsx_s": export_s, "record_rows": rows,
            "defaults_batch_ms": measure_defaults(db, config)}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="hallq-bench-record-") as tmp:
        print(measure(Path(tmp), quick=len(sys.argv) > 1 and sys.argv[1] == "--quick"))
