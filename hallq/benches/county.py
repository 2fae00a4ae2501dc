"""How many town halls' hubs one county host carries at their busiest hour.

N real hub processes on loopback, each a town hall (8 windows, a kiosk, a TV wall, an
evaluator, a terminal at every window, an admin: every device keeping its connection
alive with pings as the hall's programs do), each carrying the demo's busy hour at real
speed: citizens arrive at the kiosk at 100 an hour (the full demo's `HourPlan`), clerks
call, start, serve for about seven minutes (the demo's service times) and finish, citizens
rate. Every call is timed from the terminal's `call_next` to the hall's TV wall receiving
`ticket_called`. N grows (the halls already running keep their load) until that p99 reaches
50 ms, or the host's memory would run short; the figure is the largest N below 50 ms.

The load runs in this one process on the same cores as the hubs (a real county host's
devices are elsewhere), so the figure is a little pessimistic. `--quick` runs two sizes
at thirty times the hall's speed, only to check that it works.

    .venv/bin/python -m hallq.benches.county [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection

from caller.core.protocol import Event
from hallq.benches.hall import TOKEN
from hallq.benches.wire import device, percentile, reader, request
from hallq.demo_hour import RATING_MIX
from hallq.harness.hub import HubProcess

GOAL_MS = 50.0
WINDOWS = 8  # the demo hall's
SERVICES = ("civil", "labour", "family", "build", "finance")
ARRIVALS_PER_HOUR = 100.0  # the full demo's busy hour
SERVICE_S = 420.0  # mean time at the window (hallq/demo_hour.py), two minutes at least
RESERVE_MB = 3000  # memory left to everything else on the host
START_WORKERS = 4


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    speed: float  # hall seconds per real second
    warmup_s: float
    measure_s: float

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(sizes=(2, 4), speed=30.0, warmup_s=2.0, measure_s=6.0)
        return cls(sizes=(10, 25, 50, 100, 150, 200), speed=1.0, warmup_s=15.0, measure_s=90.0)


def town_hall(n: int) -> str:
    """TOML for town hall `n`: the bench's shared token, loopback only (demo)."""
    parts = [f'[hall]\nname = "基准乡镇{n:03d}便民服务中心"\ndemo = true\n']
    for i, service in enumerate(SERVICES):
        parts.append(f'[[services]]\nid = "{service}"\nname = "业务{i}"\nprefix = "{"ABCDE"[i]}"\n'
                     'numbers = [1, 999]\n')
    for w in range(1, WINDOWS + 1):
        served = ", ".join(f"{s} = 1" for s in SERVICES)
        parts.append(f'[[windows]]\nid = "{w}"\nname = "{w}号窗口"\nservices = {{ {served} }}\n')
    windows = ", ".join(f'"{w}"' for w in range(1, WINDOWS + 1))
    parts += [f'[[devices]]\nid = "kiosk-1"\nrole = "kiosk"\ntoken = "{TOKEN}"\n',
              f'[[devices]]\nid = "wall-1"\nrole = "display"\ntoken = "{TOKEN}"\n',
              f'[[devices]]\nid = "eval-1"\nrole = "evaluator"\ntoken = "{TOKEN}"\n'
              f'windows = [{windows}]\n',
              f'[[devices]]\nid = "admin"\nrole = "admin"\ntoken = "{TOKEN}"\n']
    parts += [f'[[devices]]\nid = "term-{w}"\nrole = "terminal"\ntoken = "{TOKEN}"\n'
              f'windows = ["{w}"]\n' for w in range(1, WINDOWS + 1)]
    return "\n".join(parts)


