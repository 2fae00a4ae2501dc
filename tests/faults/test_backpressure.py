"""Finding 2: a device that stops reading cannot grow the hub's memory. A connection that
keeps asking for snapshots and never reads is closed (1013) once its unsent bytes pass the
bound or stop draining, the manager gets a device alert, and the hall goes on serving.
(The bounds are shrunk here so the test takes seconds; the defaults are in caller.hub.server.)"""

from __future__ import annotations

import asyncio
import json
import socket

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from caller.core.client import HubClient
from caller.core.config import RateLimit as Rate
from caller.hub import limits as hub_limits
from caller.hub import server as hub_module
from tests.faults.inproc import CONFIG, WAIT, running_hub


async def flood_without_reading(url: str, device: str) -> int:
    """Send snapshot requests and never read; return how many went out before the hub cut
    the connection."""
    host, port = url.removeprefix("ws://").rstrip("/").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn = await connect(url, sock=sock, max_size=None, max_queue=1, compression=None,
                         ping_interval=None, open_timeout=WAIT)
    await conn.send(json.dumps({"type": "hello", "device": device,
                                "token": CONFIG.devices[device].token}))
    sent = 0
    try:
        async with asyncio.timeout(WAIT * 6):  # reached only when the hub never cuts it
            while True:
                await conn.send(json.dumps({"type": "snapshot", "id": f"s{sent}"}))
                sent += 1
    except ConnectionClosed:
        return sent
    finally:
        conn.transport.abort()


def test_a_device_that_never_reads_is_closed_and_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(hub_module, "CHECK_S", 0.2)
    monkeypatch.setattr(hub_module, "CLOSE_GRACE_S", 0.5)
    monkeypatch.setattr(hub_module, "STALL_S", 1.0)
    # every request gets its full snapshot, not a small rate-limit refusal, so the kernel's
    # socket buffers fill in a few hundred replies and the hub's own buffer is what is tested
    monkeypatch.setitem(hub_limits.ROLE_RATES, "display", Rate(1e6, 1e6))

    async def scenario() -> None:
        async with (running_hub(tmp_path / "hall.db") as (hub, url),
                    HubClient(url, "admin", "demo-admin") as admin,
                    HubClient(url, "kiosk-1", "demo-kiosk-1") as kiosk):
            sent = await flood_without_reading(url, "wall-1")
            assert sent > 10
            assert hub.stats["slow_closed"] == 1
            assert "wall-1" not in {s.device.id for s in hub.sessions}
            alerts = (await admin.request("list_alerts", timeout=WAIT))["alerts"]
            assert [(a["kind"], a["device"]) for a in alerts] == [("device_offline", "wall-1")]
            reply = await kiosk.request("issue_ticket", timeout=WAIT, service="civil")
            assert reply["ok"]
    asyncio.run(scenario())
