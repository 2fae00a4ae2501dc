"""How fast the citizens' ticket pages follow the hall, and what they cost the web server:
`pages` live ticket pages open at once (Server-Sent Events, two phones per ticket), a
clerk calls the next ticket, and each page's stream delivers its ticket's new place; the
time from the call sent to each page's update, and the server's memory with all open.

Real programs on loopback: a hub (the demo hall publishing ticket pages) and `hallq web`.
The phones are plain HTTP connections from this process, spread over loopback addresses
(127.0.2.x) as phones come from many addresses, so the per-address limits hold.

    .venv/bin/python -m hallq.benches.citizen --pages 1000 --calls 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from caller.core.client import HubClient
from caller.core.config import default_config_path
from caller.core.loops import loop_factory
from hallq.benches.cpu import cpu_seconds
from hallq.benches.wire import percentile
from hallq.harness.hub import HubProcess
from hallq.harness.web import WebProcess, free_port, publishing_config

HALL_MONDAY_9AM = "2026-11-23T09:00:00+08:00"
PAGES_PER_ADDRESS = 20  # under the per-address limit of streams opened a minute
LIMITS = '\n[limits]\nadmin = { per_s = 2000, burst = 5000 }\n'


class Phone:
    """One open ticket page: its event stream, and when each update arrived."""

    def __init__(self, host: str, port: int, path: str, source: str) -> None:
        self.host, self.port, self.path, self.source = host, port, path, source
        self.updates: list[tuple[float, bytes]] = []  # (arrived, the view's JSON)
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port,
                                                       local_addr=(self.source, 0))
        writer.write(f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        # whole reads, each timed once and split into messages: a thousand phones in one
        # process would otherwise time their own line-by-line parsing, not the server
        rest = b""
        try:
            while chunk := await reader.read(65536):
                at = time.perf_counter()
                *messages, rest = (rest + chunk).split(b"\n\n")
                for message in messages:
                    if b"\ndata: " in message:
                        self.updates.append((at, message.rpartition(b"data: ")[2]))
                        self.ready.set()
        finally:
            writer.close()

    def state(self) -> str:
        return json.loads(self.updates[-1][1])["state"]


async def _run(hub: HubProcess, web: WebProcess, token: str, pages: int, calls: int) -> dict:
    admin = await HubClient(hub.url, "admin", token).start(timeout=30)
    await admin.request("login", window="1", staff="1001")
    tickets = []
    for _ in range((pages + 1) // 2):
        reply = await admin.request("issue_ticket", service="civil")
        assert reply.get("status_url"), reply
        tickets.append(urlsplit(reply["status_url"]).path + "/events")
    url = urlsplit(web.url)
    phones = [Phone(url.hostname, url.port, tickets[i // 2],
                    f"127.0.2.{1 + i // PAGES_PER_ADDRESS}") for i in range(pages)]
    for phone in phones:
        phone.task = asyncio.create_task(phone.run())
    started = time.perf_counter()
    while not all(p.ready.is_set() for p in phones):
        failed = [p.task for p in phones if p.task.done()]
        if failed:
            failed[0].result()  # raises what stopped it
            raise RuntimeError(f"a ticket page's stream ended: {phones.index(failed[0])}")
        if time.perf_counter() - started > 120:
            raise RuntimeError(f"{sum(not p.ready.is_set() for p in phones)} pages never opened")
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    rss = web.rss_mb()
    latencies: list[float] = []
    missed = 0
    cpu_before = cpu_seconds(web.proc.pid)
    for _ in range(calls):
        # every page whose ticket still waits or is at the window moves with this call
        waiting = [i for i, p in enumerate(phones) if p.state() != "done"]
        seen = [len(p.updates) for p in phones]
        sent = time.perf_counter()
        await admin.request("call_next", window="1")
        deadline = sent + 10
        while waiting and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
            waiting = [i for i in waiting if len(phones[i].updates) == seen[i]]
        missed += len(waiting)
        latencies += [(p.updates[seen[i]][0] - sent) * 1000 for i, p in enumerate(phones)
                      if len(p.updates) > seen[i]]
        await admin.request("finish", window="1")
        await asyncio.sleep(0.3)  # the finish's own update passes before the next call
    cpu_ms = (cpu_seconds(web.proc.pid) - cpu_before) * 1000 / calls
    for phone in phones:
        phone.task.cancel()
    await asyncio.gather(*(p.task for p in phones), return_exceptions=True)
    await admin.close()
    if missed:
        raise RuntimeError(f"{missed} page updates did not come within 10 s of their call")
    return {"status_page_p50_ms": round(statistics.median(latencies), 1),
            "status_page_p99_ms": round(percentile(latencies, 99), 1),
            "status_pages_rss_mb": round(rss, 1), "status_pages": pages,
            "status_page_updates": len(latencies),
            # the server's CPU for one call and its finish, each moving every page
            "status_page_web_cpu_ms": round(cpu_ms, 1)}


def measure(quick: bool = False, pages: int | None = None, calls: int | None = None) -> dict:
    pages = pages or (100 if quick else 1000)
    calls = calls or (3 if quick else 10)
    with tempfile.TemporaryDirectory(prefix="hallq-citizen-") as tmp:
        work = Path(tmp)
        port = free_port()
        config = publishing_config(default_config_path(), work, f"http://127.0.0.1:{port}")
        # one queue of 500 (past the demo's daily cap of 民政救济): every call moves every page
        text = config.read_text(encoding="utf-8").replace("daily_cap = 200", "daily_cap = 999")
        config.write_text(text + LIMITS, encoding="utf-8")
        db = work / "hall.db"
        # the phones on uvloop too: their own reading is timed with the server's
        with HubProcess(config, db, start_time=HALL_MONDAY_9AM) as hub, \
                WebProcess(config, db, hub.url, port=port) as web, \
                asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(_run(hub, web, "demo-admin", pages, calls))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(measure(pages=args.pages, calls=args.calls), indent=1))