@dataclass
class Hall:
    """One hall's hub and its devices' connections, carrying the busy hour."""

    hub: HubProcess
    speed: float
    rnd: random.Random
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, ms)
    _sent_at: dict[str, float] = field(default_factory=dict)
    _conns: list[ClientConnection] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def _open(self, name: str, on_event=None) -> tuple[ClientConnection, dict]:
        conn = await device(self.hub.url, name, keepalive=True)
        pending: dict = {}
        self._conns.append(conn)
        self._tasks.append(asyncio.create_task(reader(conn, pending, on_event)))
        return conn, pending

    async def start(self) -> None:
        await self._open("wall-1", self._on_wall)
        await self._open("admin")
        kiosk = await self._open("kiosk-1")
        evaluator = await self._open("eval-1")
        terminals = [await self._open(f"term-{w}") for w in range(1, WINDOWS + 1)]
        self._tasks.append(asyncio.create_task(self._citizens(kiosk)))
        self._tasks += [asyncio.create_task(self._clerk(str(w), t, evaluator))
                        for w, t in enumerate(terminals, 1)]

    def _on_wall(self, event: dict) -> None:
        if event["event"] == Event.TICKET_CALLED:
            sent = self._sent_at.pop(event["window"], None)
            if sent is not None:
                self.latencies.append((sent, (time.perf_counter() - sent) * 1000))

    async def _sleep_hall(self, hall_seconds: float) -> None:
        await asyncio.sleep(hall_seconds / self.speed)

    async def _citizens(self, kiosk: tuple[ClientConnection, dict]) -> None:
        n = 0
        while True:
            await self._sleep_hall(self.rnd.expovariate(ARRIVALS_PER_HOUR / 3600))
            n += 1
            await request(*kiosk, f"i-{n}", type="issue_ticket",
                          service=self.rnd.choice(SERVICES))

    async def _clerk(self, window: str, terminal: tuple[ClientConnection, dict],
                     evaluator: tuple[ClientConnection, dict]) -> None:
        levels, weights = zip(*RATING_MIX, strict=True)
        await request(*terminal, "login", type="login", window=window, staff=f"10{window}")
        await self._sleep_hall(self.rnd.uniform(0, SERVICE_S))  # clerks not all in step
        n = 0
        while True:
            n += 1
            self._sent_at[window] = time.perf_counter()
            reply = await request(*terminal, f"c-{n}", type="call_next", window=window)
            if not reply["ok"]:
                self._sent_at.pop(window, None)
                await self._sleep_hall(30)
                continue
            await request(*terminal, f"s-{n}", type="start", window=window)
            await self._sleep_hall(max(120.0, self.rnd.expovariate(1 / SERVICE_S)))
            await request(*terminal, f"f-{n}", type="finish", window=window)
            await self._sleep_hall(self.rnd.uniform(2, 8))
            await request(*evaluator, f"r-{window}-{n}", type="rate", window=window,
                          level=self.rnd.choices(levels, weights)[0])

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self._conns), return_exceptions=True)


def available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def _start_hubs(work: Path, first: int, count: int) -> list[HubProcess]:
    def start(n: int) -> HubProcess:
        config = work / f"hall-{n:03d}.toml"
        config.write_text(town_hall(n), encoding="utf-8")
        return HubProcess(config, work / f"hall-{n:03d}.db", extra=["--log-level", "WARNING"]).start()

    with ThreadPoolExecutor(START_WORKERS) as pool:
        return list(pool.map(start, range(first, first + count)))


async def _grow(work: Path, plan: Plan, halls: list[Hall], hubs: list[HubProcess]) -> dict:
    results: dict = {"county_sizes": {}, "county_speed": plan.speed}
    for size in plan.sizes:
        adding = size - len(halls)
        rss = max((h.rss_mb() for h in hubs), default=60.0)
        if available_mb() - adding * rss * 1.5 < RESERVE_MB:
            results["county_stopped_by"] = f"memory: {available_mb():.0f} MB available"
            break
        new = await asyncio.to_thread(_start_hubs, work, len(halls), adding)
        hubs += new
        for hub in new:
            hall = Hall(hub, plan.speed, random.Random(len(halls)))
            await hall.start()
            halls.append(hall)
        await asyncio.sleep(plan.warmup_s)
        began = time.perf_counter()
        await asyncio.sleep(plan.measure_s)
        window = [ms for hall in halls for sent, ms in hall.latencies if sent >= began]
        p99 = percentile(window, 99)
        results["county_sizes"][size] = {"call_p99_ms": p99, "calls": len(window),
                                         "hub_rss_mb": round(max(h.rss_mb() for h in hubs), 1)}
        print(f"county: {size} halls, {len(window)} calls, p99 {p99} ms", file=sys.stderr, flush=True)
        if p99 is None or p99 >= GOAL_MS:
            results["county_stopped_by"] = f"p99 {p99} ms at {size} halls"
            break
        results["county_halls"], results["county_call_p99_ms"] = size, p99
    else:
        results["county_stopped_by"] = f"the largest size tried, {plan.sizes[-1]} halls"
    return results


def measure(quick: bool) -> dict:
    plan = Plan.for_mode(quick)
    halls: list[Hall] = []
    hubs: list[HubProcess] = []

    async def run() -> dict:
        try:
            return await _grow(work, plan, halls, hubs)
        finally:
            await asyncio.gather(*(h.close() for h in halls), return_exceptions=True)

    with tempfile.TemporaryDirectory(prefix="hallq-bench-county-") as tmp:
        work = Path(tmp)
        try:
            results = asyncio.run(run())
        finally:
            with ThreadPoolExecutor(START_WORKERS) as pool:
                list(pool.map(HubProcess.stop, hubs))
    results.setdefault("county_halls", 0)
    results.setdefault("county_call_p99_ms", None)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(measure(parser.parse_args().quick), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
