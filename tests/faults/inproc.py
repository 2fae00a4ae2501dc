"""A hub running inside the test's own event loop: real websockets on loopback and a real
SQLite file, with the hub object at hand for faults a process cannot be given from outside
(a store that refuses, a writer that hangs)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from caller.core.config import HallConfig, load_config
from caller.hub.server import HallClock, Hub
from caller.hub.store import Store
from tests.hubproc import DEMO_CONFIG, MONDAY_9AM

CONFIG = load_config(DEMO_CONFIG)
WAIT = 10.0  # only reached when the hub hangs


@contextlib.asynccontextmanager
async def running_hub(db: Path, config: HallConfig = CONFIG,
                      **hub_args: object) -> AsyncIterator[tuple[Hub, str]]:
    hub = Hub(config, Store(db), HallClock(datetime.fromisoformat(MONDAY_9AM)), **hub_args)
    port = await hub.start("127.0.0.1", 0)
    try:
        yield hub, f"ws://127.0.0.1:{port}/"
    finally:
        await hub.stop()


async def raw_session(url: str, device: str, **connect_args: object) -> ClientConnection:
    """A bare connection past its welcome, for frames no well-behaved client would send."""
    conn = await connect(url, max_size=None, compression=None, open_timeout=WAIT, **connect_args)
    await conn.send(json.dumps({"type": "hello", "device": device,
                                "token": CONFIG.devices[device].token}))
    while json.loads(await conn.recv())["type"] != "welcome":
        pass
    return conn


async def reply_to(conn: ClientConnection, frame: str) -> dict:
    """Send a raw frame; return the reply (events meanwhile are skipped)."""
    await conn.send(frame)
    while True:
        message = json.loads(await asyncio.wait_for(conn.recv(), WAIT))
        if message.get("type") == "reply":
            return message
