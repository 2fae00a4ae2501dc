"""The hub's `web` role, the console's config keys and command line, its periods and charts."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from caller.core.client import HubClient
from caller.core.config import ConfigError, parse_config
from hallq.cli import main
from tests.caller.halls import raw
from tests.hubproc import DEMO_CONFIG
from web import charts, reports


@pytest.mark.e2e
def test_the_web_role_does_what_the_console_needs_and_no_more(hub_process):
    async def scenario() -> None:
        async with HubClient(hub_process.url, "web-1", "demo-web-1") as web, \
                HubClient(hub_process.url, "term-8", "demo-term-8") as term:
            assert web.welcome["role"] == "web"
            assert (await term.request("login", staff="1008"))["ok"]
            for kind, args in (("issue_ticket", {"service": "civil"}), ("call_next", {"window": "8"}),
                               ("rate", {"window": "8", "level": "satisfied"}),
                               ("login", {"window": "1", "staff": "x"})):
                reply = await web.request(kind, **args)
                assert reply["error"]["code"] == "forbidden", kind
            paused = await web.request("pause", window="8", reason="系统维护")
            assert paused["ok"], paused  # any window, though bound to none
            assert (await web.request("resume", window="8"))["ok"]
            for kind in ("snapshot", "list_alerts", "list_cases", "stats"):
                assert (await web.request(kind))["ok"], kind
            notice = await web.request("set_notice", text="今天下午系统维护")
            assert notice["text"] == "今天下午系统维护"
    asyncio.run(scenario())


def web_device(**keys) -> dict:
    return {"id": "web-1", "role": "web", "token": "t", **keys}


def test_the_console_thresholds_have_defaults_and_are_checked():
    cfg = parse_config(raw(devices=[web_device()]))
    assert cfg.devices["web-1"].options == {"serving_alert_min": 20, "wait_alert_min": 30,
                                            "idle_alert_waiting": 1}
    with pytest.raises(ConfigError) as e:
        parse_config(raw(devices=[web_device(serving_alert_min=0, wait_alert_min="30",
                                             colour="red")]))
    text = str(e.value)
    assert "devices[0] (id 'web-1').serving_alert_min: expected a whole number of 1 or more, got 0" in text
    assert "wait_alert_min: expected a whole number of 1 or more, got '30'" in text
    assert "devices[0] (id 'web-1').colour: unknown key" in text


def test_hallq_web_refuses_a_device_that_is_not_a_console(tmp_path, capsys):
    demo = ["web", "--config", str(DEMO_CONFIG)]
    assert main([*demo, "--device", "admin", "--db", str(tmp_path / "x.db")]) == 2
    assert "'admin' is not a web device" in capsys.readouterr().err
    assert main([*demo, "--host", "0.0.0.0", "--db", str(tmp_path / "x.db")]) == 2
    assert "demo hall" in capsys.readouterr().err
    assert main([*demo, "--db", str(tmp_path / "missing.db")]) == 2
    assert "没有找到大厅数据库" in capsys.readouterr().err


TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(("name", "first", "last", "expected"), [
    ("today", "", "", (TODAY, TODAY)),
    ("", "", "", (TODAY, TODAY)),
    ("week", "", "", (date(2026, 11, 23), TODAY)),
    ("month", "", "", (date(2026, 11, 1), TODAY)),
    ("custom", "2026-10-01", "2026-10-31", (date(2026, 10, 1), date(2026, 10, 31))),
    ("custom", "2026-10-01", "", (date(2026, 10, 1), date(2026, 10, 1))),
])
def test_periods(name, first, last, expected):
    p = reports.period(name, TODAY, first, last)
    assert (p.first, p.last) == expected


@pytest.mark.parametrize(("name", "first", "last", "message"), [
    ("custom", "2026-13-01", "", "日期格式"),
    ("custom", "", "", "日期格式"),
    ("custom", "2026-10-31", "2026-10-01", "不能早于"),
    ("custom", "2025-01-01", "2026-10-01", "366"),
    ("year", "", "", "未知的统计期间"),
])
def test_bad_periods_are_explained(name, first, last, message):
    with pytest.raises(reports.PeriodError, match=message):
        reports.period(name, TODAY, first, last)


def test_charts_escape_their_labels_and_say_when_empty():
    svg = charts.bars("各窗口", ["<script>x</script>", "2号窗口"], [("办结量", [3, None])], "件")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 1 and ">3<" in svg
    assert "本期无数据" in charts.bars("空", [], [("办结量", [])])


@pytest.mark.e2e
def test_a_console_whose_token_the_hub_refuses_says_so(hub_process, caplog):
    from caller.core.config import load_config
    from web.live import Hall

    async def scenario() -> dict:
        hall = Hall(load_config(DEMO_CONFIG), "web-1", hub_process.url, "not-the-token", None)
        await hall.start()
        try:
            for _ in range(100):
                if hall.client.fatal is not None and hall._refused:
                    break
                await asyncio.sleep(0.1)
            return hall.view()
        finally:
            await hall.stop()

    view = asyncio.run(scenario())
    assert view["refused"] and not view["connected"]
    assert "the hub refused the console's device 'web-1'" in caplog.text


@pytest.mark.e2e
def test_the_consoles_device_line_is_down_while_any_part_is(hub_process):
    """The kiosk's scanner coming back does not show its line up while the reader is down;
    a console started later reads the same from the alert history."""
    from caller.core.config import load_config
    from web.live import Hall

    async def scenario() -> list[bool | None]:
        config = load_config(DEMO_CONFIG)
        hall = Hall(config, "web-1", hub_process.url, "demo-web-1", hub_process.db)
        await hall.start()
        seen = []
        try:
            async with HubClient(hub_process.url, "kiosk-1", "demo-kiosk-1") as kiosk:
                async def report(kind: str, part: str | None = None) -> None:
                    where = {"part": part} if part else {}
                    assert (await kiosk.request("report_alert", kind=kind, message=kind, **where))["ok"]

                async def line_ok(printer: str) -> bool | None:
                    """The line as the console shows it once it has seen every alert so far
                    (the printer report sent last, in order after them)."""
                    await report(printer)
                    for _ in range(100):
                        if hall.devices["kiosk-1"].printer_ok is (printer == "printer_ok"):
                            break
                        await asyncio.sleep(0.1)
                    return hall.view()["devices"]["kiosk-1"]["line_ok"]

                await report("device_offline", "idcard")
                await report("device_offline", "scanner")
                await report("device_online", "scanner")
                seen.append(await line_ok("printer_fault"))
                await report("device_online", "idcard")
                seen.append(await line_ok("printer_ok"))
                await report("device_offline", "scanner")
                seen.append(await line_ok("printer_fault"))
        finally:
            await hall.stop()
        later = Hall(config, "web-1", hub_process.url, "demo-web-1", hub_process.db)
        later._load_hardware()
        seen.append(later.devices["kiosk-1"].line_ok)
        return seen

    assert asyncio.run(scenario()) == [False, True, False, False]


def test_the_hub_clock_rate_is_learnt_from_its_stamps(monkeypatch):
    from web import live

    real = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: real[0])
    rate = live.ClockRate()
    rate.follow("2026-11-23T09:00:00+08:00")
    real[0] += 2
    rate.follow("2026-11-23T09:01:00+08:00")
    assert rate.rate == 1.0  # too short a span to tell
    real[0] += 8
    rate.follow("2026-11-23T09:05:00+08:00")  # 300 hall seconds in 10 real ones
    assert rate.rate == 30.0
    real[0] += 10
    rate.follow("2026-11-23T10:00:00+08:00", restart=True)  # a new hub: start again
    real[0] += 10
    rate.follow("2026-11-23T10:00:10.2+08:00")
    assert rate.rate == 1.0  # a hall's real clock, network jitter aside
