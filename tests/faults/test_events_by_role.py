"""Finding 8: each role receives only what it needs. A bad rating, its alert and the
manager's call-back note (a citizen's name and phone number) reach the admin only; a kiosk
sees queue counts and the notice; a terminal sees its own window plus the calls; the wall
sees calls, queues and window states. Every other event arrives as a `withheld` marker with
nothing but its seq, so nobody sees a gap, and replay is filtered the same way."""

from __future__ import annotations

import asyncio

from caller.core.client import HubClient
from tests.faults.inproc import WAIT
from tests.hubproc import HubProcess

WITHHELD = "withheld"  # the marker's name, as docs/protocol.md gives it

NOTE = "已回访张三，电话 13800138000"
DEVICES = {"kiosk-1": "demo-kiosk-1", "term-2": "demo-term-2", "wall-1": "demo-wall-1",
           "admin": "demo-admin"}


async def until(condition) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.02)


def names(events: list[dict]) -> set[str]:
    return {e["event"] for e in events}


def test_each_role_sees_only_its_events_and_no_gap(hub_process: HubProcess):
    got: dict[str, list[dict]] = {d: [] for d in DEVICES}
    replayed: list[dict] = []

    async def scenario() -> None:
        clients = {d: await HubClient(hub_process.url, d, t,
                                      on_event=got[d].append).start() for d, t in DEVICES.items()}
        async with (HubClient(hub_process.url, "term-1", "demo-term-1") as term,
                    HubClient(hub_process.url, "eval-1", "demo-eval-1") as evaluator):
            async def ok(client: HubClient, kind: str, **args: object) -> dict:
                reply = await client.request(kind, timeout=WAIT, **args)
                assert reply["ok"], reply
                return reply
            await ok(clients["kiosk-1"], "issue_ticket", service="civil")
            await ok(term, "login", staff="1001")
            await ok(term, "call_next")
            await ok(term, "finish")
            await ok(evaluator, "rate", window="1", level="very_dissatisfied")
            await until(lambda: "case_opened" in names(got["admin"]))
            case = next(e for e in got["admin"] if e["event"] == "case_opened")["case"]["id"]
            await ok(clients["admin"], "case_callback", case=case, by="值班长", note=NOTE)
        last = clients["admin"].last_seq or 0
        await until(lambda: all((c.last_seq or 0) >= last for c in clients.values()))
        for device, client in clients.items():
            assert client.gaps == 0, device
            await client.close()
        late = await HubClient(hub_process.url, "kiosk-1", "demo-kiosk-1", since=0,
                               on_event=replayed.append).start()
        await until(lambda: (late.last_seq or 0) >= last)
        await late.close()

    asyncio.run(scenario())
    everything = [e["seq"] for e in got["admin"]]
    assert everything == list(range(1, everything[-1] + 1))
    for device, events in got.items():  # every connection sees every seq, in order
        assert [e["seq"] for e in events] == everything, device
    admin, kiosk, term2, wall = (names(got[d]) for d in ("admin", "kiosk-1", "term-2", "wall-1"))
    assert {"rating_received", "alert", "case_opened", "case_updated"} <= admin
    assert kiosk <= {"queue_changed", "notice_changed", "service_status", WITHHELD}
    assert "queue_changed" in kiosk
    assert "ticket_called" in term2 and "ticket_called" in wall
    for seen in (kiosk, term2, wall):
        assert not seen & {"rating_received", "alert", "case_opened", "case_updated"}
    assert not term2 & {"ticket_finished", "window_login"}  # window 1's business
    assert {"ticket_finished", "window_login"} <= wall
    for device in ("kiosk-1", "term-2", "wall-1"):
        assert "13800138000" not in repr(got[device])
        for marker in (e for e in got[device] if e["event"] == WITHHELD):
            assert set(marker) == {"type", "seq", "event"}
    assert [e["seq"] for e in replayed] == everything
    assert [e["event"] for e in replayed] == [e["event"] for e in got["kiosk-1"]]
