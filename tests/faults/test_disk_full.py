"""The hub's database on a disk that fills up (a 2 MiB tmpfs, mounted as root).

While the disk is full every write is refused with `storage_error` and a Chinese
sentence, and nothing of it remains; the hub keeps answering (health check, snapshots,
new connections). Once space is freed, numbering goes on from the last number given out.
"""

from __future__ import annotations

import asyncio
import errno
import json
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from caller.core.client import HubClient
from caller.core.messages import say
from tests.caller.hub.test_hub_crash import wait_until_seen
from tests.hubproc import DEMO_CONFIG, HubProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

WAIT = 20.0  # only reached when the hub hangs
STORAGE_ERROR = {"code": "storage_error", "message": say("storage_error")}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted for this test only (needs root, as in CI)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"this test needs to mount a small tmpfs (run it as root): "
                    f"`mount -t tmpfs -o size=2m tmpfs {mount_point}` said: "
                    f"{(mounted.stderr or mounted.stdout).strip()}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill(path: Path) -> None:
    """Grow ``path`` until the disk refuses even a single byte more."""
    with path.open("ab", buffering=0) as filler:
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    filler.write(b"\0" * size)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=WAIT) as r:
        return json.loads(r.read())


def test_a_full_disk_refuses_writes_cleanly_and_numbering_resumes(small_disk: Path):
    db_path = small_disk / "hall.db"
    hub = HubProcess(DEMO_CONFIG, db_path).start()
    filler = small_disk / "filler"
    acked: list[str] = []
    refused_ids: list[str] = []
    seen: list[int] = []

    async def request(client: HubClient, kind: str, **args: object) -> dict:
        return await client.request(kind, timeout=WAIT, **args)

    async def issue(kiosk: HubClient, request_id: str) -> dict:
        reply = await request(kiosk, "issue_ticket", request_id=request_id, service="civil")
        if reply["ok"]:
            acked.append(reply["ticket"]["number"])
        return reply

    async def scenario() -> None:
        async with (HubClient(hub.url, "kiosk-1", "demo-kiosk-1") as kiosk,
                    HubClient(hub.url, "term-1", "demo-term-1") as term,
                    HubClient(hub.url, "wall-1", "demo-wall-1",
                              on_event=lambda e: seen.append(e["seq"])) as wall):
            for n in range(3):
                assert (await issue(kiosk, f"before-{n}"))["ok"]
            assert (await request(term, "login", staff="1001"))["ok"]
            assert (await request(term, "call_next"))["ticket"]["number"] == "A001"

            # Fill the disk; what the hub still manages to write is acknowledged, and
            # counted, until the first refusal.
            for attempt in range(50):
                await asyncio.to_thread(fill, filler)
                before = (await request(kiosk, "snapshot"))["snapshot"]
                seq = (await asyncio.to_thread(health, hub.port))["seq"]
                reply = await issue(kiosk, f"full-{attempt}")
                if not reply["ok"]:
                    refused_ids.append(f"full-{attempt}")
                    break
            else:
                pytest.fail("the hub wrote 50 tickets to a full disk")
            assert reply["error"] == STORAGE_ERROR

            # Still serving, and the refusal left nothing behind.
            assert (await request(term, "finish", request_id="full-finish"))["error"] == STORAGE_ERROR
            refused_ids.append("full-finish")
            assert (await request(kiosk, "snapshot"))["snapshot"] == before
            status = await asyncio.to_thread(health, hub.port)
            assert status["status"] == "ok" and status["seq"] == seq
            async with HubClient(hub.url, "admin", "demo-admin") as late:
                assert late.snapshot == before and late.welcome["seq"] == seq
            assert wall.last_seq == seq

            await asyncio.to_thread(filler.unlink)
            reply = await issue(kiosk, "after-0")
            assert reply["ok"], reply
            assert (await request(term, "finish"))["ticket"]["number"] == "A001"
            assert (await request(term, "call_next"))["ticket"]["number"] == "A002"
            await wait_until_seen(hub.port, wall)
            assert wall.gaps == 0

    try:
        asyncio.run(scenario())
    finally:
        hub.stop()

    # Numbers go on from the last one given out: none reused, none skipped.
    assert acked == [f"A{n:03d}" for n in range(1, len(acked) + 1)]
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert [r[0] for r in db.execute("SELECT number FROM tickets ORDER BY id")] == acked
        states = dict(db.execute("SELECT number, state FROM tickets WHERE number IN ('A001', 'A002')"))
        assert states == {"A001": "done", "A002": "called"}
        marks = ", ".join("?" * len(refused_ids))
        assert db.execute(f"SELECT COUNT(*) FROM requests WHERE request_id IN ({marks})",
                          refused_ids).fetchone() == (0,)
        seqs = [r[0] for r in db.execute("SELECT seq FROM events ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))
        assert db.execute("SELECT COUNT(*) FROM events WHERE name = 'ticket_issued'").fetchone() == (
            len(acked),)
    db.close()
    assert sorted(set(seen)) == list(range(seen[0], seqs[-1] + 1))
