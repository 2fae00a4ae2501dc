"""The rating record the province takes (issue 17): a day driven through the real engine
and store, its export read back field by field as CSV, xlsx and JSON lines; the 办件编号
checked at the door and in the engine."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date

import pytest
from openpyxl import load_workbook

from caller.core import protocol
from caller.core.config import parse_config
from caller.core.personal import mask_name, new_secret
from caller.hub.store import Store
from caller.manager import record
from caller.manager.stats import compute_report, open_readonly
from drivers.idcard.identities import RESIDENTS
from tests.caller.halls import raw
from tests.caller.manager.test_stats_data import MONDAY, StoreDriver

DAY = date(2026, 11, 23)
SERVICES = [
    {"id": "a", "name": "户籍业务", "prefix": "A", "item_code": "11330106MB1234567X4000105410000",
     "item_name": "户口迁移登记"},
    {"id": "b", "name": "乙业务", "prefix": "B", "item_code": "000105410000"},
    {"id": "c", "name": "丙业务", "prefix": "C"},
]
CASE_1, CASE_2 = "SL330106202611230001", "SL330106202611230002"


def hall_config(tmp_path, **rating):
    secret = tmp_path / "hall.secret"
    if not secret.exists():
        new_secret(secret)
    return parse_config(raw(hall={"name": "测试大厅", "region_code": "330106"}, services=SERVICES,
                            personal={"secret_file": secret.name}, rating=rating),
                        base=tmp_path)


def driven_day(tmp_path, cfg=None, **rating) -> StoreDriver:
    """Monday at the test hall, every window with an evaluator:

        A001  window 1, S1, 办件 CASE_1, rated 非常满意 at 09:06:05
        B001  window 2, S2, a real-name ticket (张三), 办件 CASE_2, rated 不满意 at 09:12:05
        A002  window 1, S1, 办件 CASE_1 again (the second visit), rated 满意 at 09:20:10
        C001  window 3, S3, no 办件编号, not rated (the evaluator timed out)
    """
    d = StoreDriver(Store(tmp_path / "hall.db", synchronous="OFF"), cfg or hall_config(tmp_path, **rating))
    d.at(MONDAY, 9, 0).login_all()
    card = RESIDENTS["zhang"]
    d.issue("a")
    d.ok("issue_ticket", service="b",
         person={"id_number": card.id_number, "name": card.name, "age": card.age(DAY)})
    d.issue("c")
    assert d.at(MONDAY, 9, 1).call("1") == "A001"
    assert d.at(MONDAY, 9, 2).call("2") == "B001"
    assert d.at(MONDAY, 9, 3).call("3") == "C001"
    d.at(MONDAY, 9, 6).ok("finish", window="1", case_no=CASE_1)
    d.at(MONDAY, 9, 6, 5).ok("rate", window="1", level="very_satisfied")
    d.at(MONDAY, 9, 12).ok("finish", window="2", case_no=f"  {CASE_2} ")
    d.at(MONDAY, 9, 12, 5).ok("rate", window="2", level="dissatisfied")
    d.at(MONDAY, 9, 13).ok("finish", window="3")
    d.at(MONDAY, 9, 14).ok("tick")  # C001's rating times out
    assert d.at(MONDAY, 9, 15).issue("a") == "A002"
    assert d.at(MONDAY, 9, 16).call("1") == "A002"
    d.at(MONDAY, 9, 20).ok("finish", window="1", case_no=CASE_1)
    d.at(MONDAY, 9, 20, 10).ok("rate", window="1", level="satisfied")
    return d


def add_reasons(db, number: str, reasons: list[str], text: str) -> None:
    """What the screen evaluator stores with a bad rating (`rate_reasons`, tested in
    tests/caller/hub/test_roster.py), written straight into its columns."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE tickets SET rating_reasons = ?, rating_text = ? WHERE number = ?",
                     (json.dumps(reasons, ensure_ascii=False), text, number))
    conn.close()


def load(db, cfg) -> list[record.RecordRow]:
    conn = open_readonly(db)
    try:
        return record.load_record(conn, DAY, DAY, cfg)
    finally:
        conn.close()


EXPECTED = [
    # 办件编号, 事项编码, 事项名称, 行政区划代码, 评价渠道, 渠道代码, 评价人, 评价时间, 评价次数,
    # 满意度, 满意度代码, 评价类型, 差评原因, 文字评价, 工作人员, 工号, 评价窗口, 排队号, 申诉状态
    [CASE_1, "11330106MB1234567X4000105410000", "户口迁移登记", "330106", "窗口评价器", "5", "匿名",
     "20261123T090605", 1, "非常满意", 1, "主动评价", "", "", "S1", "S1", "1号窗口", "A001", ""],
    [CASE_2, "000105410000", "乙业务", "330106", "窗口评价器", "5", mask_name(RESIDENTS["zhang"].name),
     "20261123T091205", 1, "不满意", 4, "主动评价", "效率低；多次跑腿", "等了很久", "S2", "S2",
     "2号窗口", "B001", ""],
    [CASE_1, "11330106MB1234567X4000105410000", "户口迁移登记", "330106", "窗口评价器", "5", "匿名",
     "20261123T092010", 2, "满意", 2, "主动评价", "", "", "S1", "S1", "1号窗口", "A002", ""],
]


