"""Findings 3 and 12: the writer survives any failure. A prune that hits `database is
locked`, a batch that raises, a commit the disk refuses: the batch is rolled back, the
state reloaded, every waiter answered, and a retry of the same request id succeeds. A
writer that hangs is caught by the watchdog, and /healthz tells the truth."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import urllib.error
import urllib.request

import pytest

from caller.core.client import HubClient
from caller.hub import server as hub_module
from caller.hub.server import HallClock, Hub
from caller.hub.store import StorageError, Store
from tests.faults.inproc import CONFIG, WAIT, running_hub


def health(url: str, token: str | None = None) -> tuple[int, dict, list[str]]:
    request = urllib.request.Request(url.replace("ws://", "http://") + "healthz")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as r:
            return r.status, json.loads(r.read()), r.headers.get_all("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers.get_all("Content-Type")


def once(real, error: Exception):
    """`real`, except that its first call raises `error`."""
    calls = [0]

    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 1:
            raise error
        return real(*args, **kwargs)
    return wrapper


def test_a_failed_prune_leaves_the_writer_serving(tmp_path, monkeypatch):
    monkeypatch.setattr(hub_module, "PRUNE_EVERY_S", 0.0)
    locked = [False]

    async def scenario() -> None:
        async with running_hub(tmp_path / "hall.db") as (hub, url):
            real_prune = hub.store.prune

            def locked_midway(*args, **kwargs):  # fails after its transaction began, as a DELETE may
                if not locked[0]:
                    locked[0] = True
                    hub.store.conn.execute("BEGIN IMMEDIATE")
                    raise sqlite3.OperationalError("database is locked")
                return real_prune(*args, **kwargs)
            hub.store.prune = locked_midway
            async with HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk:
                for n in range(3):
                    reply = await kiosk.request("issue_ticket", timeout=WAIT, service="civil")
                    assert reply["ticket"]["number"] == f"A00{n + 1}"
            status, body, _ = await asyncio.to_thread(health, url)
            assert status == 200 and body["writer"]["alive"]
    asyncio.run(scenario())
    assert locked[0]


@pytest.mark.parametrize("fault", ["engine", "commit", "storage"])
def test_a_failed_batch_is_answered_and_the_retry_succeeds(tmp_path, fault):
    seen: list[int] = []

    async def scenario() -> None:
        async with (running_hub(tmp_path / "hall.db") as (hub, url),
                    HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk,
                    HubClient(url, "admin", "demo-admin",
                              on_event=lambda e: seen.append(e["seq"])) as admin):
            assert (await kiosk.request("issue_ticket", timeout=WAIT, service="civil"))["ok"]
            if fault == "engine":
                hub.engine.handle = once(hub.engine.handle, KeyError("boom"))
            elif fault == "commit":
                hub.store.commit = once(hub.store.commit, UnicodeEncodeError(
                    "utf-8", "\ud800", 0, 1, "surrogates not allowed"))
            else:
                hub.store.commit = once(hub.store.commit, StorageError("disk I/O error"))
            code = "storage_error" if fault == "storage" else "internal_error"
            first = await kiosk.request("issue_ticket", request_id="r1", timeout=WAIT,
                                        service="civil")
            assert first["error"]["code"] == code
            again = await kiosk.request("issue_ticket", request_id="r1", timeout=WAIT,
                                        service="civil")
            assert again["ok"] and again["ticket"]["number"] == "A002"
            # New devices are still welcomed; the hall state matches the store.
            async with HubClient(url, "term-1", "demo-term-1") as term:
                assert (await term.request("login", timeout=WAIT, staff="1001"))["ok"]
                called = await term.request("call_next", timeout=WAIT)
                assert called["ticket"]["number"] == "A001"
            while (admin.last_seq or 0) < hub.store.last_seq:
                await asyncio.sleep(0.05)
            assert admin.gaps == 0
    asyncio.run(scenario())
    assert sorted(seen) == list(range(seen[0], seen[-1] + 1))
    with sqlite3.connect(tmp_path / "hall.db") as db:
        assert db.execute("SELECT number FROM tickets ORDER BY id").fetchall() == [
            ("A001",), ("A002",)]
    db.close()


async def first_commit(hub: Hub) -> None:
    while hub.last_commit is None:
        await asyncio.sleep(0.05)


def hang_commits(hub: Hub, release: threading.Event) -> None:
    """From now on every commit waits for `release` (a writer stuck on a dead disk)."""
    real_commit = hub.store.commit

    def hanging(*args, **kwargs):
        release.wait(WAIT)
        return real_commit(*args, **kwargs)
    hub.store.commit = hanging


def test_a_hung_writer_trips_the_watchdog_and_healthz_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(hub_module, "WATCHDOG_S", 1.0)
    monkeypatch.setattr(hub_module, "CHECK_S", 0.2)
    fatal: list[str] = []
    release = threading.Event()

    async def scenario() -> None:
        async with running_hub(tmp_path / "hall.db", on_fatal=fatal.append) as (hub, url):
            status, body, types = await asyncio.to_thread(health, url)
            assert status == 200 and body["status"] == "ok" and types == [
                "application/json; charset=utf-8"]
            async with HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk:
                await first_commit(hub)  # a new hall stores its business day first
                hang_commits(hub, release)
                pending = asyncio.create_task(kiosk.request("issue_ticket", service="civil"))
                for _ in range(100):
                    if fatal:
                        break
                    await asyncio.sleep(0.05)
                assert fatal and "progress" in fatal[0]
                status, body, _ = await asyncio.to_thread(health, url)
                assert status == 503 and body["writer"]["alive"] is False
                assert body["queue"] >= 0
                release.set()
                assert (await asyncio.wait_for(pending, WAIT))["ok"]
    asyncio.run(scenario())


def test_healthz_lists_devices_only_to_the_admin(tmp_path):
    admin_token = CONFIG.devices["admin"].token

    async def scenario() -> None:
        async with running_hub(tmp_path / "hall.db") as (_, url):
            async with HubClient(url, "kiosk-1", "demo-kiosk-1"):
                _, anyone, _ = await asyncio.to_thread(health, url)
                _, wrong, _ = await asyncio.to_thread(health, url, "demo-kiosk-1")
                _, admin, _ = await asyncio.to_thread(health, url, admin_token)
            assert "devices" not in anyone and "devices" not in wrong
            assert admin["devices"] == ["kiosk-1"] and anyone["connections"] == 1
    asyncio.run(scenario())


def test_stop_does_not_hang_behind_a_hung_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(hub_module, "STOP_TIMEOUT_S", 0.5)
    release = threading.Event()

    async def scenario() -> None:
        hub = Hub(CONFIG, Store(tmp_path / "hall.db"), HallClock(), on_fatal=lambda _: None)
        url = f"ws://127.0.0.1:{await hub.start('127.0.0.1', 0)}/"
        async with HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk:
            await first_commit(hub)
            hang_commits(hub, release)
            pending = asyncio.create_task(kiosk.request("issue_ticket", service="civil"))
            await asyncio.sleep(0.3)
            await asyncio.wait_for(hub.stop(), WAIT)  # SIGTERM's path: returns, logs the loss
            pending.cancel()
        release.set()
    asyncio.run(scenario())
