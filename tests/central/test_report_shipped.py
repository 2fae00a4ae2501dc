"""The whole road: three halls' hubs serve citizens, `hallq ship`'s shipper copies their
logs to a real PostgreSQL, and the central report is the sum of the three hall reports."""

from __future__ import annotations

import asyncio
from datetime import date

from caller.central import report as central
from caller.central.access import connect_readonly
from caller.central.shipper import Shipper, read_dsn
from caller.core.client import HubClient
from caller.core.config import load_config
from caller.manager.stats import compute_report, open_readonly
from hallq.harness.ship import central_config
from tests.central.helpers import LEVELS
from tests.central.test_report import COUNTS
from tests.faults.inproc import running_hub
from tests.hubproc import DEMO_CONFIG

MONDAY = date(2026, 11, 23)  # the in-process hub's hall clock
# hall id, region code, citizens served, passed
HALLS = (("qingshan", "330106001000", 6, 1), ("baiyun", "330106002000", 9, 0), ("xiling", "330127", 4, 2))


async def serve(url: str, served: int, passed: int, shift: int) -> None:
    async with HubClient(url, "admin", "demo-admin") as c:
        await c.request("login", window="1", staff="1001")
        for n in range(served):
            for kind, args in (("issue_ticket", {"service": "civil"}), ("call_next", {"window": "1"}),
                               ("finish", {"window": "1"}),
                               ("rate", {"window": "1", "level": LEVELS[(n + shift) % len(LEVELS)]})):
                assert (await c.request(kind, **args))["ok"], kind
        for _ in range(passed):
            for kind, args in (("issue_ticket", {"service": "civil"}), ("call_next", {"window": "1"}),
                               ("skip", {"window": "1"})):
                assert (await c.request(kind, **args))["ok"], kind
        assert (await c.request("issue_ticket", service="family"))["ok"]  # still waiting


def test_the_shipped_centre_reports_the_sum_of_the_halls(tmp_path, central_dsn):
    own = {}
    for shift, (hall_id, region, served, passed) in enumerate(HALLS):
        config = load_config(central_config(DEMO_CONFIG, tmp_path / hall_id, central_dsn,
                                            hall_id=hall_id, region_code=region))
        db = tmp_path / hall_id / "hall.db"

        async def run(db=db, config=config, served=served, passed=passed, shift=shift) -> None:
            async with running_hub(db, config) as (_hub, url):
                await serve(url, served, passed, shift)

        asyncio.run(run())
        shipper = Shipper(config, db, read_dsn(config), hub_url=None)
        while shipper.step():
            pass
        conn = open_readonly(db)
        own[hall_id] = compute_report(conn, MONDAY, MONDAY, config=config)
        conn.close()

    with connect_readonly(central_dsn) as conn:
        halls = central.select_halls(conn, (), "3301")
        result = central.compute_central_report(conn, halls, MONDAY, MONDAY, region="3301")
        haocha = central.haocha_rows(conn, halls, MONDAY, MONDAY)
    for key in COUNTS:
        assert result.summary[key] == sum(r.summary[key] for r in own.values()), key
    assert result.summary["issued"] == sum(s + p + 1 for _, _, s, p in HALLS)
    for row in result.groups["hall"]:
        assert {k: row[k] for k in own[row["key"]].summary} == own[row["key"]].summary, row["key"]
    assert len(haocha) == sum(s for _, _, s, _ in HALLS)
    services = {r["key"]: r["name"] for r in result.groups["service"]}
    assert services["civil"] == "民政救济"  # the name, from the hall's shipped events
