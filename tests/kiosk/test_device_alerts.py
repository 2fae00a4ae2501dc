"""The real kiosk tells the hub about its ID-card reader only when it changes: nothing when
it starts fine, 身份证阅读器无响应 when it is pulled out, 身份证阅读器已恢复 when it is back.
Each part's recovery closes its own fault only: the scanner plugged in leaves the
reader's fault open on the manager's list."""

from __future__ import annotations

import asyncio
import os
import time
import tty

from caller.core.client import HubClient
from tests.hubproc import HubProcess
from tests.kiosk.kioskproc import KioskProcess, kiosk_reader

STEPS = ["wait connected", "sleep 1", "shot started", "wait alerted device_offline",
         "shot unplugged", "wait alerted device_online", "shot back"]


def test_reader_alerts_are_sent_on_changes_only(tmp_path, reader_hall) -> None:
    config, sim = reader_hall
    with HubProcess(config, tmp_path / "hall.db") as hub, \
            KioskProcess(tmp_path, hub.url, STEPS, config=config) as kiosk:
        kiosk.wait_for_shot("started")
        sim.unplug()
        kiosk.wait_for_shot("unplugged")
        sim.replug()
        run = kiosk.finish()
    sent = [(a["kind"], a["message"]) for a in run.run["alerts"]]
    assert sent == [("device_offline", "身份证阅读器无响应"), ("device_online", "身份证阅读器已恢复")]


async def open_alerts(url: str) -> list[tuple[str, str, str | None]]:
    async with HubClient(url, "admin", "demo-admin") as admin:
        reply = await admin.request("list_alerts")
    return [(a["kind"], a["device"], a["part"]) for a in reply["alerts"]]


def wait_for_alerts(url: str, wanted: list, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    seen = asyncio.run(open_alerts(url))
    while seen != wanted and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = asyncio.run(open_alerts(url))
    assert seen == wanted


def test_the_scanner_coming_back_leaves_the_readers_fault_open(tmp_path, reader_hall) -> None:
    config, sim = reader_hall
    scanner = tmp_path / "scanner"  # nothing there yet: the scanner is down from the start
    kiosk_reader(config, f'scanner = "{scanner}"')
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        with HubProcess(config, tmp_path / "hall.db") as hub, \
                KioskProcess(tmp_path, hub.url, ["wait connected", "wait alerted device_offline",
                                                 "wait alerted device_online", "shot back"],
                             config=config) as kiosk:
            wait_for_alerts(hub.url, [("device_offline", "kiosk-1", "scanner")])
            sim.unplug()
            wait_for_alerts(hub.url, [("device_offline", "kiosk-1", "scanner"),
                                      ("device_offline", "kiosk-1", "idcard")])
            scanner.symlink_to(os.ttyname(slave))
            kiosk.wait_for_shot("back")
            wait_for_alerts(hub.url, [("device_offline", "kiosk-1", "idcard")])
            run = kiosk.finish()
    finally:
        os.close(master)
        os.close(slave)
    assert [a["kind"] for a in run.run["alerts"]] == ["device_offline", "device_offline", "device_online"]
