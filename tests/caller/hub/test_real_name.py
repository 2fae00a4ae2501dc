"""Real-name tickets in the hub: ID required, one live ticket per person, the age-based
green channel, personal fields by role, the keyed hash, and erasure after retention."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from caller.core import protocol
from caller.core.config import ConfigError, parse_config
from caller.core.personal import SecretError, mask_name, new_secret, person_key, read_secret
from caller.hub.store import Store
from drivers.idcard.identities import RESIDENTS
from hallq.cli import main
from tests.caller.halls import Driver, raw

SERVICES = [
    {"id": "a", "name": "户籍业务", "prefix": "A", "id_required": True,
     "one_live_ticket_per_person": True, "green_channel_age": 70},
    {"id": "b", "name": "乙业务", "prefix": "B"},
    {"id": "c", "name": "丙业务", "prefix": "C"},
]
TODAY = date(2026, 11, 23)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "hall.secret"
    new_secret(path)
    return path


def hall(secret_file: Path, **personal) -> Driver:
    cfg = parse_config(raw(services=SERVICES, personal={"secret_file": secret_file.name, **personal}),
                       base=secret_file.parent)
    driver = Driver(cfg)
    driver.login_all()
    return driver


def swipe(resident: str) -> dict:
    card = RESIDENTS[resident]
    return {"id_number": card.id_number, "name": card.name, "age": card.age(TODAY)}


def test_id_required_refuses_a_ticket_without_a_card(secret_file) -> None:
    d = hall(secret_file)
    reply = d("issue_ticket", service="a")
    assert reply["error"]["code"] == "id_required"
    assert "身份证" in reply["error"]["message"]
    assert d.issue("b") == "B001"  # other services are not real-name


def test_a_second_swipe_gives_back_the_live_ticket(secret_file) -> None:
    d = hall(secret_file)
    first = d.ok("issue_ticket", service="a", person=swipe("zhang"))
    second = d.ok("issue_ticket", service="a", person=swipe("zhang"))
    assert second["existing"] and second["ticket"]["number"] == first["ticket"]["number"] == "A001"
    assert d.ok("issue_ticket", service="a", person=swipe("li"))["ticket"]["number"] == "A002"
    d.call("1")
    d.ok("finish", window="1")
    # served: the next swipe is a new visit
    assert d.ok("issue_ticket", service="a", person=swipe("zhang"))["ticket"]["number"] == "A003"


def test_elderly_go_to_the_green_channel_and_are_called_first(secret_file) -> None:
    d = hall(secret_file)
    d.ok("issue_ticket", service="a", person=swipe("zhang"))
    elderly = d.ok("issue_ticket", service="a", person=swipe("wang"))
    assert elderly["green_channel"] and elderly["ticket"]["priority"] == "priority"
    assert d.call("1") == elderly["ticket"]["number"]


def test_a_wrong_check_digit_is_refused(secret_file) -> None:
    d = hall(secret_file)
    person = swipe("zhang")
    person["id_number"] = person["id_number"][:17] + ("0" if person["id_number"][17] != "0" else "1")
    assert d.error("issue_ticket", service="a", person=person) == "bad_id_number"
    assert d.error("issue_ticket", service="a", person={"id_number": 5}) == "bad_request"


def test_the_kiosk_reply_carries_no_personal_data(secret_file) -> None:
    d = hall(secret_file)
    reply = d.ok("issue_ticket", service="a", person=swipe("zhang"))
    text = repr(reply)
    assert "holder" not in text and "张" not in text and RESIDENTS["zhang"].id_number[-4:] not in text


def test_the_hub_keeps_a_keyed_hash_the_last_four_and_the_masked_name(secret_file) -> None:
    d = hall(secret_file)
    d.ok("issue_ticket", service="a", person=swipe("zhang"))
    ticket = next(iter(d.engine.tickets.values()))
    card = RESIDENTS["zhang"]
    assert ticket.person_key == person_key(read_secret(secret_file), card.id_number)
    assert (ticket.holder_name, ticket.id_last4) == ("张*", card.id_number[-4:])
    assert card.id_number not in repr(d.engine.dump())


def test_events_show_the_holder_to_the_serving_window_and_admins_only(secret_file) -> None:
    d = hall(secret_file)
    d.ok("issue_ticket", service="a", person=swipe("wang"))
    d.call("1")
    called = next(e for e in d.events if e["event"] == "ticket_called")
    holder = called["ticket"]["holder"]
    assert holder["name"] == "王*国" and holder["last4"] == RESIDENTS["wang"].id_number[-4:]
    assert protocol.shown(called, ("admin", ()))["ticket"]["holder"] == holder
    assert protocol.shown(called, ("window", ("1",)))["ticket"]["holder"] == holder
    for audience in (("window", ("2",)), ("display", ()), ("kiosk", ())):
        assert "holder" not in protocol.shown(called, audience)["ticket"], audience
    snapshot = protocol.shown({"snapshot": d.engine.snapshot(d.clock.now)}, ("kiosk", ()))
    assert "王" not in repr(snapshot)


def test_walls_show_masked_names_only_when_the_hall_enables_it(secret_file) -> None:
    d = hall(secret_file, wall_names=True)
    d.ok("issue_ticket", service="a", person=swipe("wang"))
    d.call("1")
    called = next(e for e in d.events if e["event"] == "ticket_called")
    assert protocol.shown(called, ("display", ()))["ticket"]["holder"] == {"name": "王*国"}
    assert "holder" not in protocol.shown(called, ("kiosk", ()))["ticket"]


def test_events_without_holders_are_passed_through_unchanged() -> None:
    event = {"event": "ticket_called", "ticket": {"number": "A001", "window": "1"}}
    assert protocol.shown(event, ("display", ())) is event


def test_mask_name() -> None:
    assert [mask_name(n) for n in ("张三丰", "张三", "欧阳娜娜", "李")] == ["张*丰", "张*", "欧**娜", "李"]


def test_the_secret_file_must_be_private(tmp_path) -> None:
    path = tmp_path / "s"
    new_secret(path)
    assert len(read_secret(path)) == 32
    os.chmod(path, 0o644)
    with pytest.raises(SecretError, match="mode 0644"):
        read_secret(path)
    with pytest.raises(FileExistsError):
        new_secret(path)  # never replaces a secret: every person key would change


def test_hallq_secret_new_writes_a_private_secret_once(tmp_path, capsys) -> None:
    path = tmp_path / "hall.secret"
    assert main(["secret", "new", str(path)]) == 0
    assert path.stat().st_mode & 0o777 == 0o600 and len(read_secret(path)) == 32
    assert main(["secret", "new", str(path)]) == 2
    assert "not replacing it" in capsys.readouterr().err


def test_config_names_the_secret_file_problem(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"personal.secret_file: missing; services a take ID cards"):
        parse_config(raw(services=SERVICES))
    (tmp_path / "weak").write_text("00" * 32)
    os.chmod(tmp_path / "weak", 0o644)
    with pytest.raises(ConfigError, match=r"personal.secret_file: .*mode 0644"):
        parse_config(raw(services=SERVICES, personal={"secret_file": "weak"}), base=tmp_path)
    with pytest.raises(ConfigError, match=r"green_channel_age: expected an age"):
        parse_config(raw(services=[{**SERVICES[1], "green_channel_age": 0}]))
    # a kiosk's machine has no secret: only the hub reads it
    cfg = parse_config(raw(services=SERVICES, personal={"secret_file": "nowhere"}), base=tmp_path,
                       device="eval")
    assert cfg.personal.secret is None


def test_store_keeps_holders_and_erases_them_after_retention(secret_file, tmp_path) -> None:
    d = hall(secret_file)
    store = Store(tmp_path / "hall.db")
    try:
        reply, events = d.engine.handle({"type": "issue_ticket", "service": "a", "person": swipe("zhang")},
                                        d.clock.now)
        assert reply["ok"]
        store.commit(d.engine.take_changes(), events, d.clock.now, [])
        kept = store.ticket(1)
        assert kept is not None and kept.holder_name == "张*"
        assert store.erase_holders(d.engine.meta.day) == 0  # today's are kept
        assert store.erase_holders("2099-01-01") == 1
        erased = store.ticket(1)
        assert (erased.person_key, erased.holder_name, erased.id_last4) == (None, None, None)
        bodies = [row[0] for row in store.conn.execute("SELECT body FROM events")]
        assert not any("张*" in body for body in bodies)
    finally:
        store.close()


def test_the_serving_windows_terminal_shows_the_holder(secret_file) -> None:
    from caller.terminal.model import WindowModel

    d = hall(secret_file)
    d.ok("issue_ticket", service="a", person=swipe("wang"))
    reply = d.ok("call_next", window="1")
    model = WindowModel(d.config, "1")
    model.ticket = protocol.shown(reply, ("window", ("1",)))["ticket"]
    assert model.holder == ("王*国", RESIDENTS["wang"].id_number[-4:])
    model.ticket = protocol.shown(reply, ("window", ("2",)))["ticket"]
    assert model.holder is None


@pytest.mark.parametrize("wall_names", [False, True])
def test_the_wall_shows_the_masked_name_only_when_enabled(secret_file, wall_names: bool) -> None:
    from display.wall.model import WallModel

    d = hall(secret_file, wall_names=wall_names)
    d.ok("issue_ticket", service="a", person=swipe("wang"))
    d.call("1")
    wall = WallModel()
    wall.load(d.engine.snapshot(d.clock.now))
    called = next(e for e in d.events if e["event"] == "ticket_called")
    wall.apply(protocol.shown(called, ("display", ())))
    assert wall.newest is not None
    assert wall.newest.holder_name == ("王*国" if wall_names else "")


@pytest.mark.parametrize("wall_names", [False, True])
def test_the_led_strip_shows_the_masked_name_only_when_enabled(secret_file, wall_names: bool) -> None:
    """From the engine's events as the LED role sees them to the bytes on the strip line."""
    from display.led.rules import StripTexts, StripTiming, WindowBoard, program_for
    from drivers.led.gbk_color import Decoder, encode

    d = hall(secret_file, wall_names=wall_names)
    d.ok("issue_ticket", service="a", person=swipe("wang"))
    board = WindowBoard()
    board.load(protocol.shown({"snapshot": d.engine.snapshot(d.clock.now)}, ("led", ()))["snapshot"])
    d.call("1")
    called = next(e for e in d.events if e["event"] == "ticket_called")
    (change,) = board.apply(protocol.shown(called, ("led", ())))
    program = program_for(change.look, False, StripTexts(), StripTiming())
    frame = encode(1, program.frames[-1][0])
    ((_address, shown),) = Decoder().feed(frame)
    text = shown.text
    assert text == ("请A001号王*国办理" if wall_names else "请A001号办理")
    card = RESIDENTS["wang"]
    for secret in (card.id_number, card.id_number[-4:], card.name):
        assert secret.encode("gbk") not in frame and secret not in text
    # A later snapshot (the bridge reconnecting) keeps the name on the strip.
    again = WindowBoard()
    again.load(protocol.shown({"snapshot": d.engine.snapshot(d.clock.now)}, ("led", ()))["snapshot"])
    assert again.look(change.window).holder == ("王*国" if wall_names else "")
