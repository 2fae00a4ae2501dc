"""A hub that says exactly what a test scripts, over a real websocket on loopback.

The real hub checks what it accepts; a device must still survive whatever a hub sends
(an older hub, a bug, a database edited by hand). This one answers every ``hello`` with
the scripted welcome, sends scripted events, and answers every request ``ok`` (a
``snapshot`` request with the scripted snapshot), keeping the requests so a test can see
what a device reported.
"""

from __future__ import annotations

import asyncio
import json
from typing import Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


class ScriptedHub:
    """``async with ScriptedHub(snapshot) as hub``: devices connect to ``hub.url``."""

    def __init__(self, snapshot: dict) -> None:
        self.snapshot = snapshot
        self.seq = 1
        self.requests: asyncio.Queue[dict] = asyncio.Queue()
        self._server: Server | None = None
        self._connections: set[ServerConnection] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}/"

    async def __aenter__(self) -> Self:
        self._server = await serve(self._session, "127.0.0.1", 0, compression=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def event(self, name: str, **fields: object) -> None:
        """Send one event to every connected device."""
        self.seq += 1
        frame = json.dumps({"type": "event", "seq": self.seq, "event": name, **fields})
        for conn in list(self._connections):
            await conn.send(frame)

    async def request(self, kind: str, timeout: float) -> dict:
        """The next request of type ``kind`` a device sent (others are skipped)."""
        async def find() -> dict:
            while (request := await self.requests.get())["type"] != kind:
                pass
            return request
        return await asyncio.wait_for(find(), timeout)

    async def _session(self, conn: ServerConnection) -> None:
        json.loads(await conn.recv())  # the hello; any device is welcome
        await conn.send(json.dumps({"type": "welcome", "seq": self.seq, "snapshot": self.snapshot}))
        self._connections.add(conn)
        try:
            async for frame in conn:
                request = json.loads(frame)
                self.requests.put_nowait(request)
                reply = {"type": "reply", "id": request.get("id"), "ok": True}
                if request.get("type") == "snapshot":
                    reply["snapshot"] = self.snapshot
                await conn.send(json.dumps(reply))
        except ConnectionClosed:
            pass  # the device went away: that is its own business
        finally:
            self._connections.discard(conn)
