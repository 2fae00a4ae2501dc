"""Data sets for the statistics tests, written into a real store.

`two_day_hall` drives a real engine through commands (the way the hub does) and
commits every batch with the real `Store`; its figures are worked out by hand in
test_stats.py. `month_of_tickets` inserts a month of generated rows directly, fast.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from caller.core.config import RATING_LEVELS, HallConfig
from caller.hub.engine import TICKET_FIELDS
from caller.hub.store import Store
from tests.caller.halls import TZ, Clock, Driver

MONDAY = "2026-11-23"
TUESDAY = "2026-11-24"


class StoreDriver(Driver):
    """A Driver whose every command is committed to a real store, as the hub commits it."""

    def __init__(self, store: Store, cfg: HallConfig | None = None, clock: Clock | None = None):
        super().__init__(cfg, clock)
        self.store = store
        self.engine = store.load_engine(self.config, self.clock.now)

    def __call__(self, command: str, **args) -> dict:
        reply, events = self.engine.handle({"type": command, **args}, self.clock.now)
        self.store.commit(self.engine.take_changes(), events, self.clock.now)
        self.events.extend(events)
        return reply

    def at(self, day: str, hh: int, mm: int, ss: int = 0) -> StoreDriver:
        y, m, d = (int(x) for x in day.split("-"))
        self.clock.now = datetime(y, m, d, hh, mm, ss, tzinfo=TZ)
        return self


def two_day_hall(path: Path) -> StoreDriver:
    """Monday 2026-11-23 and the night into Tuesday, at the test hall (windows 1–3,
    services a/b/c, an evaluator on every window, passed tickets dropped).

        A001  issued 09:00 called 09:01 at 1, recalled, finished 09:06       rated 非常满意
        B001  issued 09:00 called 09:02 at 2, held 09:05–09:16, done 09:21   rated 不满意
        C001  issued 09:00 called 09:03 at 3, passed (过号) 09:06:40
        A002  issued 09:07 called 09:08 at 2, transferred to 1 at 09:09,
              called 09:10 at 1, finished 09:15                               not rated (timeout)
        A003  issued 23:50 called 23:58 at 1, finished Tuesday 00:10          rated 基本满意
        B002  issued 23:55, never called: cancelled when the day rolled over
        C001  (Tuesday's) issued 09:00 called 09:05 at 3, finished 09:15        rated 满意
    """
    d = StoreDriver(Store(path, synchronous="OFF"))
    d.at(MONDAY, 9, 0).login_all()
    for service in "abc":
        d.issue(service)
    assert d.at(MONDAY, 9, 1).call("1") == "A001"
    assert d.at(MONDAY, 9, 2).call("2") == "B001"
    assert d.at(MONDAY, 9, 3).call("3") == "C001"
    d.at(MONDAY, 9, 3, 20).ok("recall", window="1")
    d.at(MONDAY, 9, 5).ok("hold", window="2")
    d.at(MONDAY, 9, 6).ok("finish", window="1")
    d.at(MONDAY, 9, 6, 5).ok("rate", window="1", level="very_satisfied")
    assert d.at(MONDAY, 9, 6, 40).ok("skip", window="3")["requeued"] is False
    assert d.at(MONDAY, 9, 7).issue("a") == "A002"
    assert d.at(MONDAY, 9, 8).call("2") == "A002"
    d.at(MONDAY, 9, 9).ok("transfer", window="2", to_window="1")
    assert d.at(MONDAY, 9, 10).call("1") == "A002"
    d.at(MONDAY, 9, 15).ok("finish", window="1")
    d.at(MONDAY, 9, 16).ok("call_held", window="2", ticket="B001")
    d.at(MONDAY, 9, 21).ok("finish", window="2")
    d.at(MONDAY, 9, 21, 5).ok("rate", window="2", level="dissatisfied")
    assert d.at(MONDAY, 23, 50).issue("a") == "A003"
    assert d.at(MONDAY, 23, 55).issue("b") == "B002"
    assert d.at(MONDAY, 23, 58).call("1") == "A003"
    d.at(TUESDAY, 0, 10).ok("finish", window="1")
    d.at(TUESDAY, 0, 10, 5).ok("rate", window="1", level="basic")
    assert d.at(TUESDAY, 9, 0).issue("c") == "C001"  # numbering restarts each day
    assert d.at(TUESDAY, 9, 5).call("3") == "C001"
    d.at(TUESDAY, 9, 15).ok("finish", window="3")
    d.at(TUESDAY, 9, 15, 5).ok("rate", window="3", level="satisfied")
    return d


# ---------------------------------------------------------------------- a generated month

SERVICES = ("civil", "labour", "family", "party", "build", "finance", "green")
WINDOWS = ("1", "2", "3", "4", "5", "6", "7", "8")
STATES = ("done",) * 17 + ("no_show", "cancelled")
LEVEL_WEIGHTS = (60, 25, 8, 5, 2)
OPENING = (8 * 3600 + 30 * 60, 17 * 3600 + 30 * 60)


def month_of_tickets(path: Path, first: str = "2026-11-01", days: int = 30,
                     per_day: int = 1200, seed: int = 7) -> dict:
    """Insert `days × per_day` ticket rows (weekdays only get tickets) straight into a new
    store; return what was inserted, counted independently of caller.manager.stats."""
    Store(path, synchronous="OFF").close()  # the real schema
    rng = random.Random(seed)
    start = datetime.fromisoformat(first).replace(tzinfo=TZ)
    rows, truth = [], {"issued": 0, "served": 0, "passed": 0, "rated": 0, "bad": 0, "days": set()}
    tid = 0
    for day_index in range(days):
        day = start + timedelta(days=day_index)
        if day.weekday() >= 5:
            continue
        truth["days"].add(day.date().isoformat())
        counters: dict[str, int] = {}
        for _ in range(per_day):
            tid += 1
            service = rng.choice(SERVICES)
            counters[service] = counters.get(service, 0) + 1
            issued = day + timedelta(seconds=rng.randint(*OPENING))
            state = rng.choice(STATES)
            row = dict.fromkeys(TICKET_FIELDS)
            row.update(id=tid, number=f"{'ABCDEFV'[SERVICES.index(service)]}{counters[service]:03d}",
                       service=service, day=day.date().isoformat(), issued_at=issued.isoformat(),
                       order=float(tid), priority=0, lang="zh", state=state, transferred=0,
                       service_s=0.0, hold_s=0.0, recalls=0, requeues=0,
                       transfers=int(rng.random() < 0.05), holds=int(rng.random() < 0.03))
            truth["issued"] += 1
            if state != "cancelled":
                called = issued + timedelta(seconds=rng.randint(30, 3600))
                window = rng.choice(WINDOWS)
                row.update(first_called_at=called.isoformat(), called_at=called.isoformat(),
                           window=window, staff=f"10{window}")
            if state == "no_show":
                truth["passed"] += 1
            if state == "done":
                truth["served"] += 1
                row["service_s"] = float(rng.randint(60, 1800))
                row["finished_at"] = (called + timedelta(seconds=row["service_s"])).isoformat()
                if rng.random() < 0.8:
                    level = rng.choices(RATING_LEVELS, LEVEL_WEIGHTS)[0]
                    row.update(rating=level, rating_status="rated",
                               rated_at=(called + timedelta(seconds=row["service_s"] + 5)).isoformat())
                    truth["rated"] += 1
                    truth["bad"] += level in ("dissatisfied", "very_dissatisfied")
                else:
                    row["rating_status"] = "timeout"
            rows.append(tuple(row[f] for f in TICKET_FIELDS))
    conn = sqlite3.connect(path)
    with conn:
        names = ", ".join(f'"{f}"' for f in TICKET_FIELDS)
        marks = ", ".join("?" * len(TICKET_FIELDS))
        conn.executemany(f"INSERT INTO tickets ({names}) VALUES ({marks})", rows)
    conn.close()
    return truth


def test_the_generated_month_has_tickets_on_weekdays_only(tmp_path):
    truth = month_of_tickets(tmp_path / "m.db", days=7, per_day=10)
    conn = sqlite3.connect(tmp_path / "m.db")
    days = {d for (d,) in conn.execute("SELECT DISTINCT day FROM tickets")}
    conn.close()
    assert days == truth["days"] and len(days) == 5
    assert truth["issued"] == 50
