"""The central report's tallies (PostgreSQL's derived rows, numpy's counts) against the hall's statistics.

Generated tickets of four halls in two time zones go into a real central database; every
figure of every row of the central report must equal what `caller.manager.stats` computes
from the same tickets read back as TicketFacts. The data is made to hit the edges: waits
and service times on 0.05 s steps (averages and medians that round on a tie), even and
odd counts, tickets without a window or staff, waiting, passed, cancelled, defaulted and
unrated tickets, cases called back or rectified (some tickets with two), tickets outside
the period, a hall without a ticket, a day without a ticket."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from caller.central import centre
from caller.central import report as central
from caller.central.access import connect_readonly
from caller.central.report import CENTRAL_GROUPINGS
from caller.core.config import RATING_LEVELS
from caller.manager import stats
from tests.central.helpers import centre_facts

FIRST, LAST = date(2026, 11, 2), date(2026, 11, 6)
HALLS = (("east", "Asia/Shanghai", "330101001000"), ("west", "Asia/Urumqi", "330101002000"),
         ("north", "Asia/Shanghai", "330102"), ("empty", "Asia/Shanghai", "330103"))
STATES = ("done",) * 6 + ("no_show", "cancelled", "waiting")


def _ticket(rng: random.Random, hall_id: str, tz: ZoneInfo, tid: int, day: date) -> dict:
    issued = datetime.combine(day, time(8), tz) + timedelta(seconds=rng.randrange(0, 10 * 3600),
                                                            microseconds=rng.randrange(10**6))
    state = rng.choice(STATES)
    step = rng.random() < 0.5  # on 0.05 s steps: ties when rounding to 0.1 s
    wait = (rng.randrange(0, 4000) * 0.05 if step else rng.uniform(0, 3600))
    called = issued + timedelta(seconds=wait) if state != "cancelled" or rng.random() < 0.3 else None
    status = rng.choice(("rated", "rated", "default", "timeout", None)) if state == "done" else None
    window = rng.choice(("1", "2", "3", None)) if called else None
    return {
        "hall_id": hall_id, "id": tid, "number": f"A{tid:03d}", "service": rng.choice("abc"),
        "day": day, "issued_at": issued, "priority": False, "state": state,
        "window_id": window, "first_called_at": called,
        "service_s": (round(rng.randrange(1, 20000) * 0.05, 2) if step else rng.uniform(1, 1800))
        if state == "done" else rng.choice((0.0, 12.5)),
        "transfers": rng.choice((0, 0, 0, 1, 2)), "holds": rng.choice((0, 0, 0, 1)),
        "staff": rng.choice(("1001", "1002", None)) if window else None,
        "rating": rng.choice(RATING_LEVELS) if status in ("rated", "default") else None,
        "rating_status": status, "seq": tid * 3,
    }


def _fill(dsn: str, seed: int) -> None:
    rng = random.Random(seed)
    tickets, cases = [], []
    for n, (hall_id, tz, _) in enumerate(HALLS[:3]):
        days = [FIRST - timedelta(days=1), *stats.days_between(FIRST, LAST), LAST + timedelta(days=1)]
        for day in days:
            if day == date(2026, 11, 4) and n != 1:
                continue  # one day only the west hall worked
            for _ in range(rng.randrange(5, 40)):
                tickets.append(_ticket(rng, hall_id, ZoneInfo(tz), len(tickets) + 1, day))
    for t in tickets:
        if t["rating"] in stats.BAD_LEVELS or rng.random() < 0.02:
            for _ in range(rng.choice((1, 1, 2))):
                cases.append((t["hall_id"], len(cases) + 1, t["id"], t["number"], t["service"],
                              t["rating"] or "dissatisfied", t["issued_at"], "open",
                              t["issued_at"] if rng.random() < 0.5 else None,
                              t["issued_at"] if rng.random() < 0.3 else None))
    columns = list(tickets[0])
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO halls (hall_id, name, region_code, level, timezone, config_version) "
            "SELECT h, h || '大厅', r, 'town', z, 'v1' FROM unnest(%s::text[], %s::text[], %s::text[]) "
            "AS x(h, z, r)", [list(c) for c in zip(*HALLS, strict=True)])
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO tickets ({', '.join(columns)}) VALUES "
                            f"({', '.join(['%s'] * len(columns))})",
                            [tuple(t[c] for c in columns) for t in tickets])
            cur.executemany("INSERT INTO cases (hall_id, id, ticket_id, number, service, level, "
                            "opened_at, state, called_back_at, rectified_at) VALUES "
                            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", cases)


def _expected(dsn: str) -> tuple[dict, dict[str, list[dict]]]:
    """The summary and every grouping's rows as the hall's statistics give them."""
    facts = {}
    for hall_id, tz, _ in HALLS:
        facts[hall_id] = [
            dataclasses.replace(t, window=t.window and f"{hall_id}/{t.window}",
                                staff=t.staff and f"{hall_id}/{t.staff}")
            for t in centre_facts(dsn, hall_id, ZoneInfo(tz))
            if FIRST.isoformat() <= t.day <= LAST.isoformat()]
    every = [t for ts in facts.values() for t in ts]
    groups = {"hall": [{"key": h, **stats.figures(facts[h], True)} for h, _, _ in HALLS]}
    for by in stats.GROUPINGS:
        groups[by] = stats.group_rows(every, by, True, None, FIRST, LAST)
    return stats.figures(every, True), groups


def _figures_only(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("name", "region_code", "level", "transferred_out")}
            for r in rows]


def _close(dsn: str, today: date) -> None:
    """Derive the halls' days as the shipper does and close those before `today`."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for hall_id, _, _ in HALLS:
            days = {d for (d,) in cur.execute("SELECT DISTINCT day FROM tickets WHERE hall_id = %s",
                                               (hall_id,))}
            centre.derive_days(cur, hall_id, days)
            centre.close_days(cur, hall_id, today)


