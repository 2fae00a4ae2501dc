"""What a batch sends: the commands the writer applies together reach every connection as
their replies, then their events in seq order with no gap, and the queue counts once, as
they stand after the batch (issue 14: the hub's CPU per ticket)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from caller.hub import server
from caller.hub.store import Store
from tests.faults.inproc import WAIT, raw_session, running_hub

FOLLOWERS = 5  # issued while the first ticket's batch commits, so they form one batch


async def frames_until(conn, seq: int) -> list[dict]:
    """Every frame a connection receives until it has seen event `seq`."""
    got: list[dict] = []
    async with asyncio.timeout(WAIT):
        while not any(m.get("type") == "event" and m["seq"] == seq for m in got):
            got.append(json.loads(await conn.recv()))
    return got


def issue_request(rid: str) -> str:
    return json.dumps({"type": "issue_ticket", "id": rid, "service": "civil"})


def slow_first_commit(monkeypatch, seconds: float) -> threading.Event:
    """Make the hub's first commit take `seconds`; the event is set once it has begun, so
    that what is sent meanwhile queues up into the next batch."""
    committing = threading.Event()
    real_commit = Store.commit

    def commit(self, *args, **kwargs):  # runs in the writer's thread
        if not committing.is_set():
            committing.set()
            time.sleep(seconds)
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(Store, "commit", commit)
    return committing


def test_a_batch_reaches_every_role_whole_in_order_with_one_queue_count(tmp_path, monkeypatch):
    committing = slow_first_commit(monkeypatch, 0.5)

    async def scenario() -> tuple[list[dict], list[dict]]:
        async with running_hub(tmp_path / "hall.db") as (hub, url):
            wall = await raw_session(url, "wall-1")
            kiosk = await raw_session(url, "kiosk-1")
            await kiosk.send(issue_request("t0"))
            await asyncio.to_thread(committing.wait, WAIT)
            for n in range(1, FOLLOWERS + 1):
                await kiosk.send(issue_request(f"t{n}"))
            last = 2 + FOLLOWERS + 1  # two batches: each ticket_issued, one queue count each
            seen = await frames_until(wall, last), await frames_until(kiosk, last)
            assert hub.stats["batches"] >= 2
            for conn in (wall, kiosk):
                await conn.close()
            return seen

    wall, kiosk = asyncio.run(scenario())
    events = [m for m in wall if m.get("type") == "event"]
    assert [e["seq"] for e in events] == list(range(1, FOLLOWERS + 4))
    assert [e["event"] for e in events] == (["ticket_issued", "queue_changed"]
                                            + ["ticket_issued"] * FOLLOWERS + ["queue_changed"])
    assert events[1]["waiting"]["civil"] == 1
    assert events[-1]["waiting"]["civil"] == FOLLOWERS + 1  # the count after the whole batch
    numbers = [e["ticket"]["number"] for e in events if e["event"] == "ticket_issued"]
    assert len(set(numbers)) == FOLLOWERS + 1
    # the kiosk: each reply before the events of its batch, the same seqs, markers for tickets
    replies = [n for n, m in enumerate(kiosk) if m["type"] == "reply"]
    assert [kiosk[n]["id"] for n in replies] == [f"t{n}" for n in range(FOLLOWERS + 1)]
    assert all(kiosk[n]["ok"] for n in replies)
    assert kiosk[replies[0] + 1]["seq"] == 1 and kiosk[replies[-1] + 1]["seq"] == 3
    kiosk_events = [m for m in kiosk if m["type"] == "event"]
    assert [e["seq"] for e in kiosk_events] == [e["seq"] for e in events]
    assert [e["event"] for e in kiosk_events] == [
        "queue_changed" if e["event"] == "queue_changed" else "withheld" for e in events]


async def issue(conn, rid: str) -> dict:
    await conn.send(issue_request(rid))
    async with asyncio.timeout(WAIT):
        while True:
            message = json.loads(await conn.recv())
            if message["type"] == "reply" and message["id"] == rid:
                return message


@pytest.mark.parametrize("index_max", [2, 50_000])
def test_a_retried_id_gets_its_first_answer_with_or_without_the_index(tmp_path, monkeypatch,
                                                                       index_max):
    """The in-memory index of stored request ids spares new ids a query; past its size
    (or after a restart) the store still answers every retry, and nothing is issued twice."""
    monkeypatch.setattr(server, "REQUEST_INDEX_MAX", index_max)

    async def scenario() -> None:
        async with running_hub(tmp_path / "hall.db") as (_, url):
            kiosk = await raw_session(url, "kiosk-1")
            first = [await issue(kiosk, f"t{n}") for n in range(4)]
            assert [await issue(kiosk, f"t{n}") for n in range(4)] == first
            await kiosk.close()
        async with running_hub(tmp_path / "hall.db") as (hub, url):
            kiosk = await raw_session(url, "kiosk-1")
            assert await issue(kiosk, "t0") == first[0]
            fresh = await issue(kiosk, "t4")
            assert fresh["ticket"]["number"] not in {r["ticket"]["number"] for r in first}
            assert (hub._request_ids is None) == (index_max == 2)
            await kiosk.close()

    asyncio.run(scenario())


async def replies_to(conn, ids: list[str]) -> None:
    """Wait until the connection has every reply of `ids` (events meanwhile are skipped)."""
    left = set(ids)
    async with asyncio.timeout(WAIT):
        while left:
            message = json.loads(await conn.recv())
            if message["type"] == "reply":
                assert message["ok"], message
                left.discard(message["id"])


def test_a_busy_hub_holds_a_batch_for_the_commands_that_follow_and_a_quiet_one_does_not(
        tmp_path, monkeypatch):
    """Group commit: after a batch of `GROUP_MIN` commands or more, the next batch waits
    until it is as large as the recent peak (less one a batch) or its first command has
    waited `GROUP_WAIT_S`, and what arrives meanwhile shares its commit; after a smaller
    batch, the next is applied at once."""
    hold = 1.0
    monkeypatch.setattr(server, "GROUP_WAIT_S", hold)
    monkeypatch.setattr(server, "GROUP_MIN", 2)
    monkeypatch.setattr(server, "TICK_S", 3600.0)  # no clock tick joins or splits a batch
    committing = slow_first_commit(monkeypatch, 0.3)

    async def answered_after(kiosk, rids: list[str], pause: float = 0.0) -> float:
        """Send the requests `pause` apart; the seconds until all are answered."""
        sent = time.monotonic()
        for n, rid in enumerate(rids):
            if n:
                await asyncio.sleep(pause)
            await kiosk.send(issue_request(rid))
        await replies_to(kiosk, rids)
        return time.monotonic() - sent

    async def scenario() -> None:
        async with running_hub(tmp_path / "hall.db") as (hub, url):
            kiosk = await raw_session(url, "kiosk-1")
            await kiosk.send(issue_request("t0"))
            await asyncio.to_thread(committing.wait, WAIT)
            first = [f"t{n}" for n in range(1, 5)]
            for rid in first:  # one batch of four behind t0's commit: the peak is four
                await kiosk.send(issue_request(rid))
            await replies_to(kiosk, ["t0", *first])
            batches = hub.stats["batches"]
            # held for four that never come, each pair shares one commit at the deadline,
            # and the peak falls by one a batch: three, then two
            assert await answered_after(kiosk, ["t5", "t6"], hold / 4) >= hold
            assert await answered_after(kiosk, ["t7", "t8"], hold / 4) >= hold
            # now two is the peak: t9 and t10 go as soon as they are two
            assert hold / 4 <= await answered_after(kiosk, ["t9", "t10"], hold / 4) < hold / 2
            assert await answered_after(kiosk, ["t11"]) >= hold  # held; nobody came
            assert await answered_after(kiosk, ["t12"]) < hold / 2  # after a batch of one: at once
            assert hub.stats["batches"] == batches + 5
            await kiosk.close()

    asyncio.run(scenario())
