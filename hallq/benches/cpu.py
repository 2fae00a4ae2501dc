"""What the hub costs: its CPU time (user + system, all threads) per ticket, per call,
per hello and per idle connection-minute, each over a fixed workload on a fresh hub; of
the ticket and call figures also the event-loop thread's part (`..._loop`: the rest is
the commit thread, which makes each batch durable, and the interpreter's handing over).

Each workload runs twice: once plainly for the figure, once with the hub under cProfile
(`hallq.benches.profiled`) recording only the measured stretch, between the workload's
two readings of the hub's CPU, for a profile kept in the output folder, with the top
functions as text beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import pstats
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from hallq.benches.hall import WINDOWS, hall_devices
from hallq.benches.wire import (
    CallLoad,
    close_all,
    device,
    devices,
    fill_queue,
    issue_tickets,
    kiosk_names,
    reader,
)
from hallq.harness.hub import HubProcess

PROFILE_TOP = 25

Meter = Callable[[], float]


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of a process and all its threads, from /proc/PID/stat (of
    one of its threads, from /proc/PID/task/TID/stat)."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces; fields 3.. follow it
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loop_thread_seconds(pid: int) -> float:
    """User + system CPU time of the process's first thread, where its event loop runs."""
    return cpu_seconds(pid, thread=pid)


