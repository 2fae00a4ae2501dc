"""Shipping to the centre: `hallq ship` processes copying hub stores into a throwaway
PostgreSQL (fsync on, as a real centre), and a hub's calls while its centre is down.

- `catchup_week_s`, `ship_events_per_s`: one shipper catches up a week's backlog of one
  busy hall (~150,000 events: 7 per ticket, 3,000 tickets a day), from its ready line to
  the centre's position reaching the end of the log; the rate is that run's.
- `ship_events_per_s_10`: ten shippers at once, each with its own hall's backlog.
- `ship_down_call_p99_ms`: call → display p99 on the bench hall whose shipper keeps
  retrying a centre that is down (compare `call_p99_ms`).

    .venv/bin/python -m hallq.benches.ship --quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from caller.central import schema
from caller.core.protocol import Event
from caller.hub.store import Store
from hallq.benches.wire import CallLoad, close_all, devices, issue_tickets, kiosk_names, percentile
from hallq.harness.hub import HubProcess
from hallq.harness.postgres import Postgres
from hallq.harness.ship import ShipperProcess, central_config

TZ = ZoneInfo("Asia/Shanghai")
EVENTS_PER_TICKET = 7
WEEK_EVENTS = 150_000
TEN_EVENTS = 20_000  # each of the ten halls
CALL_DISPLAYS = 50  # as hallq.bench's call figures
LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")


def fill_week(db: Path, events: int, first_day: str = "2026-11-23", per_day: int = 3000) -> int:
    """A hub store holding `events` events of tickets issued, called, finished and rated
    over consecutive days, with their ticket rows; returns the events written."""
    Store(db).close()
    tickets = events // EVENTS_PER_TICKET
    start = datetime.fromisoformat(f"{first_day}T08:30:00").replace(tzinfo=TZ)
    event_rows, ticket_rows = [], []
    seq = 0
    for n in range(1, tickets + 1):
        day_index, in_day = divmod(n - 1, per_day)
        issued = start + timedelta(days=day_index, seconds=in_day * 8)
        called, finished = issued + timedelta(seconds=300), issued + timedelta(seconds=600)
        number, window, level = f"A{in_day + 1:04d}", str(n % 8 + 1), LEVELS[n % 5]
        ticket = {"id": n, "number": number, "service": "civil", "service_name": "户籍业务",
                  "priority": "normal", "state": "waiting", "window": None, "target_window": None,
                  "transferred": False, "issued_at": issued.isoformat(), "called_at": None,
                  "finished_at": None, "recalls": 0}
        called_view = {**ticket, "state": "called", "window": window, "called_at": called.isoformat()}
        done_view = {**called_view, "state": "done", "finished_at": finished.isoformat()}
        for at, name, body in (
                (issued, Event.TICKET_ISSUED, {"ticket": ticket, "ahead": 3}),
                (issued, Event.QUEUE_CHANGED, {"waiting": {"civil": 4}, "directed": {}}),
                (called, Event.TICKET_CALLED, {"ticket": called_view, "window": window,
                                               "window_name": f"{window}号窗口", "recall": False}),
                (called, Event.QUEUE_CHANGED, {"waiting": {"civil": 3}, "directed": {}}),
                (finished, Event.TICKET_FINISHED, {"ticket": done_view, "window": window, "staff": "1001"}),
                (finished, Event.RATING_REQUESTED, {"ticket": done_view, "window": window, "timeout_s": 15}),
                (finished, Event.RATING_RECEIVED, {"ticket": done_view, "window": window,
                                                   "staff": "1001", "level": level})):
            seq += 1
            stamp = at.isoformat(timespec="milliseconds")
            message = {"type": "event", "seq": seq, "at": stamp, "event": name, **body}
            event_rows.append((seq, stamp, name, json.dumps(message, ensure_ascii=False,
                                                            separators=(",", ":"))))
        ticket_rows.append((n, number, "civil", issued.date().isoformat(), issued.isoformat(), float(n),
                            0, "zh", "done", window, None, 0, called.isoformat(), called.isoformat(),
                            called.isoformat(), finished.isoformat(), None, 300.0, 0.0, 0, 0, 0, 0,
                            "1001", level, "rated", finished.isoformat()))
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", event_rows)
        conn.executemany(
            'INSERT INTO tickets (id, number, service, day, issued_at, "order", priority, lang, state, '
            '"window", target_window, transferred, first_called_at, called_at, started_at, finished_at, '
            "held_at, service_s, hold_s, recalls, requeues, transfers, holds, staff, rating, "
            "rating_status, rated_at) VALUES (" + ", ".join("?" * 27) + ")", ticket_rows)
    conn.close()
    return seq


def ship_stores(pg: Postgres, work: Path, config: Path, store: Path, halls: int,
                events_each: int) -> float:
    """Seconds from the moment `halls` shippers are ready until the centre holds every
    event of their copies of `store`."""
    with psycopg.connect(pg.dsn) as conn:
        schema.migrate(conn)  # before the first shipper, so the centre can be watched at once
    shippers = []
    try:
        for i in range(halls):
            folder = work / f"hall{i}"
            hall_config = central_config(config, folder, pg.dsn, hall_id=f"bench{i}")
            db = folder / "hall.db"
            shutil.copy(store, db)
            shippers.append(ShipperProcess(hall_config, db, None))
        for shipper in shippers:
            shipper.harness.start()  # all spawned before any is waited for
        for shipper in shippers:
            shipper.harness.wait_for(lambda line: line.get("ready") is True, 60, what="ready")
        started = time.perf_counter()
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            while conn.execute("SELECT COALESCE(sum(shipped_seq), 0) FROM halls").fetchone()[0] \
                    < halls * events_each:
                time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        for shipper in shippers:
            shipper.stop()


def measure_shipping(work: Path, config: Path, quick: bool) -> dict:
    week = WEEK_EVENTS // (5 if quick else 1)
    each = TEN_EVENTS // (4 if quick else 1)
    week_store, ten_store = work / "week.db", work / "ten.db"
    week = fill_week(week_store, week)
    each = fill_week(ten_store, each)
    with Postgres(durable=True) as pg:
        catchup = ship_stores(pg, work / "one", config, week_store, 1, week)
    with Postgres(durable=True) as pg:
        ten = ship_stores(pg, work / "ten", config, ten_store, 10, each)
    return {"catchup_week_s": round(catchup, 2), "ship_events_per_s": round(week / catchup),
            "ship_week_events": week, "ship_events_per_s_10": round(10 * each / ten),
            "ship_events_each_10": each}


def measure_centre_down(work: Path, config: Path, quick: bool, rate: float = 100.0) -> dict:
    """The bench hall's calls (as `call_p99_ms` measures them) while its shipper retries a
    centre that is not there."""
    seconds = 2.0 if quick else 10.0
    folder = work / "down"
    hall_config = central_config(config, folder, f"host={folder} dbname=central user=hallq",
                                 hall_id="down")
    hub = HubProcess(hall_config, folder / "hall.db", extra=["--log-level", "WARNING"]).start()
    shipper = ShipperProcess(hall_config, folder / "hall.db", hub.url).start()
    try:
        async def calls() -> list[float]:
            kiosks = await devices(hub.url, kiosk_names())
            await issue_tickets(kiosks, count=int(seconds * rate) + 100)  # a queue to call from
            await close_all(kiosks)
            load = await CallLoad(hub.url, CALL_DISPLAYS).open()
            try:
                return await load.run(seconds, rate)
            finally:
                await load.close()

        latencies = asyncio.run(calls())
    finally:
        shipper.stop()
        hub.stop()
    return {"ship_down_call_p99_ms": percentile(latencies, 99)}


def measure(work: Path, config: Path, quick: bool) -> dict:
    return {**measure_shipping(work, config, quick), **measure_centre_down(work, config, quick)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    from hallq.benches.hall import generated_hall

    with tempfile.TemporaryDirectory(prefix="hallq-bench-ship-") as tmp:
        config = Path(tmp) / "hall.toml"
        config.write_text(generated_hall(), encoding="utf-8")
        print(json.dumps(measure(Path(tmp), config, args.quick), indent=1))


if __name__ == "__main__":
    main()
