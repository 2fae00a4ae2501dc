"""`hallq web --central`: the city console in a real Chromium, over a real PostgreSQL of its
own (stopped and started again in one test), with real `hallq web` processes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from openpyxl import load_workbook

from caller.central import schema
from hallq.harness.postgres import Postgres
from hallq.harness.web import WebProcess
from tests.central.halls import OTHER_CITY, THREE_HALLS, make_store, ship_copy
from tests.hubproc import DEMO_CONFIG, REPO
from tests.web.conftest import browser  # noqa: F401 - the shared headless Chromium
from tests.web.helpers import PASSWORDS, USERS

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Shanghai")
SCREENSHOT = REPO / "docs" / "images" / "city-console.png"
# today's figures per hall: (issued, waiting, served, rated, satisfied, bad)
TODAY = {"qingshan": (132, 14, 110, 96, 93, 2), "baiyun": (87, 6, 75, 60, 59, 0),
         "xiling": (240, 31, 196, 170, 161, 4), "donghu": (55, 2, 50, 41, 41, 0)}


def _event(conn, hall: str, seq: int, at: datetime, name: str, body: dict) -> None:
    conn.execute("INSERT INTO events VALUES (%s, %s, %s, %s, 'test', %s)",
                 (hall, seq, at, name, json.dumps({"event": name, **body})))


def today_in_the_halls(dsn: str) -> None:
    """Today's figures, window logins (one window paused, one logged out) and alerts."""
    now = datetime.now(UTC)
    day = now.astimezone(TZ).date()
    morning = datetime(day.year, day.month, day.day, 0, 1, tzinfo=TZ)
    with psycopg.connect(dsn) as conn:
        schema.ensure_partitions(conn, {schema.month_of(now), schema.month_of(morning)})
        for hall, (issued, waiting, served, rated, satisfied, bad) in TODAY.items():
            conn.execute("INSERT INTO hall_days VALUES (%s, %s, %s, %s, %s, 0, 0, 0, 0, 0, %s, %s, "
                         "%s, 0, 0)", (hall, day, issued, waiting, served, rated, satisfied, bad))
            seq = 10_000
            for window in ("1", "2", "3"):
                seq += 1
                _event(conn, hall, seq, morning, "window_login", {"window": window, "paused": False})
        # qingshan: window 2 paused, window 3 logged out again; an alert 20 minutes ago
        _event(conn, "qingshan", 10_010, morning + timedelta(hours=1), "window_paused", {"window": "2"})
        _event(conn, "qingshan", 10_011, morning + timedelta(hours=1), "window_logout", {"window": "3"})
        _event(conn, "qingshan", 10_012, now - timedelta(minutes=20), "alert", {"kind": "bad_rating"})
        _event(conn, "baiyun", 10_010, now - timedelta(hours=3), "alert", {"kind": "bad_rating"})
        conn.execute("UPDATE halls SET last_seen = now()")
        conn.execute("UPDATE halls SET last_seen = now() - interval '10 minutes' WHERE hall_id = 'xiling'")


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("city")
    with Postgres() as pg:
        with psycopg.connect(pg.dsn) as conn:
            schema.migrate(conn)
        for hall_id, name, region, kind in (*THREE_HALLS, OTHER_CITY):
            make_store(tmp / f"{hall_id}.db", kind)
            ship_copy(pg.dsn, hall_id, name, region, tmp / f"{hall_id}.db")
        today_in_the_halls(pg.dsn)
        dsn_file = tmp / "central.dsn"
        dsn_file.write_text(pg.dsn + "\n", encoding="utf-8")
        os.chmod(dsn_file, 0o600)
        yield pg, dsn_file, tmp