class SplitMeter:
    """Reads the hub's CPU, and what its event-loop thread used of it (the rest went to
    the commit thread and the others)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.readings: list[tuple[float, float]] = []  # (whole process, event-loop thread)

    def __call__(self) -> float:
        self.readings.append((cpu_seconds(self.pid), loop_thread_seconds(self.pid)))
        return self.readings[-1][0]

    def loop_part(self) -> float:
        """The event loop's part of the CPU between the last two readings (the measured
        stretch of a ticket or call workload)."""
        (whole0, loop0), (whole1, loop1) = self.readings[-2:]
        return (loop1 - loop0) / (whole1 - whole0) if whole1 > whole0 else 0.0


class ProfilingMeter:
    """Reads the hub's CPU like the plain meter, and has the hub profile what lies between
    each pair of readings (the workload's measured stretches)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        if self.reads % 2 == 0:
            os.kill(self.pid, signal.SIGUSR2)  # stop, and write what was recorded
        value = cpu_seconds(self.pid)
        if self.reads % 2 == 1:
            os.kill(self.pid, signal.SIGUSR1)
        return value


@dataclass(frozen=True)
class Sizes:
    tickets: int
    calls: int
    hellos: int
    idle_conns: int
    idle_s: float
    idle_baseline_s: float

    @classmethod
    def for_mode(cls, quick: bool) -> Sizes:
        if quick:  # an idle run still spans one keepalive ping (every 10 s)
            return cls(tickets=1000, calls=200, hellos=60, idle_conns=50, idle_s=11.0,
                       idle_baseline_s=4.0)
        return cls(tickets=10_000, calls=2000, hellos=300, idle_conns=200, idle_s=60.0,
                   idle_baseline_s=20.0)


async def per_ticket(url: str, meter: Meter, sizes: Sizes) -> float:
    """20 kiosks in a closed loop while 10 TV walls receive every event."""
    walls = await devices(url, [f"wall-{d}" for d in range(10)])
    readers = [asyncio.create_task(reader(w, {})) for w in walls]
    kiosks = await devices(url, kiosk_names())
    before = meter()
    issued, _ = await issue_tickets(kiosks, count=sizes.tickets)
    cost = meter() - before
    for task in readers:
        task.cancel()
    await close_all([*kiosks, *walls])
    return cost * 1000 / max(issued, 1)


async def per_call(url: str, meter: Meter, sizes: Sizes) -> float:
    """call_next at 100 calls/s round-robin over the windows, with 50 TV walls."""
    await fill_queue(url, sizes.calls + sizes.calls // 2)
    load = await CallLoad(url, displays=50).open()
    before = meter()
    latencies = await load.run(sizes.calls / 100.0, settle_s=0.5)
    cost = meter() - before
    await load.close()
    return cost * 1000 / max(len(latencies) / 50, 1)


async def per_hello(url: str, meter: Meter, sizes: Sizes) -> float:
    """Connect, hello, welcome with the snapshot of a busy hall, close; one after another."""
    await fill_queue(url, WINDOWS * 2)
    names = hall_devices()
    before = meter()
    for n in range(sizes.hellos):
        conn = await device(url, names[n % len(names)])
        await conn.close()
    return (meter() - before) * 1000 / sizes.hellos


async def per_idle_minute(url: str, meter: Meter, sizes: Sizes) -> float:
    """Connections that only keep alive (the hub pings each every 10 s, and each pings
    the hub as the device programs do); the hub's own idle cost (its ticker), measured
    first with no connection, is taken off."""
    before = meter()
    await asyncio.sleep(sizes.idle_baseline_s)
    alone_per_s = (meter() - before) / sizes.idle_baseline_s
    names = hall_devices()[:sizes.idle_conns]
    conns = await devices(url, names, keepalive=True)
    readers = [asyncio.create_task(reader(c, {})) for c in conns]
    before = meter()
    await asyncio.sleep(sizes.idle_s)
    cost = meter() - before - alone_per_s * sizes.idle_s
    for task in readers:
        task.cancel()
    await close_all(conns)
    return max(cost, 0.0) * 1000 / (len(conns) * sizes.idle_s / 60)


WORKLOADS: dict[str, tuple[str, Callable[[str, Meter, Sizes], Awaitable[float]]]] = {
    "ticket": ("cpu_ms_per_ticket", per_ticket),
    "call": ("cpu_ms_per_call", per_call),
    "hello": ("cpu_ms_per_hello", per_hello),
    "idle": ("cpu_ms_per_idle_conn_min", per_idle_minute),
}


SPLIT = ("ticket", "call")  # whose figure also says the event-loop thread's part (KEY_loop)


def write_profile_summary(prof: Path) -> None:
    """The top functions by cumulative time, as text beside the .prof."""
    out = io.StringIO()
    stats = pstats.Stats(str(prof), stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(PROFILE_TOP)
    prof.with_suffix(".txt").write_text(out.getvalue(), encoding="utf-8")


def _run_one(config: Path, db: Path, name: str, sizes: Sizes,
             profile: Path | None) -> tuple[float, float]:
    """The workload's figure, and the event-loop thread's part of it (0..1; 0 when profiled)."""
    # absolute: the hub runs in the repository's folder, not in ours
    python_args = ["-m", "hallq.benches.profiled", str(profile.resolve())] if profile else []
    hub = HubProcess(config, db, extra=["--log-level", "WARNING"], python_args=python_args).start()
    try:
        pid = hub.proc.pid
        meter = ProfilingMeter(pid) if profile else SplitMeter(pid)
        value = asyncio.run(WORKLOADS[name][1](hub.url, meter, sizes))
        if profile:
            _wait_for(profile)
    finally:
        hub.stop()
    return value, meter.loop_part() if isinstance(meter, SplitMeter) else 0.0


def _wait_for(profile: Path, timeout_s: float = 30.0) -> None:
    """The hub writes the profile when it handles the last SIGUSR2, between two events."""
    deadline = time.monotonic() + timeout_s
    while not profile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def measure(work: Path, config: Path, out: Path, quick: bool, profile: bool = True,
            only: list[str] | None = None) -> dict:
    """Every cost figure (or those of the workloads named in `only`); with `profile`,
    also out/profile-NAME.prof and .txt."""
    sizes = Sizes.for_mode(quick)
    results: dict = {}
    for name, (key, _) in WORKLOADS.items():
        if only is not None and name not in only:
            continue
        value, loop_part = _run_one(config, work / f"cpu-{name}.db", name, sizes, None)
        results[key] = round(value, 3)
        if name in SPLIT:
            results[f"{key}_loop"] = round(value * loop_part, 3)
        if profile:
            prof = out / f"profile-{name}.prof"
            prof.unlink(missing_ok=True)
            _run_one(config, work / f"cpu-{name}-prof.db", name, sizes, prof)
            if not prof.exists():
                raise RuntimeError(f"the profiled hub wrote no {prof}")
            write_profile_summary(prof)
    results["cpu_workloads"] = (f"{sizes.tickets} tickets (20 kiosks, 10 walls); {sizes.calls} calls "
                                f"at 100/s (50 walls); {sizes.hellos} hellos; {sizes.idle_conns} "
                                f"idle connections for {sizes.idle_s:g} s")
    return results


def main() -> None:
    """`python -m hallq.benches.cpu`: these figures alone, `--runs` times each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help=f"comma-separated workloads of {', '.join(WORKLOADS)}")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", default="out/bench")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    only = args.only.split(",") if args.only else None
    if only is not None and not set(only) <= WORKLOADS.keys():
        parser.error(f"--only: expected some of {', '.join(WORKLOADS)}")
    from hallq.benches.hall import generated_hall

    Path(args.out).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hallq-bench-cpu-") as tmp:
        config = Path(tmp) / "hall.toml"
        config.write_text(generated_hall(), encoding="utf-8")
        for run in range(args.runs):
            work = Path(tmp) / str(run)
            work.mkdir()
            figures = measure(work, config, Path(args.out), args.quick,
                              profile=not args.no_profile and run == 0, only=only)
            figures["load"] = os.getloadavg()[0]
            print(json.dumps(figures, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
