"""`hallq demo --central`: a local PostgreSQL (the throwaway cluster of the harness) as the
city's centre, `hallq ship` beside the demo's hub, and the checks that the centre agrees
with the hall at the end: every event, every ticket, every rating."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from caller.core.config import HallConfig
from hallq.demo_summary import check
from hallq.harness.postgres import Postgres
from hallq.harness.ship import central_config
from hallq.supervisor import Program, Supervisor, hallq_argv

HALL_ID = "qingshan"
REGION = "330106001000"  # a town's 12-digit 行政区划代码
CATCH_UP_S = 60.0


def shipping_config(config: HallConfig, centre: Postgres) -> Path:
    """The demo hall's config with its identity, a shipper device and `[central]`."""
    return central_config(Path(config.path), Path(config.path).parent, centre.dsn, hall_id=HALL_ID,
                          region_code=REGION, level="town")


def start_shipper(sup: Supervisor, config: HallConfig, db: Path, hub_url: str) -> None:
    sup.start(Program("ship", hallq_argv("ship", "--config", config.path, "--db", str(db),
                                         "--hub", hub_url)))


def agreement(centre: Postgres, db: Path, report: Callable[[str], None]) -> list[dict]:
    """Wait for the shipper to catch up, then compare the centre with the hall's database."""
    hall = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        events, last = hall.execute("SELECT count(*), COALESCE(MAX(seq), 0) FROM events").fetchone()
        tickets = hall.execute("SELECT count(*) FROM tickets").fetchone()[0]
        rated = hall.execute("SELECT count(*) FROM tickets WHERE rating_status = 'rated'").fetchone()[0]
    finally:
        hall.close()
    with psycopg.connect(centre.dsn, autocommit=True) as conn:
        deadline = time.monotonic() + CATCH_UP_S
        shipped = 0
        while time.monotonic() < deadline:
            row = conn.execute("SELECT shipped_seq FROM halls WHERE hall_id = %s", (HALL_ID,)).fetchone()
            shipped = row[0] if row else 0
            if shipped >= last:
                break
            time.sleep(0.2)
        held = conn.execute("SELECT count(*), count(DISTINCT seq) FROM events WHERE hall_id = %s",
                            (HALL_ID,)).fetchone()
        central_tickets = conn.execute("SELECT count(*) FROM tickets WHERE hall_id = %s",
                                       (HALL_ID,)).fetchone()[0]
        central_rated = conn.execute(
            "SELECT count(*) FROM ratings WHERE hall_id = %s AND status = 'rated'", (HALL_ID,)).fetchone()[0]
    report(f"  the centre holds {held[0]} events of {HALL_ID} (position {shipped} of {last})")
    return [
        check("the centre holds every event once", held == (events, events) and shipped == last,
              f"hall {events} events up to seq {last}; centre {held[0]} ({held[1]} distinct), "
              f"position {shipped}"),
        check("the centre's tickets are the hall's", central_tickets == tickets,
              f"hall {tickets}, centre {central_tickets}"),
        check("the centre's ratings are the hall's", central_rated == rated,
              f"hall {rated} rated, centre {central_rated}"),
    ]
