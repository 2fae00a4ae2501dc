"""The real kiosk program with the simulated ID-card reader on a pty, against a real hub:
swipe on the confirm screen, swipe again (the same ticket comes back and prints again),
an expired card."""

from __future__ import annotations

import time

from drivers.idcard.identities import RESIDENTS
from drivers.idcard.simulator import IdCardSimulator
from tests.caller.hub.test_real_name_e2e import real_name_hall
from tests.hubproc import HubProcess
from tests.kiosk.kioskproc import KioskProcess

STEPS = [
    "wait connected", "tap service:civil", "wait screen confirm", "shot confirm",
    "wait screen result", "shot swipe-result",
    "wait screen home", "tap service:civil", "wait screen confirm", "tap confirm",
    "wait screen result", "shot swipe-again",
    "wait screen refused", "wait text 身份证已过期", "shot card-expired",
]


def swipe_again(sim: IdCardSimulator, resident: str) -> None:
    sim.remove()
    time.sleep(0.6)  # a few polls see the reader empty: the next card is a new swipe
    sim.present(RESIDENTS[resident])


def test_swipes_at_the_kiosk(tmp_path) -> None:
    config = real_name_hall(tmp_path)
    with IdCardSimulator(tmp_path / "idcard") as sim:
        text = config.read_text(encoding="utf-8").replace(
            'token = "demo-kiosk-1"\n', f'token = "demo-kiosk-1"\nidcard = "{tmp_path / "idcard"}"\n', 1)
        config.write_text(text, encoding="utf-8")
        with HubProcess(config, tmp_path / "hall.db") as hub, \
                KioskProcess(tmp_path, hub.url, STEPS, config=config) as kiosk:
            kiosk.wait_for_shot("confirm")
            sim.present(RESIDENTS["zhang"])
            kiosk.wait_for_shot("swipe-result")
            swipe_again(sim, "zhang")
            kiosk.wait_for_shot("swipe-again")
            swipe_again(sim, "chen")
            run = kiosk.finish()
    first, again = run.run["replies"]
    assert first["ok"] and first["real_name"] and not first.get("existing")
    assert again["existing"] and again["ticket"]["number"] == first["ticket"]["number"]
    assert "holder" not in first["ticket"]
    assert run.run["shots"] and "身份证已过期" in repr(run.shot("card-expired"))
