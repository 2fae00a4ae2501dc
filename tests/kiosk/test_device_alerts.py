"""The real kiosk tells the hub about its ID-card reader only when it changes: nothing when
it starts fine, 身份证阅读器无响应 when it is pulled out, 身份证阅读器已恢复 when it is back."""

from __future__ import annotations

from tests.hubproc import HubProcess
from tests.kiosk.kioskproc import KioskProcess

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