def add_user(db: Path, dsn_file: Path, role: str) -> None:
    """`hallq web --central FILE user add`: the console's own accounts file, made if new."""
    done = subprocess.run([sys.executable, "-m", "hallq", "web", "--central", str(dsn_file),
                           "user", "add", USERS[role], "--role", role, "--db", str(db)],
                          input=PASSWORDS[role] + "\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def city(centre):
    _, dsn_file, tmp = centre
    db = tmp / "city.db"
    add_user(db, dsn_file, "viewer")
    assert oct(db.stat().st_mode & 0o777) == "0o600"  # it holds the password hashes
    with WebProcess(DEMO_CONFIG, db, "ws://127.0.0.1:9/", extra=["--central", str(dsn_file)]) as web:
        yield web


def signed_in(browser, web: WebProcess, role: str = "viewer"):  # noqa: F811
    context = browser.new_context(viewport={"width": 1360, "height": 760}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(web.url)
    page.fill("input[name=name]", USERS[role])
    page.fill("input[name=password]", PASSWORDS[role])
    page.click("button[type=submit]")
    page.wait_for_url(web.url)
    page.wait_for_function("() => window.hallq && window.hallq.updates > 0")
    return page


def row(page, hall: str) -> list[str]:
    return [c.strip() for c in page.locator(f'#halls tr[data-hall="{hall}"] td').all_inner_texts()]


def test_every_halls_live_state_and_its_changes_within_seconds(browser, city, centre):  # noqa: F811
    pg = centre[0]
    page = signed_in(browser, city)
    assert row(page, "qingshan") == ["青山镇便民服务中心", "乡镇（街道）级", "330106001000", "14", "1", "132",
                                     "110", "96.9%", "1", "正常"]
    assert row(page, "baiyun")[4] == "3" and row(page, "baiyun")[8] == "0"  # its alert is old
    assert row(page, "xiling")[-1] == "10 分钟未收到数据"
    assert page.locator('#halls tr[data-hall="xiling"]').get_attribute("class") == "amber"
    assert page.locator('#halls tr[data-hall="qingshan"]').get_attribute("class") == "over"
    assert page.locator('#totals b[data-k="halls"]').inner_text() == "4"
    assert page.locator('#totals b[data-k="waiting"]').inner_text() == str(14 + 6 + 31 + 2)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    with psycopg.connect(pg.dsn) as conn:  # what the shippers write next
        conn.execute("UPDATE hall_days SET waiting = 20, issued = 140 WHERE hall_id = 'baiyun' "
                     "AND day = (now() AT TIME ZONE 'Asia/Shanghai')::date")
        _event(conn, "baiyun", 10_020, datetime.now(UTC), "alert", {"kind": "printer_fault"})
    page.wait_for_function("""() => {
        const r = document.querySelector('#halls tr[data-hall="baiyun"]');
        return r && r.cells[3].textContent === "20" && r.cells[8].textContent === "1"; }""",
                           timeout=10_000)
    assert row(page, "baiyun")[5] == "140"
    page.context.close()


def test_the_page_says_when_the_centre_is_away_and_recovers(browser, city, centre):  # noqa: F811
    pg = centre[0]
    page = signed_in(browser, city)
    assert page.locator("#centraldown").is_hidden()
    pg.stop()
    try:
        page.wait_for_selector("#centraldown", state="visible", timeout=15_000)
        assert "无法读取中心数据库" in page.locator("#centraldown").inner_text()
        assert row(page, "qingshan")[3] == "14"  # the last figures stay on the page
    finally:
        pg.start()
    page.wait_for_selector("#centraldown", state="hidden", timeout=15_000)
    page.context.close()


def test_the_central_reports_on_the_page_and_to_download(browser, city):  # noqa: F811
    page = signed_in(browser, city)
    page.goto(city.url + "reports?range=custom&from=2026-11-23&to=2026-11-24&region=3301")
    ranking = page.locator("#ranking tbody tr").all_inner_texts()
    assert len(ranking) == 3 and ranking[0].startswith("第1名") and "流动红旗" in ranking[0]
    assert "东湖" not in " ".join(ranking)  # 330203: another city
    with page.expect_download() as download:
        page.click("#dl-xlsx")
    wb = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert [r[0] for r in wb["按大厅"].iter_rows(min_row=2, values_only=True)] == [
        "青山镇便民服务中心", "白云街道便民服务中心", "西岭县政务服务中心"]
    with page.expect_download() as download:
        page.click("#dl-haocha-csv")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("办件编号") and len(lines) > 10
    region = lines[0].split(",").index("行政区划代码")
    assert {line.split(",")[region] for line in lines[1:]} == {"330106001000", "330106002000", "330127"}
    page.goto(city.url + "reports?range=custom&from=2026-11-23&to=2026-11-24&region=33x")
    assert "行政区划代码应为 2 到 12 位数字" in page.locator("#error").inner_text()
    page.context.close()


def test_a_county_console_sees_its_county_only(browser, centre):  # noqa: F811
    _, dsn_file, tmp = centre
    db = tmp / "county.db"
    add_user(db, dsn_file, "viewer")
    with WebProcess(DEMO_CONFIG, db, "ws://127.0.0.1:9/",
                    extra=["--central", str(dsn_file), "--region", "330106"]) as web:
        page = signed_in(browser, web)
        assert page.locator("#halls tr").count() == 2
        state = page.request.get(web.url + "api/state").json()
        assert {h["id"] for h in state["halls"]} == {"qingshan", "baiyun"}
        page.goto(web.url + "reports?range=custom&from=2026-11-23&to=2026-11-24&region=3301")
        assert "只能查看本平台辖区（330106）内的大厅" in page.locator("#error").inner_text()
        page.goto(web.url + "reports?range=custom&from=2026-11-23&to=2026-11-24&hall=xiling")
        assert "no hall xiling in region 330106" in page.locator("#error").inner_text()
        page.context.close()


def test_only_signed_in_accounts_see_anything(browser, city):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    assert page.request.get(city.url + "api/state").status == 401
    assert page.request.get(city.url + "events").status == 401
    page.goto(city.url + "reports")
    assert "/login" in page.url
    context.close()
    page = signed_in(browser, city, "viewer")
    page.goto(city.url + "users")
    assert "无权" in page.content()
    page.context.close()


@pytest.mark.parametrize(("args", "message"), [
    (["--region", "3301"], "--region needs --central"),
    (["--central", "/nonexistent/central.dsn"], "no such file"),
])
def test_the_city_console_refuses_bad_options(tmp_path, args, message):
    done = subprocess.run([sys.executable, "-m", "hallq", "web", "--db", str(tmp_path / "c.db"),
                           "--port", "0", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr


def test_a_dsn_file_others_may_read_is_refused(tmp_path):
    loose = tmp_path / "central.dsn"
    loose.write_text("host=/tmp dbname=central\n", encoding="utf-8")
    os.chmod(loose, 0o644)
    done = subprocess.run([sys.executable, "-m", "hallq", "web", "--central", str(loose), "--db",
                           str(tmp_path / "c.db"), "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "readable by others (mode 0644)" in done.stderr
