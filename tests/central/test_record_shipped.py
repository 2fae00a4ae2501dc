"""The region's 好差评 record from the centre is each hall's own record (issue 19): a day
with 办件编号, a real-name ticket, a screen evaluator's reasons and words, a roster name,
an upheld appeal and a call-back, driven through the real engine and store, shipped by
the shipper into a real PostgreSQL; the centre's export and the hall's agree field by
field, and what the hall keeps (the call-back note, the citizen's words and name unless
configured) is nowhere in the centre."""

from __future__ import annotations

import json

import psycopg
import pytest

from caller.central import report as central
from caller.central.access import connect_readonly
from caller.central.shipper import Shipper
from caller.core.config import parse_config
from caller.core.personal import mask_name, new_secret
from caller.manager import record
from caller.manager.stats import compute_report, open_readonly
from drivers.idcard.identities import RESIDENTS
from tests.caller.halls import BASE, raw
from tests.caller.manager.test_record import DAY, SERVICES, driven_day
from tests.caller.manager.test_stats_data import MONDAY, TUESDAY

HALL_ID = "cuiwei"
WORDS = "等了很久，我姓张"
NOTE = "已回访张三 13800000000"


def central_hall(tmp_path, personal_data: bool):
    secret = tmp_path / "hall.secret"
    new_secret(secret)
    doc = raw(hall={"id": HALL_ID, "name": "翠微镇便民服务中心", "region_code": "330106001000",
                    "level": "town"},
              services=SERVICES, personal={"secret_file": secret.name},
              rating={"code_order": "dissatisfied_first", "channel_name": "平板评价", "channel_code": "7"},
              devices=[*BASE["devices"], {"id": "shipper", "role": "shipper", "token": "s"}],
              central={"dsn_file": "central.dsn", "personal_data": personal_data})
    path = tmp_path / "hall.toml"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")  # its bytes: the config version
    return parse_config(doc, path=str(path), base=tmp_path)


def drive(tmp_path, cfg):
    """test_record's day, with B001's reasons and words from its screen evaluator, S2 on
    the roster, B001's bad rating called back and its appeal upheld."""
    d = driven_day(tmp_path, cfg)
    b001 = d.store.conn.execute("SELECT id FROM tickets WHERE number = 'B001'").fetchone()[0]
    d.at(MONDAY, 9, 12, 30).ok("rate_reasons", window="2", ticket=b001, reasons=["效率低", "多次跑腿"],
                                comment=WORDS)
    d.at(MONDAY, 9, 30).ok("staff_save", staff_no="S2", name="李四")
    d.ok("case_callback", case=1, by="王主任", note=NOTE)
    appeal = d.ok("appeal_file", ticket=b001, by="S2", reason="系统故障")["appeal"]["id"]
    d.ok("appeal_decide", appeal=appeal, by="王主任", decision="uphold", note="核实为系统故障")
    d.store.close()
    return d


def ship(cfg, db, dsn) -> None:
    shipper = Shipper(cfg, db, dsn, batch_size=7)  # many batches: the roster and rows come in parts
    try:
        while shipper.step():
            pass
    finally:
        shipper.close()


@pytest.mark.parametrize("personal_data", [True, False])
def test_the_regions_record_is_the_halls_own_record_field_by_field(tmp_path, central_dsn, personal_data):
    cfg = central_hall(tmp_path, personal_data)
    drive(tmp_path, cfg)
    conn = open_readonly(tmp_path / "hall.db")
    own = record.load_record(conn, DAY, DAY, cfg)
    conn.close()
    ship(cfg, tmp_path / "hall.db", central_dsn)
    with connect_readonly(central_dsn) as conn:
        halls = central.select_halls(conn, (), "3301")
        shipped = central.haocha_rows(conn, halls, DAY, DAY)

    b001 = own[1]  # what the hall's own record says of the ticket with everything
    assert (b001.case_no, b001.item_code, b001.level_code, b001.channel, b001.channel_code) == (
        "SL330106202611230002", "000105410000", 2, "平板评价", "7")
    assert (b001.reasons, b001.text, b001.staff, b001.appeal, b001.rater) == (
        ("效率低", "多次跑腿"), WORDS, "李四", "申诉成立", mask_name(RESIDENTS["zhang"].name))
    assert [r.count for r in own] == [1, 1, 2]
    expected = []
    for row in own:
        fields = row.as_json()
        fields["number"] = f"{HALL_ID}-{row.number}"  # two halls number their tickets alike
        if not personal_data:  # the citizen's name and words stay in the hall
            fields["rater"], fields["text"] = record.ANONYMOUS, ""
        expected.append(fields)
    assert [r.as_json() for r in shipped] == expected

    with psycopg.connect(central_dsn) as pg:
        everything = "|".join(text for table in ("events", "tickets", "ratings", "cases", "halls")
                              for (text,) in pg.execute(f"SELECT t::text FROM {table} t"))
    assert NOTE not in everything  # a call-back note never leaves the hall
    assert (WORDS in everything) is personal_data
    assert (mask_name(RESIDENTS["zhang"].name) in everything) is personal_data


def test_a_call_back_the_next_day_opens_the_closed_day_again(tmp_path, central_dsn):
    """Monday closes at the centre once Tuesday's events are shipped; a call-back of a
    Monday case shipped on Tuesday opens Monday again (and the batch packs it anew), and
    the centre's Monday counts it."""
    cfg = central_hall(tmp_path, False)
    d = driven_day(tmp_path, cfg)
    db = tmp_path / "hall.db"

    def monday_packed() -> bool:
        with psycopg.connect(central_dsn) as pg:
            return pg.execute("SELECT facts IS NOT NULL FROM hall_days WHERE hall_id = %s AND day = %s",
                              (HALL_ID, DAY)).fetchone()[0]

    def figures() -> tuple[dict, dict]:
        conn = open_readonly(db)
        own = compute_report(conn, DAY, DAY, config=cfg).summary
        conn.close()
        with connect_readonly(central_dsn) as conn:
            halls = central.select_halls(conn, (HALL_ID,))
            return own, central.compute_central_report(conn, halls, DAY, DAY).summary

    d.at(TUESDAY, 9, 0).ok("tick")
    d.issue("a")
    ship(cfg, db, central_dsn)
    assert monday_packed()
    d.ok("case_callback", case=1, by="王主任", note=NOTE)
    ship(cfg, db, central_dsn)
    own, shipped = figures()
    assert own["callback_rate"] == 1.0 and {k: shipped[k] for k in own} == own
    d.store.close()
