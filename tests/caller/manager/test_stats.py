"""The statistics' definitions, checked against figures worked out by hand.

The data set is `two_day_hall` (tests/caller/manager/test_stats_data.py): a real engine driven
through commands and committed to a real store, with a recall, a hold, a transfer,
a pass, a ticket served across midnight and one cancelled at the day's end.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caller.hub.store import Store
from caller.manager.stats import (
    RankingWeights,
    StatsError,
    compute_report,
    live_figures,
    open_readonly,
    percentile,
)
from tests.caller.halls import config
from tests.caller.manager.test_stats_data import MONDAY, TUESDAY, StoreDriver, two_day_hall

MON, TUE = date.fromisoformat(MONDAY), date.fromisoformat(TUESDAY)


@pytest.fixture
def hall_db(tmp_path):
    d = two_day_hall(tmp_path / "hall.db")
    d.store.close()
    return tmp_path / "hall.db", d.config


def report(db_and_config, first=MON, last=TUE, **kw):
    path, cfg = db_and_config
    conn = open_readonly(path)
    try:
        return compute_report(conn, first, last, config=cfg, **kw)
    finally:
        conn.close()


def rows_by_key(rep, by):
    return {r["key"]: r for r in rep.groups[by]}


def test_monday_summary(hall_db):
    s = report(hall_db, MON, MON).summary
    assert (s["issued"], s["served"], s["passed"], s["cancelled"], s["waiting"]) == (6, 4, 1, 1, 0)
    assert (s["transferred"], s["held"]) == (1, 1)
    # waits (first call − issue): A001 60, B001 120, C001 180, A002 60 (its first call, not the
    # call after the transfer), A003 480; B002 was never called. The recall changes nothing.
    assert (s["wait_avg_s"], s["wait_median_s"], s["wait_p90_s"]) == (180.0, 120.0, 480.0)
    # service of served tickets, holds excluded, stints added up: A001 300, B001 180+300,
    # A002 60 at window 2 + 300 at window 1, A003 720 across midnight
    assert (s["service_avg_s"], s["service_median_s"], s["service_p90_s"]) == (465.0, 420.0, 720.0)
    assert (s["rated"], s["rating_rate"], s["satisfaction_rate"]) == (3, 0.75, 0.6667)
    assert (s["very_satisfied"], s["satisfied"], s["basic"], s["dissatisfied"]) == (1, 0, 1, 1)
    assert (s["bad_ratings"], s["defaulted"]) == (1, 0)
    assert (s["peak_hour"], s["peak_hour_issued"]) == (9, 4)


def test_a_ticket_served_across_midnight_counts_on_its_business_day(hall_db):
    tuesday = report(hall_db, TUE, TUE).summary
    assert (tuesday["issued"], tuesday["served"], tuesday["rated"]) == (1, 1, 1)
    assert tuesday["service_avg_s"] == 600.0  # Tuesday's own C001 only, not Monday's A003
    both = report(hall_db).summary
    assert (both["issued"], both["served"], both["passed"], both["rated"]) == (7, 5, 1, 4)
    assert (both["wait_avg_s"], both["wait_median_s"], both["wait_p90_s"]) == (200.0, 150.0, 480.0)
    assert (both["service_avg_s"], both["service_median_s"]) == (492.0, 480.0)
    assert (both["rating_rate"], both["satisfaction_rate"]) == (0.8, 0.75)


def test_by_window_with_transfers_out_of_each_window(hall_db):
    rows = rows_by_key(report(hall_db, MON, MON), "window")
    assert list(rows) == ["1", "2", "3", None]  # config order, then tickets never called
    one, two, three, never = rows["1"], rows["2"], rows["3"], rows[None]
    assert one["name"] == "1号窗口"
    assert (one["issued"], one["served"], one["transferred"], one["transferred_out"]) == (3, 3, 1, 0)
    assert (one["wait_avg_s"], one["service_avg_s"]) == (200.0, 460.0)
    assert (one["rated"], one["rating_rate"], one["satisfaction_rate"]) == (2, 0.6667, 1.0)
    assert (two["served"], two["held"], two["transferred_out"], two["bad_ratings"]) == (1, 1, 1, 1)
    assert (three["issued"], three["served"], three["passed"], three["rating_rate"]) == (1, 0, 1, None)
    assert (never["issued"], never["cancelled"], never["transferred_out"]) == (1, 1, None)
    assert sum(r["issued"] for r in rows.values()) == 6


def test_by_staff_service_hour_and_day(hall_db):
    rep = report(hall_db)
    staff = rows_by_key(rep, "staff")
    assert list(staff) == ["S1", "S2", "S3", None]
    assert (staff["S1"]["served"], staff["S3"]["passed"], staff["S3"]["served"]) == (3, 1, 1)
    service = rows_by_key(rep, "service")
    assert [(k, r["name"], r["issued"], r["served"]) for k, r in service.items()] == [
        ("a", "甲业务", 3, 3), ("b", "乙业务", 2, 1), ("c", "丙业务", 2, 1)]
    hours = rows_by_key(rep, "hour")
    assert list(hours) == list(range(9, 24))  # no gaps between the first and last hour
    assert (hours[9]["issued"], hours[9]["wait_avg_s"], hours[9]["name"]) == (5, 144.0, "09:00-10:00")
    assert (hours[12]["issued"], hours[12]["wait_avg_s"]) == (0, None)
    assert (hours[23]["issued"], hours[23]["wait_avg_s"]) == (2, 480.0)
    days = rows_by_key(rep, "day")
    assert [(k, r["issued"]) for k, r in days.items()] == [(MONDAY, 6), (TUESDAY, 1)]


def test_the_window_ranking(hall_db):
    # hall average wait 200 s. Window 1: 40×1 + 30×3/3 + 20×1 + 10×0.6667 = 96.7;
    # window 3: 40×1 + 30×1/3 + 20×200/240 + 10×1 = 76.7; window 2: 0 + 10 + 20 + 10 = 40.
    ranking = report(hall_db).ranking
    assert [(r["rank"], r["window"], r["score"]) for r in ranking] == [
        (1, "1", 96.7), (2, "3", 76.7), (3, "2", 40.0)]
    assert (ranking[1]["wait_points"], ranking[1]["volume_points"]) == (16.7, 10.0)


def test_weights_change_the_ranking_and_must_add_up_to_100(hall_db):
    volume_only = RankingWeights.parse("satisfaction=0,volume=100,wait=0,rating_rate=0")
    ranking = report(hall_db, weights=volume_only).ranking
    assert [(r["window"], r["score"]) for r in ranking] == [("1", 100.0), ("2", 33.3), ("3", 33.3)]
    assert RankingWeights() == RankingWeights.parse("") == RankingWeights(40, 30, 20, 10)
    with pytest.raises(ValueError, match="add up to 100"):
        RankingWeights.parse("satisfaction=50")
    with pytest.raises(ValueError, match="NAME=POINTS"):
        RankingWeights.parse("speed=10")
    with pytest.raises(ValueError, match="negative"):
        RankingWeights(satisfaction=-10, volume=60)


def test_follow_up_rates_come_from_the_cases(tmp_path):
    d = two_day_hall(tmp_path / "hall.db")
    path = (tmp_path / "hall.db", d.config)
    case = next(e for e in d.events if e["event"] == "case_opened")["case"]
    assert case["number"] == "B001"
    s = report(path).summary
    assert (s["bad_ratings"], s["callback_rate"], s["rectification_rate"]) == (1, 0.0, 0.0)
    d.ok("case_callback", case=case["id"], by="王主任", note="已电话回访")
    s = report(path).summary
    assert (s["callback_rate"], s["rectification_rate"]) == (1.0, 0.0)
    d.ok("case_rectify", case=case["id"], by="王主任", cause="材料说明不清", fix="补充一次性告知单")
    rep = report(path)
    assert (rep.summary["callback_rate"], rep.summary["rectification_rate"]) == (1.0, 1.0)
    assert rows_by_key(rep, "window")["1"]["callback_rate"] is None  # no bad rating there
    d.store.close()


def test_follow_up_rates_are_null_without_a_cases_table(hall_db):
    path, _ = hall_db
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE cases")
    conn.close()
    rep = report(hall_db)
    assert rep.followup_available is False
    assert rep.summary["callback_rate"] is None and rep.summary["rectification_rate"] is None
    assert rep.summary["bad_ratings"] == 1


def test_transfers_out_are_unknown_once_the_event_log_is_pruned(hall_db):
    path, _ = hall_db
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM events WHERE seq < 20")
    conn.commit()
    conn.close()
    rows = rows_by_key(report(hall_db, MON, MON), "window")
    assert all(r["transferred_out"] is None for r in rows.values())
    assert rows["1"]["transferred"] == 1  # from the tickets table: still known


def test_a_default_rating_is_not_a_citizens_rating(tmp_path):
    d = StoreDriver(Store(tmp_path / "hall.db", synchronous="OFF"),
                    config(calling={"rating_default": "satisfied"}))
    d.at(MONDAY, 9, 0).login_all()
    d.issue("a")
    d.at(MONDAY, 9, 1).call("1")
    d.at(MONDAY, 9, 5).ok("finish", window="1")
    d.at(MONDAY, 9, 6).ok("tick")  # the 15 s rating timeout has passed
    d.store.close()
    s = report((tmp_path / "hall.db", d.config), MON, MON).summary
    assert (s["served"], s["rated"], s["defaulted"], s["satisfied"]) == (1, 0, 1, 0)
    assert (s["rating_rate"], s["satisfaction_rate"]) == (0.0, None)


def test_an_empty_period_has_counts_of_zero_and_no_averages(hall_db):
    rep = report(hall_db, date(2026, 12, 1), date(2026, 12, 3))
    s = rep.summary
    assert (s["issued"], s["served"], s["rated"]) == (0, 0, 0)
    assert (s["wait_avg_s"], s["rating_rate"], s["satisfaction_rate"], s["peak_hour"]) == (None,) * 4
    assert [r["issued"] for r in rep.groups["day"]] == [0, 0, 0]
    assert rep.groups["window"] == [] and rep.groups["hour"] == [] and rep.ranking == []


def test_progress_is_reported_once_per_day(hall_db):
    seen = []
    report(hall_db, MON, date(2026, 11, 30), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 8) for i in range(1, 9)]


def test_a_period_that_ends_before_it_starts_is_refused(hall_db):
    with pytest.raises(ValueError, match="before it starts"):
        report(hall_db, TUE, MON)


def test_live_figures_for_the_hub_snapshot(tmp_path):
    d = StoreDriver(Store(tmp_path / "hall.db", synchronous="OFF"))
    d.at(MONDAY, 9, 0).login_all()
    for service in "aaab":
        d.issue(service)
    d.at(MONDAY, 9, 2).call("1")  # A001 after 120 s
    d.at(MONDAY, 9, 4).ok("finish", window="1")
    d.at(MONDAY, 9, 4, 5).ok("rate", window="1", level="very_dissatisfied")
    # through the hub's own reading connection, while its writer is open
    live = live_figures(d.store.reader, MONDAY)
    assert live["services"] == {
        "a": {"issued": 3, "waiting": 2, "served": 1, "wait_avg_s": 120.0},
        "b": {"issued": 1, "waiting": 1, "served": 0, "wait_avg_s": None},
    }
    assert (live["waiting"], live["served"], live["rated"], live["bad_ratings"]) == (3, 1, 1, 1)
    assert (live["rating_rate"], live["satisfaction_rate"]) == (1.0, 0.0)
    assert live_figures(tmp_path / "hall.db", MONDAY) == live  # or by path, read-only
    assert live_figures(tmp_path / "hall.db", TUESDAY)["issued"] == 0
    d.store.close()


def test_the_database_is_opened_read_only(hall_db):
    path, _ = hall_db
    before = path.read_bytes()
    conn = open_readonly(path)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM tickets")
    compute_report(conn, MON, TUE)
    conn.close()
    assert path.read_bytes() == before


def test_only_a_hallq_database_is_read(tmp_path):
    with pytest.raises(StatsError, match="no database"):
        open_readonly(tmp_path / "missing.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(StatsError, match="not a hallq database"):
        open_readonly(other)


def test_percentile_by_nearest_rank():
    assert percentile([], 90) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([float(i) for i in range(1, 11)], 90) == 9.0
    assert percentile([60.0, 60.0, 120.0, 180.0, 480.0], 90) == 480.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=200), st.integers(1, 100))
def test_percentile_is_the_smallest_value_covering_p_percent(values, p):
    found = percentile([float(v) for v in values], p)
    assert found in values
    assert 100 * sum(v <= found for v in values) >= p * len(values)
    assert 100 * sum(v < found for v in values) < p * len(values)
