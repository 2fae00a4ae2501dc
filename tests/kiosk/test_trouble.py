"""When the printer or the hub lets the kiosk down, the citizen still knows where they
stand, the staff are told, and the kiosk never pretends to issue numbers."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from caller.core.client import HubClient
from caller.core.config import load_config
from drivers.printer.simulator import NetworkPrinterSimulator
from tests.hubproc import DEMO_CONFIG, MONDAY_9AM, HubProcess
from tests.kiosk.kioskproc import (
    LANDSCAPE,
    PORTRAIT,
    TABLET,
    WAIT_S,
    KioskProcess,
    config_with,
    shown,
    widget,
)

pytestmark = [pytest.mark.gui, pytest.mark.e2e]
CFG = load_config(DEMO_CONFIG)
OFFLINE_BANNER = "与服务器的连接已断开，正在重连… 暂停取号"


def admin_watching(hub_url: str, tmp_path: Path, steps: list[str], until: set[str],
                   operator: Callable[[KioskProcess], None] | None = None,
                   **kwargs: object) -> tuple[list[dict], KioskProcess]:
    """Start an admin client, then the kiosk (and an `operator` thread acting on the hall
    while it runs); return the alerts the admin saw once some message holds each of
    `until`, and the kiosk process (still to be finished)."""
    box: dict = {}

    async def watch() -> None:
        async with HubClient(hub_url, "admin", CFG.devices["admin"].token) as admin:
            box["kiosk"] = KioskProcess(tmp_path, hub_url, steps, **kwargs)
            if operator is not None:
                def act() -> None:
                    try:
                        operator(box["kiosk"])
                    except BaseException as exc:  # shown by the test, not lost in the thread
                        box["operator_error"] = exc
                box["operator"] = threading.Thread(target=act)
                box["operator"].start()
            seen = box["alerts"] = []
            async for event in admin.events():
                if event["event"] == "alert":
                    seen.append(event)
                    if all(any(word in a["message"] for a in seen) for word in until):
                        return

    try:
        asyncio.run(asyncio.wait_for(watch(), WAIT_S))
    except BaseException:
        if "kiosk" in box:
            box["kiosk"].stop()
        raise
    finally:
        if "operator" in box:
            box["operator"].join(WAIT_S)
        if "operator_error" in box:
            raise box["operator_error"]
    return box["alerts"], box["kiosk"]


def test_printer_failing_mid_ticket_shows_the_number_and_tells_the_hub(hub_process, tmp_path):
    printer = tmp_path / "tickets"
    alerts, kiosk = admin_watching(hub_process.url, tmp_path, [
        "wait connected", "tap service:civil", "tap confirm", "wait printed 1",
        "shot result-failed", "wait alerted printer_fault",
    ], {"A001"}, size=TABLET, printer=f"image://{printer}?fail_after=2000")
    run = kiosk.finish()

    result = run.shot("result-failed")
    assert widget(result, "number")["text"] == "A001"  # still a valid number, on screen, large
    assert widget(result, "qr")["qr_data"] == "hallq:ticket:2026-11-23:A001"
    assert widget(result, "print_status")["text"] == (
        "小票打印失败，请凭屏幕号码等候\n请拍照或记下您的号码，留意叫号")
    seconds = int(re.fullmatch(r"(\d+) 秒后返回首页", widget(result, "countdown")["text"])[1])
    assert seconds > 30  # longer than usual, to photograph the screen
    assert "image://" not in widget(result, "printer_status")["text"]  # no driver detail shown
    # The cable "dropped" after 2000 bytes: a partial job, no finished ticket.
    assert [p.name for p in printer.iterdir()] == ["0001-A001.partial.bin"]
    assert (printer / "0001-A001.partial.bin").stat().st_size == 2000

    failed = [a for a in alerts if "A001" in a["message"]]
    assert failed[0]["kind"] == "printer_fault" and failed[0]["device"] == "kiosk-1"
    assert failed[0]["message"] == ("取号机 kiosk-1：A001 号小票未打印（小票打印失败，请凭屏幕号码等候），"
                                    "号码已显示在屏幕上")


def test_printer_out_of_paper_shows_in_the_corner_and_the_number_on_screen(hub_process, tmp_path):
    printer = tmp_path / "tickets"
    alerts, kiosk = admin_watching(hub_process.url, tmp_path, [
        "wait connected", "wait printer out", "shot home-paper-out",
        "tap service:family", "tap confirm", "wait printed 1", "shot result-paper-out",
    ], {"缺纸，请更换纸卷", "C001"}, size=PORTRAIT, printer=f"image://{printer}?paper=out")
    run = kiosk.finish()

    home = run.shot("home-paper-out")
    assert widget(home, "printer_status")["text"] == "打印机缺纸，请更换纸卷"
    assert not widget(home, "service:family")["disabled"]  # numbers are still given out
    result = run.shot("result-paper-out")
    assert widget(result, "number")["text"] == "C001"
    assert widget(result, "print_status")["text"].startswith("打印机缺纸，请凭屏幕号码等候")
    seconds = int(re.fullmatch(r"(\d+) 秒后返回首页", widget(result, "countdown")["text"])[1])
    assert seconds > 30
    assert shown(result, "qr")
    assert list(printer.glob("*.bin")) == []  # nothing was sent to a printer without paper

    kinds = {(a["kind"], a["message"]) for a in alerts}
    assert ("printer_fault", "取号机 kiosk-1：打印机缺纸，请更换纸卷") in kinds
    assert any(kind == "printer_fault" and "C001" in message for kind, message in kinds)


@pytest.mark.slow
def test_network_printer_running_out_and_reloaded_is_reported_both_ways(hub_process, tmp_path):
    with NetworkPrinterSimulator(out_dir=tmp_path / "paper") as simulator:
        def staff(kiosk: KioskProcess) -> None:
            kiosk.wait_for_shot("printer-ok")
            simulator.set_paper("out")
            kiosk.wait_for_shot("printer-out")
            simulator.set_paper("ok")  # a new roll

        alerts, kiosk = admin_watching(hub_process.url, tmp_path, [
            "wait connected", "wait printer ok", "shot printer-ok",
            "wait printer out", "shot printer-out",
            "wait printer ok", "wait alerted printer_ok", "shot printer-back",
        ], {"缺纸", "打印机正常"}, operator=staff, size=LANDSCAPE, printer=simulator.url)
        run = kiosk.finish()

    assert widget(run.shot("printer-ok"), "printer_status")["text"] == "打印机正常"
    assert widget(run.shot("printer-out"), "printer_status")["text"] == "打印机缺纸，请更换纸卷"
    assert widget(run.shot("printer-back"), "printer_status")["text"] == "打印机正常"
    assert [(a["kind"], a["message"]) for a in alerts] == [
        ("printer_fault", "取号机 kiosk-1：打印机缺纸，请更换纸卷"),
        ("printer_ok", "取号机 kiosk-1：打印机正常"),
    ]


def test_hub_going_away_stops_issuing_and_coming_back_resumes(tmp_path):
    # The hall opens at 08:30: at 08:00 every service is shown closed, with the hub's reason.
    # This hall groups two services under 民政, so the kiosk shows department headings.
    config = config_with(tmp_path, 'department = "卫健"', 'department = "民政"')
    hub = HubProcess(config, tmp_path / "hall.db", start_time="2026-11-23T08:00:00+08:00")
    hub.start()
    try:
        kiosk = KioskProcess(tmp_path, hub.url, [
            "wait connected", "shot closed",
            "wait offline", "shot offline",
            "wait connected", "wait enabled service:civil", "shot back",
            "tap service:civil", "tap confirm", "wait printed 1", "shot result",
        ], size=LANDSCAPE, printer=f"image://{tmp_path / 'tickets'}", config=config)
        with kiosk:
            closed = kiosk.wait_for_shot("closed")
            # SIGKILL, like a power cut: a graceful stop waits for every client to leave.
            hub.kill()
            offline = kiosk.wait_for_shot("offline")
            port = hub.port
            hub.port, hub.start_time = port, MONDAY_9AM  # back on the same port, now open
            hub.start()
            run = kiosk.finish()
    finally:
        hub.stop()

    assert widget(closed, "connection")["text"] == "服务器已连接" and not shown(closed, "connection_banner")
    for service in CFG.services.values():
        assert widget(closed, f"service:{service.id}")["disabled"]
    assert widget(closed, "service:civil:status")["text"] == (
        "民政救济的办理时间为 08:30-11:30、14:30-17:30，现在不能取号")
    assert widget(closed, "department:民政")["shown"] and "department:卫健" not in closed["widgets"]

    assert widget(offline, "connection_banner")["text"] == OFFLINE_BANNER
    assert OFFLINE_BANNER in offline["texts"]
    assert widget(offline, "connection")["text"] == "服务器未连接"
    assert all(widget(offline, f"service:{s}")["disabled"] for s in CFG.services)
    assert widget(offline, "priority_entry")["disabled"]

    back = run.shot("back")
    assert not shown(back, "connection_banner") and OFFLINE_BANNER not in back["texts"]
    assert widget(back, "connection")["text"] == "服务器已连接"
    assert all(not widget(back, f"service:{s}")["disabled"] for s in CFG.services)
    assert widget(run.shot("result"), "number")["text"] == "A001"
