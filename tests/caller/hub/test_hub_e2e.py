"""End to end: a real hub process, real websockets on loopback, the real client."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from contextlib import AsyncExitStack

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from caller.core.client import HubClient, HubUnavailable
from caller.core.config import load_config
from tests.hubproc import DEMO_CONFIG

pytestmark = pytest.mark.e2e
CFG = load_config(DEMO_CONFIG)


def client(hub, device: str, **kw) -> HubClient:
    return HubClient(hub.url, device, CFG.devices[device].token, **kw)


async def next_event(c: HubClient, name: str, timeout: float = 5.0) -> dict:
    async def find() -> dict:
        async for e in c.events():
            if e["event"] == name:
                return e
    return await asyncio.wait_for(find(), timeout)


async def ok(c: HubClient, kind: str, **args) -> dict:
    reply = await c.request(kind, timeout=5, **args)
    assert reply["ok"], reply
    return reply


def test_the_whole_visit(hub_process):
    async def visit() -> None:
        async with AsyncExitStack() as stack:
            kiosk = await stack.enter_async_context(client(hub_process, "kiosk-1"))
            term = await stack.enter_async_context(client(hub_process, "term-1"))
            wall = await stack.enter_async_context(client(hub_process, "wall-1"))
            admin = await stack.enter_async_context(client(hub_process, "admin"))
            evaluator = await stack.enter_async_context(client(hub_process, "eval-1"))
            assert wall.snapshot["hall"]["name"] == "青山镇便民服务中心"

            issued = await ok(kiosk, "issue_ticket", service="civil")
            assert issued["ticket"]["number"] == "A001" and issued["ahead"] == 0
            assert "户口簿原件及复印件" in issued["materials"]
            await ok(kiosk, "issue_ticket", service="civil")

            await ok(term, "login", staff="1001")
            called = await ok(term, "call_next")
            assert called["ticket"]["number"] == "A001"
            shown = await next_event(wall, "ticket_called")
            assert shown["announce"] == "请A001号到1号窗口办理" and shown["window"] == "1"

            await ok(term, "recall")
            recalled = await next_event(wall, "ticket_called")
            assert recalled["recalls"] == 1

            await ok(term, "transfer", to_service="family")  # first-asker: no queuing again
            moved = await next_event(wall, "ticket_transferred")
            assert moved["ticket"]["number"] == "A001" and moved["to"] == {"service": "family"}
            again = await ok(term, "call_next")  # window 1 serves family at weight 0 ...
            assert again["ticket"]["number"] == "A002"  # ... so civil first
            await ok(term, "finish")
            evaluator_frame = await next_event(wall, "rating_requested")
            assert evaluator_frame["window"] == "1"
            await ok(evaluator, "rate", window="1", level="dissatisfied")
            alert = await next_event(admin, "alert")
            assert alert["kind"] == "bad_rating" and "不满意" in alert["message"]
            third = await ok(term, "call_next")
            assert third["ticket"]["number"] == "A001"
            assert third["ticket"]["transferred"] is True
            assert wall.gaps == 0 and admin.gaps == 0
    asyncio.run(visit())


def test_health_check(hub_process):
    with urllib.request.urlopen(f"http://127.0.0.1:{hub_process.port}/healthz", timeout=5) as r:
        status = json.loads(r.read())
    assert r.status == 200 and status["status"] == "ok" and status["hall"] == "青山镇便民服务中心"


async def raw_hello(hub, device="term-1", token=None) -> object:
    conn = await connect(hub.url)
    await conn.send(json.dumps({"type": "hello", "device": device,
                                "token": token or CFG.devices[device].token}))
    welcome = json.loads(await conn.recv())
    assert welcome["type"] == "welcome"
    return conn


async def raw_reply(conn, frame: str) -> dict:
    await conn.send(frame)
    while True:
        message = json.loads(await asyncio.wait_for(conn.recv(), 5))
        if message["type"] == "reply":
            return message


def test_bad_frames_get_clear_errors_and_change_nothing(hub_process):
    async def run() -> None:
        conn = await raw_hello(hub_process)
        cases = [
            ("not json", "bad_request"),
            ("[1, 2]", "bad_request"),
            (json.dumps({"type": "call_next", "window": "1"}), "bad_request"),  # no id
            (json.dumps({"id": "x1", "type": "fly"}), "unknown_command"),
            (json.dumps({"id": "x2", "type": "login", "window": "1"}), "bad_request"),
            (json.dumps({"id": "x3", "type": "login", "window": "1", "staff": 7}), "bad_request"),
            (json.dumps({"id": "x4", "type": "call_next", "window": "2"}), "forbidden"),
            (json.dumps({"id": "x5", "type": "issue_ticket", "service": "civil"}), "forbidden"),
            (json.dumps({"id": "x6", "type": "call_next", "window": "1"}), "not_logged_in"),
        ]
        for frame, code in cases:
            reply = await raw_reply(conn, frame)
            assert reply["ok"] is False and reply["error"]["code"] == code, (frame, reply)
            assert reply["error"]["message"]
        await conn.send("x" * (70 * 1024))  # over 64 KiB: the hub closes the connection
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await asyncio.wait_for(conn.recv(), 5)
        assert info.value.rcvd.code == 1009
        wall = await raw_hello(hub_process, "wall-1")
        reply = await raw_reply(wall, json.dumps({"id": "s", "type": "snapshot"}))
        assert all(s["waiting"] == 0 for s in reply["snapshot"]["services"])
        await wall.close()
    asyncio.run(run())


@pytest.mark.parametrize("first, code", [
    ({"type": "hello", "device": "term-1", "token": "wrong"}, 4401),
    ({"type": "hello", "device": "nobody", "token": "x"}, 4401),
    ({"type": "snapshot", "id": "1"}, 4400),
    ("garbage", 4400),
])
def test_hello_is_checked(hub_process, first, code):
    async def run() -> None:
        async with connect(hub_process.url) as conn:
            await conn.send(first if isinstance(first, str) else json.dumps(first))
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(conn.recv(), 5)
            assert info.value.rcvd.code == code
    asyncio.run(run())


def test_client_reports_a_refused_token(hub_process):
    async def run() -> None:
        c = HubClient(hub_process.url, "kiosk-1", "wrong")
        with pytest.raises(HubUnavailable):
            await c.start(timeout=5)
        await c.close()
    asyncio.run(run())


def test_a_repeated_request_id_acts_once(hub_process):
    async def run() -> None:
        async with client(hub_process, "kiosk-1") as kiosk:
            first = await kiosk.request("issue_ticket", request_id="same", service="civil")
            second = await kiosk.request("issue_ticket", request_id="same", service="civil")
            assert first == second
            snap = await ok(kiosk, "snapshot")
            civil = next(s for s in snap["snapshot"]["services"] if s["id"] == "civil")
            assert civil["waiting"] == 1
    asyncio.run(run())


def test_disconnect_mid_request_then_retry_gets_the_first_answer(hub_process):
    async def run() -> None:
        conn = await raw_hello(hub_process, "kiosk-1")
        await conn.send(json.dumps({"id": "r1", "type": "issue_ticket", "service": "labour"}))
        await conn.close()  # gone before reading the reply
        conn = await raw_hello(hub_process, "kiosk-1")
        reply = await raw_reply(conn, json.dumps({"id": "r1", "type": "issue_ticket",
                                                  "service": "labour"}))
        assert reply["ok"] and reply["ticket"]["number"] == "B001"
        fresh = await raw_reply(conn, json.dumps({"id": "r2", "type": "issue_ticket",
                                                  "service": "labour"}))
        assert fresh["ticket"]["number"] == "B002"
        await conn.close()
    asyncio.run(run())


def test_two_windows_pressing_next_at_once_get_different_tickets(hub_process):
    async def run() -> None:
        async with AsyncExitStack() as stack:
            kiosk = await stack.enter_async_context(client(hub_process, "kiosk-1"))
            t1 = await stack.enter_async_context(client(hub_process, "term-1"))
            t2 = await stack.enter_async_context(client(hub_process, "term-2"))
            for _ in range(20):
                await ok(kiosk, "issue_ticket", service="civil")
            await ok(t1, "login", staff="1001")
            await ok(t2, "login", staff="1002")
            got = []
            for _ in range(10):
                a, b = await asyncio.gather(t1.request("call_next"), t2.request("call_next"))
                got += [a["ticket"]["number"], b["ticket"]["number"]]
            assert len(set(got)) == 20
    asyncio.run(run())


def test_reconnect_replays_missed_events_without_gaps(hub_process):
    async def run() -> None:
        async with client(hub_process, "kiosk-1") as kiosk:
            wall = await client(hub_process, "wall-1").start()
            await ok(kiosk, "issue_ticket", service="civil")
            await next_event(wall, "ticket_issued")
            seen = wall.last_seq
            await wall.close()
            for _ in range(5):
                await ok(kiosk, "issue_ticket", service="build")
            wall2 = await client(hub_process, "wall-1", since=seen).start()
            replayed = [await asyncio.wait_for(anext(wall2.events()), 5) for _ in range(10)]
            assert [e["seq"] for e in replayed] == list(range(seen + 1, seen + 11))
            assert wall2.gaps == 0
            await wall2.close()
    asyncio.run(run())


def test_state_survives_a_graceful_restart(hub_process):
    async def before() -> dict:
        async with client(hub_process, "kiosk-1") as kiosk, client(hub_process, "term-1") as t:
            await ok(kiosk, "issue_ticket", service="civil")
            await ok(kiosk, "issue_ticket", service="civil")
            await ok(t, "login", staff="1001")
            await ok(t, "call_next")
            return (await ok(kiosk, "snapshot"))["snapshot"]
    snap = asyncio.run(before())
    hub_process.stop()
    hub_process.start()

    async def after() -> dict:
        async with client(hub_process, "kiosk-1") as kiosk:
            return (await ok(kiosk, "snapshot"))["snapshot"]
    rebuilt = asyncio.run(after())
    for state in (rebuilt, snap):
        del state["manager"]["today"]  # figures cached on their own schedule
    assert rebuilt == snap


def test_manager_follows_up_a_bad_rating_from_the_command_line(hub_process, capsys):
    from hallq.cli import main

    async def bad() -> None:
        async with client(hub_process, "term-1") as t, client(hub_process, "kiosk-1") as k:
            await ok(k, "issue_ticket", service="civil")
            await ok(t, "login", staff="1001")
            await ok(t, "call_next")
            await ok(t, "finish")
        async with client(hub_process, "eval-1") as e:
            await ok(e, "rate", window="1", level="very_dissatisfied")
    asyncio.run(bad())
    hub = ["--hub", hub_process.url]
    assert main(["cases", *hub, "list"]) == 0
    out = capsys.readouterr().out
    assert "A001" in out and "非常不满意" in out and "待回访" in out
    assert main(["cases", *hub, "alerts"]) == 0
    assert "bad_rating" in capsys.readouterr().out
    assert main(["cases", *hub, "close", "1", "--by", "王主任", "--outcome", "x"]) == 1
    assert "请先完成回访" in capsys.readouterr().err
    assert main(["cases", *hub, "callback", "1", "--by", "王主任", "--note", "已电话回访"]) == 0
    assert main(["cases", *hub, "close", "1", "--by", "王主任", "--outcome", "群众满意"]) == 0
    assert "已办结" in capsys.readouterr().out
    assert main(["cases", *hub, "ack", "1", "--by", "王主任"]) == 0


def test_backup_while_the_hub_runs(hub_process, tmp_path):
    import sqlite3

    from hallq.cli import main

    async def issue() -> None:
        async with client(hub_process, "kiosk-1") as k:
            for _ in range(3):
                await ok(k, "issue_ticket", service="civil")
    asyncio.run(issue())
    assert main(["backup", "--db", str(hub_process.db), "--to", str(tmp_path / "bk")]) == 0
    copy = next((tmp_path / "bk").glob("*.db"))
    numbers = [r[0] for r in sqlite3.connect(copy).execute("SELECT number FROM tickets")]
    assert numbers == ["A001", "A002", "A003"]
    assert main(["backup", "--db", str(tmp_path / "missing.db")]) == 1


def test_live_figures_for_the_wall_and_terminals(hub_process):
    async def run() -> None:
        async with client(hub_process, "kiosk-1") as k, client(hub_process, "term-1") as t:
            for _ in range(3):
                await ok(k, "issue_ticket", service="civil")
            await ok(t, "login", staff="1001")
            await ok(t, "call_next")
            await ok(t, "finish")
            stats = (await ok(t, "stats"))["stats"]
            assert stats["issued"] == 3 and stats["served"] == 1 and stats["waiting"] == 2
            assert stats["services"]["civil"]["issued"] == 3
            snap = (await ok(t, "snapshot"))["snapshot"]
            assert snap["manager"]["today"]["issued"] == 3
    asyncio.run(run())


def test_tls_hub_with_the_halls_own_certificate(tmp_path, monkeypatch):
    import subprocess

    from tests.hubproc import HubProcess

    cert, key = tmp_path / "hub.pem", tmp_path / "hub.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    hub = HubProcess(DEMO_CONFIG, tmp_path / "hall.db",
                     extra=["--certfile", str(cert), "--keyfile", str(key)])
    with hub:
        url = f"wss://127.0.0.1:{hub.port}/"

        async def issue() -> dict:
            async with HubClient(url, "kiosk-1", CFG.devices["kiosk-1"].token) as kiosk:
                return await ok(kiosk, "issue_ticket", service="civil")

        monkeypatch.setenv("HALLQ_CA_FILE", str(cert))
        assert asyncio.run(issue())["ticket"]["number"] == "A001"
        monkeypatch.delenv("HALLQ_CA_FILE")

        async def untrusted() -> None:
            c = HubClient(url, "kiosk-1", CFG.devices["kiosk-1"].token)
            with pytest.raises(TimeoutError):
                await c.start(timeout=2)  # keeps retrying: the certificate is not trusted
            await c.close()
        asyncio.run(untrusted())


def test_a_client_ahead_of_a_restored_hub_follows_it_again(hub_process):
    """After the database is restored from an older backup, a client's last seq is ahead of
    the hub's: the hub says it cannot replay, and the client takes the hub's seq."""
    async def run() -> None:
        async with client(hub_process, "kiosk-1") as kiosk:
            wall = await client(hub_process, "wall-1", since=10_000).start()
            assert wall.welcome["replay"] is False and wall.last_seq == wall.welcome["seq"]
            await ok(kiosk, "issue_ticket", service="civil")
            assert (await next_event(wall, "ticket_issued"))["ticket"]["number"] == "A001"
            await wall.close()
    asyncio.run(run())


def test_send_parses_json_arguments():
    from caller.manager.send_cli import parse_args

    assert parse_args(["window=3", "case:=7", "flag:=true"]) == {
        "window": "3", "case": 7, "flag": True}
    with pytest.raises(SystemExit):
        parse_args(["nokey"])
