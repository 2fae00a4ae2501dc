"""The shipper against a hub running in the test's loop and a real PostgreSQL: personal
data, a second shipper, a hall restored from an old backup, the centre away at start, the
hub's prune and backlog alert, and the [central] config at the door."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
from pathlib import Path

import psycopg
import pytest

from caller.central.centre import PositionMoved
from caller.central.shipper import HallBehindCentre, Shipper, read_dsn
from caller.core.client import HubClient
from caller.core.config import ConfigError, load_config
from caller.core.personal import new_secret
from caller.core.protocol import AlertKind
from caller.hub.store import Store
from hallq.harness.ship import SHIPPER_TOKEN, central_config
from tests.faults.inproc import running_hub
from tests.hubproc import DEMO_CONFIG

CARD = {"id_number": "11010519491231002X", "name": "张三丰", "age": 76}


def hall_config(tmp_path: Path, dsn: str, **kw: object):
    path = central_config(DEMO_CONFIG, tmp_path, dsn, hall_id="qingshan", **kw)
    new_secret(tmp_path / "hall.secret")
    path.write_text(path.read_text(encoding="utf-8") + '\n[personal]\nsecret_file = "hall.secret"\n'
                    '\n[booking.services.civil]\nremote = true\n', encoding="utf-8")
    return load_config(path)


async def issue(url: str, count: int, **args: object) -> None:
    async with HubClient(url, "admin", "demo-admin") as admin:
        for _ in range(count):
            reply = await admin.request("issue_ticket", service="civil", **args)
            assert reply["ok"], reply


def make_hall(tmp_path: Path, config, tickets: int = 3, **args: object) -> Path:
    db = tmp_path / "hall.db"

    async def go() -> None:
        async with running_hub(db, config) as (_hub, url):
            await issue(url, tickets, **args)

    asyncio.run(go())
    return db


def ship_all(shipper: Shipper) -> None:
    while shipper.step():
        pass


PHONE = "13812345678"


@pytest.mark.parametrize("personal", [False, True])
def test_ticket_holders_leave_the_hall_only_when_configured(tmp_path, central_dsn, personal):
    config = hall_config(tmp_path, central_dsn)
    db = make_hall(tmp_path, config, 1, person=CARD)

    async def by_phone() -> None:  # a ticket taken from a phone: its holder has the number as given
        async with running_hub(db, config) as (_hub, url), HubClient(url, "admin", "demo-admin") as admin:
            reply = await admin.request("remote_ticket", service="civil", phone=PHONE)
            assert reply["ok"], reply

    asyncio.run(by_phone())
    if personal:
        text = Path(config.path).read_text(encoding="utf-8")
        Path(config.path).write_text(text.replace("[central]\n", "[central]\npersonal_data = true\n"),
                                     encoding="utf-8")
        config = load_config(config.path)
    shipper = Shipper(config, db, central_dsn)
    ship_all(shipper)
    shipper.close()
    with psycopg.connect(central_dsn) as conn:
        bodies = [r[0] for r in conn.execute("SELECT body FROM events WHERE name = 'ticket_issued' "
                                             "ORDER BY seq")]
        row = conn.execute("SELECT person_key, holder_name, id_last4 FROM tickets ORDER BY id").fetchone()
        everything = repr(bodies) + "".join(text for (text,) in conn.execute("SELECT e::text FROM events e"))
    everything += repr(row)
    assert "张三丰" not in everything and "11010519491231002X" not in everything  # never the raw card
    assert PHONE not in everything  # nor a phone number as given
    if personal:
        assert bodies[0]["ticket"]["holder"] == {"name": "张*丰", "last4": "002X", "wall": False}
        assert row[1:] == ("张*丰", "002X") and len(row[0]) == 64
    else:
        assert "holder" not in bodies[0]["ticket"]
        assert row == (None, None, None)


def test_a_second_shipper_of_the_same_hall_ships_nothing_twice(tmp_path, central_dsn):
    config = hall_config(tmp_path, central_dsn)
    db = make_hall(tmp_path, config, 3)
    first, second = (Shipper(config, db, central_dsn, batch_size=1) for _ in range(2))
    assert second.step() == 1  # the second ships seq 1...
    assert first.step() == 1  # ...the first connects after it and ships seq 2...
    with pytest.raises(PositionMoved):
        second.step()  # ...so the second's idea of the position is stale: it writes nothing
    with psycopg.connect(central_dsn) as conn:
        count = conn.execute("SELECT count(*), count(DISTINCT seq), max(seq) FROM events").fetchone()
    assert count == (2, 2, 2)
    first.close()
    second.close()


def test_a_hall_restored_from_an_older_backup_is_not_shipped_over(tmp_path, central_dsn):
    config = hall_config(tmp_path, central_dsn)
    db = make_hall(tmp_path, config, 3)
    shipper = Shipper(config, db, central_dsn)
    ship_all(shipper)
    with psycopg.connect(central_dsn) as conn:  # the centre holds more than this hub's file
        conn.execute("UPDATE halls SET shipped_seq = shipped_seq + 100")
    shipper.close()
    again = Shipper(config, db, central_dsn)
    with pytest.raises(HallBehindCentre, match="older backup"):
        again.step()
    again.close()


def test_the_centre_away_at_start_is_retried_and_logged(tmp_path, central_dsn, caplog):
    config = hall_config(tmp_path, central_dsn)
    db = make_hall(tmp_path, config, 1)
    shipper = Shipper(config, db, f"host={tmp_path} dbname=nowhere user=hallq")

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(shipper.run(stop))
        await asyncio.sleep(1.2)
        stop.set()
        await asyncio.wait_for(task, 5)

    with caplog.at_level(logging.WARNING, logger="hallq.ship"):
        asyncio.run(go())
    retries = [r for r in caplog.records if r.getMessage() == "centre unavailable; retrying"]
    assert len(retries) >= 2
    assert [r.fields["retry_in_s"] for r in retries[:2]] == [0.5, 1.0]  # backing off


def test_the_hub_prunes_only_what_the_centre_holds(tmp_path, central_dsn, monkeypatch):
    config = hall_config(tmp_path, central_dsn)
    db = tmp_path / "hall.db"
    monkeypatch.setattr(Store.prune, "__defaults__", (0, 100_000, None))  # keep no old events

    async def go() -> None:
        async with running_hub(db, config) as (hub, url):
            await issue(url, 5)
            await hub._prune()  # the shipper has not reported: nothing goes
            assert _kept(hub) == (1, hub.store.last_seq)
            async with HubClient(url, "shipper", SHIPPER_TOKEN) as shipper:
                reply = await shipper.request("shipped", seq=4)
                assert (reply["seq"], reply["backlog"]) == (4, hub.store.last_seq - 4)
                assert (await shipper.request("shipped", seq=10**9))["seq"] == hub.store.last_seq
                await shipper.request("shipped", seq=4)
            await hub._prune()
            assert _kept(hub) == (5, hub.store.last_seq)
            async with HubClient(url, "admin", "demo-admin") as admin:  # only the shipper may
                refused = await admin.request("shipped", seq=hub.store.last_seq)
            assert refused["error"]["code"] == "forbidden" and hub.shipped == 4

    asyncio.run(go())


def _kept(hub) -> tuple[int, int]:
    return hub.store.conn.execute("SELECT MIN(seq), MAX(seq) FROM events").fetchone()


def test_a_backlog_past_the_limit_raises_an_alert_and_closes_it_when_shipped(tmp_path, central_dsn):
    config = hall_config(tmp_path, central_dsn, backlog_max=1000)
    db = tmp_path / "hall.db"
    from hallq.benches.hall import fill_events

    fill_events(db, 1200)

    async def go() -> None:
        async with running_hub(db, config) as (hub, url):
            await hub._check_backlog()  # nothing reported: the whole kept log is the backlog
            await _until(lambda: _open(hub, AlertKind.SHIP_BACKLOG))
            await hub._check_backlog()  # still over: no second alert
            async with HubClient(url, "shipper", SHIPPER_TOKEN) as shipper:
                await shipper.request("shipped", seq=hub.store.last_seq)
            await hub._check_backlog()
            await _until(lambda: not _open(hub, AlertKind.SHIP_BACKLOG))
            kinds = [a.kind for a in hub.engine.followup.alerts.values()]
            assert kinds.count(AlertKind.SHIP_BACKLOG) <= 1

    asyncio.run(go())


def _open(hub, kind: str) -> bool:
    return any(a.kind == kind and a.acknowledged_at is None for a in hub.engine.followup.alerts.values())


async def _until(predicate, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached")


# ---------------------------------------------------------------- the config at the door


def test_central_needs_the_halls_identity_and_a_shipper_device(tmp_path):
    demo = re.sub(r"(?m)^region_code = .*\n", "", DEMO_CONFIG.read_text(encoding="utf-8"))
    text = demo + '\n[central]\ndsn_file = "c.dsn"\ndevice = "admin"\n'
    (tmp_path / "hall.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "hall.toml")
    problems = "\n".join(refused.value.problems)
    for key in ("hall.id", "hall.region_code", "hall.level"):
        assert f"{key}: missing" in problems
    assert "central.device: expected the id of a device with role 'shipper', got 'admin'" in problems


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("region_code", "3301", "6- or 12-digit"),
    ("level", "province", "expected one of city, county, town, village"),
    ("id", "青山 镇", "letters, digits"),
])
def test_bad_hall_identity_is_refused_with_its_key(tmp_path, key, value, expected):
    demo = re.sub(r"(?m)^region_code = .*\n", "", DEMO_CONFIG.read_text(encoding="utf-8"))
    text = demo.replace("[hall]\n", f'[hall]\n{key} = "{value}"\n', 1)
    (tmp_path / "hall.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"hall.{key}: .*{expected}"):
        load_config(tmp_path / "hall.toml")


def test_a_dsn_file_others_may_read_is_refused(tmp_path):
    config = load_config(central_config(DEMO_CONFIG, tmp_path, "host=/nowhere", hall_id="h"))
    assert read_dsn(config) == "host=/nowhere"
    os.chmod(tmp_path / "h.dsn", 0o644)
    with pytest.raises(ConfigError, match=r"central.dsn_file: .*h.dsn may be read by others "
                                          r"\(mode 644\).*expected mode 600"):
        read_dsn(config)
    (tmp_path / "h.dsn").unlink()
    with pytest.raises(ConfigError, match=r"central\.dsn_file: cannot read"):
        read_dsn(config)


def test_check_config_reads_the_dsn_file_and_says_where_the_hall_ships(tmp_path):
    from hallq.check_config import load_checked, summary

    path = central_config(DEMO_CONFIG, tmp_path, "host=/nowhere", hall_id="qingshan")
    shown = summary(load_checked(str(path)))
    assert ("ships to the centre as hall qingshan (town, region 330106): device shipper, batches of "
            "5000, alert past 500000 unshipped, personal data kept in the hall") in shown
    os.chmod(tmp_path / "qingshan.dsn", 0o640)
    with pytest.raises(ConfigError, match="may be read by others"):
        load_checked(str(path))


def test_a_file_that_is_no_hub_database_is_refused_by_name(tmp_path):
    from caller.central.hall_log import HallLog, HallLogError

    with pytest.raises(HallLogError, match=r"no hub database at .*missing\.db"):
        HallLog(tmp_path / "missing.db")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(HallLogError, match="is not a hallq hub database"):
        HallLog(other)
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(HallLogError, match="cannot read"):
        HallLog(tmp_path / "junk.db")


def test_hallq_ship_without_central_exits_2_naming_the_table(tmp_path, capsys):
    from hallq.cli import main

    assert main(["ship", "--config", str(DEMO_CONFIG), "--db", str(tmp_path / "hall.db")]) == 2
    assert "central: missing; expected a [central] table" in capsys.readouterr().err
