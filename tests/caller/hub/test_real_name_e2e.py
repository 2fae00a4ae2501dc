"""Real-name tickets through a real hub process on loopback websockets: a swipe, a second
swipe, the elderly's green channel, and who gets to see the holder (events, replies, the
welcome snapshot, replay)."""

from __future__ import annotations

import asyncio
import json
from datetime import date

from caller.core.client import HubClient
from caller.core.personal import new_secret
from drivers.idcard.identities import RESIDENTS
from tests.faults.inproc import WAIT
from tests.hubproc import DEMO_CONFIG, HubProcess

TODAY = date(2026, 11, 23)
LISTENERS = {"admin": "demo-admin", "term-1": "demo-term-1", "term-2": "demo-term-2",
             "wall-1": "demo-wall-1", "kiosk-1": "demo-kiosk-1"}


def real_name_hall(tmp_path):
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'id = "civil"\n',
        'id = "civil"\nid_required = true\none_live_ticket_per_person = true\ngreen_channel_age = 70\n', 1)
    new_secret(tmp_path / "hall.secret")
    path = tmp_path / "hall.toml"
    path.write_text(text + '\n[personal]\nsecret_file = "hall.secret"\n', encoding="utf-8")
    return path


def person(resident: str) -> dict:
    card = RESIDENTS[resident]
    return {"id_number": card.id_number, "name": card.name, "age": card.age(TODAY)}


async def until(condition) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.02)


def test_swipes_through_a_real_hub(tmp_path) -> None:
    got: dict[str, list[dict]] = {d: [] for d in LISTENERS}
    frames: dict[str, str] = {}

    async def scenario(url: str) -> None:
        clients = {d: await HubClient(url, d, t, on_event=got[d].append).start()
                   for d, t in LISTENERS.items()}
        kiosk, term = clients["kiosk-1"], clients["term-1"]
        refused = await kiosk.request("issue_ticket", timeout=WAIT, service="civil")
        assert refused["error"]["code"] == "id_required"
        first = await kiosk.request("issue_ticket", timeout=WAIT, service="civil", person=person("zhang"))
        again = await kiosk.request("issue_ticket", timeout=WAIT, service="civil", person=person("zhang"))
        elderly = await kiosk.request("issue_ticket", timeout=WAIT, service="civil", person=person("wang"))
        assert first["ok"] and again["existing"] and again["ticket"]["number"] == first["ticket"]["number"]
        assert elderly["green_channel"] and elderly["ticket"]["priority"] == "priority"
        frames["kiosk replies"] = json.dumps([first, again, elderly], ensure_ascii=False)
        assert (await term.request("login", timeout=WAIT, window="1", staff="1001"))["ok"]
        called = await term.request("call_next", timeout=WAIT, window="1")
        assert called["ticket"]["number"] == elderly["ticket"]["number"]  # the green channel first
        assert called["ticket"]["holder"]["name"] == "王*国"
        last = clients["admin"].last_seq or 0
        await until(lambda: all((c.last_seq or 0) >= last for c in clients.values()))
        late = await HubClient(url, "wall-1", "demo-wall-1", since=0).start()
        frames["wall welcome"] = json.dumps(late.snapshot or {}, ensure_ascii=False)
        await late.close()
        for client in clients.values():
            await client.close()

    with HubProcess(real_name_hall(tmp_path), tmp_path / "hall.db") as hub:
        asyncio.run(scenario(hub.url))
        log = hub.log_path.read_text(encoding="utf-8")
    wang = RESIDENTS["wang"]

    def holders(device: str) -> list[dict]:
        return [e["ticket"]["holder"] for e in got[device] if "holder" in e.get("ticket", {})]

    assert {h["name"] for h in holders("admin")} == {"张*", "王*国"}
    assert {"name": "王*国", "last4": wang.id_number[-4:], "wall": False} in holders("term-1")
    for device in ("term-2", "wall-1", "kiosk-1"):
        assert holders(device) == [], device
    for where, text in frames.items():
        assert "王*国" not in text and f'"{wang.id_number[-4:]}"' not in text, where
    assert "王*国" not in log
    for text in (log, repr(got)):
        assert wang.id_number not in text and wang.name not in text