# closed: none (every day packed by the report), some (the stored and the packed together), all
@pytest.mark.parametrize(("seed", "today"), [(1, None), (2, date(2026, 11, 5)), (3, date(2026, 12, 1)),
                                             (4, date(2026, 11, 3))])
def test_every_figure_of_every_row_is_the_hall_statistics_of_the_same_tickets(central_dsn, seed, today):
    _fill(central_dsn, seed)
    if today is not None:
        _close(central_dsn, today)
    summary, groups = _expected(central_dsn)
    with connect_readonly(central_dsn) as conn:
        halls = central.select_halls(conn)
        result = central.compute_central_report(conn, halls, FIRST, LAST)
    assert result.summary == summary
    assert list(result.groups) == list(CENTRAL_GROUPINGS)
    for by in CENTRAL_GROUPINGS:
        hall_order = [h.hall_id for h in halls]
        want = sorted(groups[by], key=lambda r: hall_order.index(r["key"])) if by == "hall" else groups[by]
        assert _figures_only(result.groups[by]) == _figures_only(want), by
    # the data reaches what it is made to reach
    assert summary["waiting"] and summary["defaulted"] and summary["bad_ratings"]
    assert 0 < summary["callback_rate"] < 1 and 0 < summary["rectification_rate"] < 1
    assert result.groups["hall"][-1]["issued"] == 0  # the hall without a ticket
    assert {r["key"] for r in result.groups["window"]} >= {None, "east/1", "west/1"}
    assert len(result.groups["day"]) == 5
    # hours in each hall's own time: 08:00 in Urumqi is 10:00 in Shanghai
    assert [r["key"] for r in result.groups["hour"]] == list(range(8, 18))


def test_a_period_without_a_ticket_gives_empty_figures_not_an_error(central_dsn):
    _fill(central_dsn, 1)
    with connect_readonly(central_dsn) as conn:
        halls = central.select_halls(conn)
        result = central.compute_central_report(conn, halls, date(2026, 12, 1), date(2026, 12, 2))
    assert result.summary == stats.figures([], True)
    assert [r["issued"] for r in result.groups["hall"]] == [0, 0, 0, 0]
    assert [r["key"] for r in result.groups["day"]] == ["2026-12-01", "2026-12-02"]
    assert result.groups["window"] == [] and result.ranking == []


def test_a_case_followed_up_on_a_closed_day_opens_the_day_and_counts(central_dsn):
    """A call-back recorded after the day closed: the shipper opens the day again (its
    stored facts would miss it) and closes it with the case's call-back in."""
    _fill(central_dsn, 1)
    _close(central_dsn, date(2026, 12, 1))
    with connect_readonly(central_dsn) as conn:
        before = central.compute_central_report(conn, central.select_halls(conn), FIRST, LAST).summary
    with psycopg.connect(central_dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE cases SET called_back_at = opened_at WHERE called_back_at IS NULL "
                    "RETURNING hall_id, (SELECT day FROM tickets t WHERE t.hall_id = cases.hall_id "
                    "AND t.id = cases.ticket_id)")
        touched = cur.fetchall()
        for hall_id, _, _ in HALLS:
            centre.derive_days(cur, hall_id, {d for h, d in touched if h == hall_id})
        assert cur.execute("SELECT count(*) FROM hall_days WHERE facts IS NULL").fetchone()[0] > 0
        for hall_id, _, _ in HALLS:
            centre.close_days(cur, hall_id, date(2026, 12, 1))
    summary, _ = _expected(central_dsn)
    with connect_readonly(central_dsn) as conn:
        after = central.compute_central_report(conn, central.select_halls(conn), FIRST, LAST).summary
    assert after == summary and after["callback_rate"] == 1 > before["callback_rate"]
