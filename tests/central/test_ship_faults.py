"""Three halls ship to one centre through every fault the issue names: the centre stopped
and started again, one shipper SIGKILLed twenty times mid-stream, one hub restarted.
Afterwards the centre holds every event of every hall exactly once, in order, and its
derived tables say what the halls' own tables say."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import date
from zoneinfo import ZoneInfo

import psycopg
import pytest

from hallq.harness.ship import ShipperProcess, central_config
from tests.central import helpers
from tests.hubproc import DEMO_CONFIG, HubProcess

HALLS = ("qingshan", "baiyun", "xiaohe")
TZ = ZoneInfo("Asia/Shanghai")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def halls(tmp_path, postgres, central_dsn):
    """Three hubs, each with its shipper; the first ships 7 events per batch, so a kill
    lands between many small commits."""
    made = {}
    try:
        for i, hall in enumerate(HALLS):
            config = central_config(DEMO_CONFIG, tmp_path / hall, central_dsn, hall_id=hall,
                                    region_code=f"33010{i + 1}", name=f"{hall}便民服务中心",
                                    batch_size=7 if i == 0 else 200)
            db = tmp_path / hall / "hall.db"
            hub = HubProcess(config, db).start()
            made[hall] = (config, db, hub, ShipperProcess(config, db, hub.url).start())
        yield made
    finally:
        for _config, _db, hub, shipper in made.values():
            shipper.stop()
            hub.stop()


def _progressed(dsn: str, hall_id: str, timeout: float = 30.0) -> None:
    start = helpers.centre_position(dsn, hall_id)
    deadline = time.monotonic() + timeout
    while helpers.centre_position(dsn, hall_id) <= start:
        assert time.monotonic() < deadline, f"the shipper of {hall_id} made no progress"
        time.sleep(0.02)


def test_every_event_arrives_once_in_order_through_kills_outages_and_restarts(halls, postgres,
                                                                               central_dsn):
    rng = random.Random(19)
    first, second, _third = (halls[h] for h in HALLS)
    seen_while_down: dict[str, int] = {}

    async def faults() -> None:
        await asyncio.sleep(0.5)
        hall_id = HALLS[0]
        for _ in range(20):  # the first hall's shipper dies mid-batch, again and again
            # each kill waits for the restarted shipper to move the centre on, however
            # loaded the machine, so every kill falls in a live stream
            await asyncio.to_thread(_progressed, central_dsn, hall_id)
            await asyncio.sleep(rng.uniform(0.05, 0.25))
            await asyncio.to_thread(first[3].kill)
            await asyncio.to_thread(first[3].start)
        await asyncio.to_thread(postgres.stop)  # the centre goes away...
        before = {h: helpers.hub_seq(db) for h, (_c, db, _h, _s) in halls.items()}
        await asyncio.sleep(1.5)  # down long enough for every shipper to find it gone
        deadline = time.monotonic() + 60  # a loaded machine may serve nobody in 1.5 s
        while True:
            seen_while_down.update({h: helpers.hub_seq(db) - before[h]
                                    for h, (_c, db, _h, _s) in halls.items()})
            if all(seen_while_down.values()) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.to_thread(postgres.start)  # ...and comes back
        await asyncio.to_thread(second[2].stop)  # a hub restarts; its shipper rides it out
        await asyncio.to_thread(second[2].start)

    async def hall_day() -> list[int]:
        done = asyncio.Event()
        clerks = [asyncio.create_task(helpers.serve_citizens(hub.url, done))
                  for _c, _db, hub, _s in halls.values()]
        try:
            await faults()
            await asyncio.sleep(0.5)
        finally:
            done.set()
        return await asyncio.gather(*clerks)

    try:
        served = asyncio.run(hall_day())
    finally:
        if not (postgres.data / "postmaster.pid").exists():
            postgres.start()
    assert all(n > 0 for n in served)
    # the halls kept working while the centre was down
    assert all(n > 0 for n in seen_while_down.values()), seen_while_down

    helpers.wait_shipped(central_dsn, {h: db for h, (_c, db, _h, _s) in halls.items()})
    # the kills fell in a live stream: the restarted shippers took up positions further on
    # (one killed before it reached the centre logs none)
    started_at = [json.loads(line)["position"]
                  for line in first[1].with_suffix(".ship.log").read_text(encoding="utf-8").splitlines()
                  if "shipping from the centre's position" in line]
    assert len(started_at) >= 15 and started_at == sorted(started_at)
    assert len(set(started_at)) >= 10, started_at
    for hall, (_config, db, _hub, _shipper) in halls.items():
        held = helpers.centre_events(central_dsn, hall)
        assert held == helpers.hall_events(db), hall  # each once, in order, the same names
        assert helpers.centre_tickets(central_dsn, hall) == helpers.hall_tickets(db), hall

    # the derived figures are the hall's: the hall's statistics code over the centre's rows,
    # and the per-day aggregate
    with psycopg.connect(central_dsn) as conn:
        for hall, (_config, db, _hub, _shipper) in halls.items():
            days = conn.execute("SELECT day, issued, served, rated, satisfied, bad, events FROM "
                                "hall_days WHERE hall_id = %s", (hall,)).fetchall()
            assert len(days) == 1
            day: date = days[0][0]
            mine = helpers.hall_figures(db, day, TZ)
            theirs = helpers.stats.figures(helpers.centre_facts(central_dsn, hall, TZ), followup=True)
            assert theirs == mine
            assert days[0][1:6] == (mine["issued"], mine["served"], mine["rated"],
                                    sum(mine[lv] for lv in ("very_satisfied", "satisfied", "basic")),
                                    mine["bad_ratings"])
            assert days[0][6] == len(helpers.hall_events(db))
            ratings = conn.execute("SELECT count(*) FROM ratings WHERE hall_id = %s AND status = 'rated'",
                                   (hall,)).fetchone()[0]
            assert ratings == mine["rated"]
            shipped = conn.execute("SELECT shipped_seq, level, region_code FROM halls WHERE hall_id = %s",
                                   (hall,)).fetchone()
            assert shipped[0] == helpers.hub_seq(db) and shipped[1] == "town"
