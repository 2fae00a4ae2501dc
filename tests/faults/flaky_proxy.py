"""A TCP proxy on loopback that forwards to the hub and, every so often, cuts every
connection it carries at once (a reset, as when a hall's switch or Wi-Fi drops).

A cut at a random moment mostly lands while nothing is in flight, and then tests little.
So 1–2 s (seeded) after the last cut the proxy waits for the worst moment: the hub
answering a client that is waiting for an answer. That answer is thrown away and every
connection is reset, so the client must resend a request the hub has already carried
out. If no such moment comes within ``ARMED_S``, it cuts anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

CHUNK = 65536
ARMED_S = 1.0


class FlakyProxy:
    """``await start()`` returns the port to connect to instead of ``target_port``.

    ``cuts`` counts the cuts, ``lost_answers`` those that threw an answer away, and
    ``severed`` the connections they ended."""

    def __init__(self, target_port: int, rng: random.Random,
                 cut_every: tuple[float, float] = (1.0, 2.0)) -> None:
        self.target_port = target_port
        self.rng = rng
        self.cut_every = cut_every
        self.cuts = 0
        self.lost_answers = 0
        self.severed = 0
        self._links: set[_Link] = set()
        self._armed = False
        self._cut_done = asyncio.Event()
        self._handlers: set[asyncio.Task] = set()
        self._server: asyncio.Server | None = None
        self._cutter: asyncio.Task | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._carry, "127.0.0.1", 0)
        self._cutter = asyncio.create_task(self._cut_now_and_then())
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._cutter is not None:
            self._cutter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._cutter
        if self._server is not None:
            self._server.close()
        self._armed = False
        self._reset_all()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _reset_all(self) -> None:
        links, self._links = self._links, set()
        for link in links:
            link.reset()
        self.severed += len(links)

    def _cut(self) -> None:
        self._armed = False
        self._reset_all()
        self.cuts += 1
        self._cut_done.set()

    async def _cut_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(self.rng.uniform(*self.cut_every))
            self._cut_done.clear()
            self._armed = True
            try:
                await asyncio.wait_for(self._cut_done.wait(), ARMED_S)
            except TimeoutError:
                self._cut()

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                writer.transport.abort()
                return
            link = _Link(writer, up_writer)
            self._links.add(link)
            try:
                await asyncio.gather(self._upstream(link, reader), self._downstream(link, up_reader))
            finally:
                self._links.discard(link)
                link.reset()
        finally:
            self._handlers.discard(task)

    async def _upstream(self, link: _Link, client: asyncio.StreamReader) -> None:
        """Client → hub; from here on the client waits for an answer."""
        with contextlib.suppress(OSError):
            while data := await client.read(CHUNK):
                link.upstream.write(data)
                await link.upstream.drain()
                link.owed = True
        link.reset()

    async def _downstream(self, link: _Link, hub: asyncio.StreamReader) -> None:
        """Hub → client, unless this is the answer the armed proxy was waiting for."""
        with contextlib.suppress(OSError):
            while data := await hub.read(CHUNK):
                if self._armed and link.owed:
                    self.lost_answers += 1
                    self._cut()
                    return
                link.client.write(data)
                await link.client.drain()
                link.owed = False
        link.reset()


class _Link:
    """One client connection and the proxy's connection to the hub on its behalf."""

    def __init__(self, client: asyncio.StreamWriter, upstream: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream = upstream
        self.owed = False

    def reset(self) -> None:
        self.client.transport.abort()
        self.upstream.transport.abort()