def test_the_record_of_a_driven_day_field_by_field(tmp_path):
    d = driven_day(tmp_path)
    d.store.close()
    add_reasons(tmp_path / "hall.db", "B001", ["效率低", "多次跑腿"], "等了很久")
    rows = load(tmp_path / "hall.db", d.config)
    assert [r.as_cells() for r in rows] == EXPECTED  # C001, never rated, is not a rating

    record.save_record(rows, tmp_path / "r.csv")
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == list(record.HEADERS)
    assert table[1:] == [[str(v) for v in row] for row in EXPECTED]

    record.save_record(rows, tmp_path / "r.xlsx")
    ws = load_workbook(tmp_path / "r.xlsx")["好差评"]
    cells = [[("" if v is None else v) for v in r] for r in ws.iter_rows(values_only=True)]
    assert cells == [list(record.HEADERS), *EXPECTED]
    assert ws.freeze_panes == "A2"

    record.save_record(rows, tmp_path / "r.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [list(x) for x in lines] == [[key for key, _ in record.FIELDS]] * 3
    assert lines[1]["reasons"] == ["效率低", "多次跑腿"] and lines[1]["text"] == "等了很久"
    assert lines[1]["rated_at"] == "20261123T091205" and lines[1]["rater"] == EXPECTED[1][6]
    assert lines[2]["count"] == 2 and lines[2]["case_no"] == CASE_1


def test_a_database_without_the_evaluator_columns_exports_empty_reasons(tmp_path):
    d = driven_day(tmp_path)
    d.store.close()
    rows = load(tmp_path / "hall.db", d.config)
    assert [(r.reasons, r.text) for r in rows] == [((), "")] * 3


def test_the_reverse_level_order_and_a_channel_of_the_province(tmp_path):
    d = driven_day(tmp_path, code_order="dissatisfied_first", channel_name="政务大厅平板电脑",
                   channel_code="4")
    d.store.close()
    rows = load(tmp_path / "hall.db", d.config)
    assert [(r.level, r.level_code) for r in rows] == [("非常满意", 5), ("不满意", 2), ("满意", 4)]
    assert {(r.channel, r.channel_code) for r in rows} == {("政务大厅平板电脑", "4")}


def test_figures_count_defaults_apart_from_citizens_ratings(tmp_path):
    d = driven_day(tmp_path, unrated="default", default_level="basic", default_after_days=7)
    d.at("2026-11-30", 9, 0)
    d.engine.adopt(d.store.unrated_tickets(d.engine.default_cutoff(d.clock.now), 100))
    assert d.ok("apply_default_ratings")["defaulted"] == 1
    d.store.close()
    conn = open_readonly(tmp_path / "hall.db")
    rep = compute_report(conn, DAY, DAY, config=d.config)
    conn.close()
    s = rep.summary
    assert (s["served"], s["rated"], s["defaulted"], s["basic"]) == (4, 3, 1, 0)
    assert (s["rating_rate"], s["good_rate"], s["bad_rate"]) == (0.75, 0.6667, 0.3333)
    assert s["default_rate"] == 0.25
    rows = load(tmp_path / "hall.db", d.config)
    default = rows[-1]
    assert (default.number, default.kind, default.level, default.rated_at) == (
        "C001", "默认评价", "基本满意", "20261130T090000")


def test_a_case_number_is_checked_at_the_door_and_in_the_engine(tmp_path):
    def door(case_no):
        return protocol.parse_request({"type": "finish", "id": "1", "window": "1", "case_no": case_no})

    assert door("SL-2026/0001")["case_no"] == "SL-2026/0001"
    for bad in ("9" * 65, "SL\x00001", "SL\n0001", "SL\x1b[2J"):
        with pytest.raises(protocol.ProtocolError) as e:
            door(bad)
        assert e.value.code == "bad_request"

    d = StoreDriver(Store(tmp_path / "hall.db", synchronous="OFF"), hall_config(tmp_path))
    d.at(MONDAY, 9, 0).login_all()
    d.issue("a")
    d.call("1")
    for bad in ("9" * 65, "SL\u200b0001", "SL\u20280001"):  # too long; a zero-width space; a line separator
        assert d.error("finish", window="1", case_no=bad) == "bad_case_no"
    assert d.engine.windows["1"].current is not None  # nothing lost: still at the window
    assert d.ok("finish", window="1", case_no="")["ticket"].get("case_no") is None
    assert d.store.ticket(1).state == "done" and d.store.ticket(1).case_no is None
    d.issue("a")
    d.call("1")
    assert d.ok("finish", window="1", case_no="9" * 64)["ticket"]["case_no"] == "9" * 64
    d.store.close()
