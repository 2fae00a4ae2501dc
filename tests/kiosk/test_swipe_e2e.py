"""The real kiosk program with the simulated ID-card reader on a pty, against a real hub:
swipe on the confirm screen, swipe again (the same ticket comes back and prints again),
an expired card."""

from __future__ import annotations

from drivers.idcard.identities import RESIDENTS
from drivers.idcard.simulator import HttpReaderSimulator
from tests.caller.hub.test_real_name_e2e import real_name_hall
from tests.hubproc import HubProcess
from tests.kiosk.kioskproc import KioskProcess, kiosk_reader

STEPS = [
    "wait connected", "tap service:civil", "wait screen confirm", "shot confirm",
    "wait screen result", "shot swipe-result",
    "wait screen home", "tap service:civil", "wait screen confirm", "tap confirm",
    "wait screen result", "shot swipe-again",
    "wait screen refused", "wait text 身份证已过期", "shot card-expired",
]


def test_swipes_at_the_kiosk(tmp_path, reader_hall) -> None:
    config, sim = reader_hall
    with HubProcess(config, tmp_path / "hall.db") as hub, \
            KioskProcess(tmp_path, hub.url, STEPS, config=config) as kiosk:
        kiosk.wait_for_shot("confirm")
        sim.present(RESIDENTS["zhang"])
        kiosk.wait_for_shot("swipe-result")
        sim.swipe(RESIDENTS["zhang"])
        kiosk.wait_for_shot("swipe-again")
        sim.swipe(RESIDENTS["chen"])
        run = kiosk.finish()
    first, again = run.run["replies"]
    assert first["ok"] and first["real_name"] and not first.get("existing")
    assert again["existing"] and again["ticket"]["number"] == first["ticket"]["number"]
    assert "holder" not in first["ticket"]
    assert run.run["shots"] and "身份证已过期" in repr(run.shot("card-expired"))


WANG = RESIDENTS["wang"].id_number
WRONG_CHECK = WANG[:17] + ("5" if WANG[17] != "5" else "6")

WEDGE_STEPS = [
    "wait connected", "tap service:civil", "wait screen confirm",
    f"keys {WANG}", "wait screen result", "shot wedge-result", "tap done", "wait screen home",
    "tap service:civil", "wait screen confirm", f"keys {WRONG_CHECK}", "wait screen refused",
    "shot wedge-bad-number", "tap home", "wait screen home",
    "keys NOT-AN-ID-12345", "wait screen refused", "shot wedge-junk", "tap home",
    "wait screen home", "keys " + "9" * 10_000, "wait screen refused", "shot wedge-long",
    "tap home", "wait screen home", "tap service:civil", "wait screen confirm", "shot still-works",
]


def test_a_keyboard_output_reader_types_the_number_at_the_kiosk(tmp_path) -> None:
    """The reader types the ID number and Enter like a keyboard: a ticket for that person
    (the green channel from the birth date in the number); a wrong check character, junk
    and a 10 KB line each get their screen, and the kiosk goes on."""
    config = real_name_hall(tmp_path)
    kiosk_reader(config, 'idcard_backend = "keyboard"')
    with HubProcess(config, tmp_path / "hall.db") as hub, \
            KioskProcess(tmp_path, hub.url, WEDGE_STEPS, config=config) as kiosk:
        run = kiosk.finish()
    (reply,) = run.run["replies"]
    assert reply["ok"] and reply["real_name"] and reply["ticket"]["priority"] == "priority"
    assert "身份证信息校验不通过" in repr(run.shot("wedge-bad-number"))
    assert "无法识别" in repr(run.shot("wedge-junk")) and "无法识别" in repr(run.shot("wedge-long"))
    assert run.run["alerts"] == []  # a keyboard is never "offline"


HTTP_STEPS = [
    "wait connected", "tap service:civil", "wait screen confirm", "shot confirm",
    "wait screen result", "shot http-result", "tap done", "wait screen home", "shot garbage",
    "wait alerted device_offline", "shot back", "wait alerted device_online",
    "tap service:civil", "wait screen confirm", "shot still-works",
]


def test_a_vendor_reader_service_at_the_kiosk(tmp_path) -> None:
    """The kiosk reads cards from a vendor's local HTTP service; a service answering
    garbage is reported down to the hall (once) and back up when it recovers."""
    config = real_name_hall(tmp_path)
    with HttpReaderSimulator() as service:
        kiosk_reader(config, f'idcard_backend = "http"\nidcard = "{service.url}"')
        with HubProcess(config, tmp_path / "hall.db") as hub, \
                KioskProcess(tmp_path, hub.url, HTTP_STEPS, config=config) as kiosk:
            kiosk.wait_for_shot("confirm")
            service.present(RESIDENTS["zhang"])
            kiosk.wait_for_shot("garbage")
            service.set_mode("garbage")
            kiosk.wait_for_shot("back")
            service.set_mode("normal")
            run = kiosk.finish()
    (reply,) = run.run["replies"]
    assert reply["ok"] and reply["real_name"]
    assert [a["kind"] for a in run.run["alerts"]] == ["device_offline", "device_online"]
