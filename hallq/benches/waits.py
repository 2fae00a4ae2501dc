"""How right the wait estimate is: the demo's busy hour replayed on the engine, on the hall
clock, and the estimate each citizen was given at issue time (the ticket's and the page's
`wait_min`) held against the wait that followed (issue to first call).

The hour is the demo's (`hallq.demo_hour`): the demo hall, every window staffed from 09:00,
citizens arriving at 100 an hour for 51 minutes with the demo's mix of services, about
seven minutes at the window (two at least), and the demo's clerks' habits: 5 % do not come
(recalled after a minute, passed after two), 5 % asked for the wrong service (transferred
after a minute and a half), 4 % missing papers (held, called back eight minutes later), and
window 8 away for five minutes after its third call. A window with nothing to call looks
again 30 s later. The hour runs until every ticket was called.

    .venv/bin/python -m hallq.benches.waits
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from caller.core.config import HallConfig, default_config_path, load_config
from caller.hub.engine import Engine
from hallq.benches.wire import percentile
from hallq.demo_hour import SERVICE_MIX, HourPlan

START = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday
PLAN = HourPlan(speed=1.0, minutes=60, arrivals_per_hour=100, seed=7)
RETRY_S = 30.0


def replay(config: HallConfig, plan: HourPlan = PLAN) -> list[tuple[float, float]]:
    """(estimated minutes at issue, real minutes waited) for every ticket of the hour."""
    rnd = random.Random(plan.seed)
    engine = Engine(config, START)
    order = itertools.count()
    events: list[tuple[float, int, str, dict]] = []

    def at(seconds: float, kind: str, **data: object) -> None:
        heapq.heappush(events, (seconds, next(order), kind, data))

    def handle(seconds: float, kind: str, **args: object) -> dict:
        reply, _ = engine.handle({"type": kind, "device": "admin", **args},
                                 START + timedelta(seconds=seconds), seconds)
        return reply

    for n, wid in enumerate(config.windows):
        handle(0.0, "login", window=wid, staff=f"10{n:02d}")
        at(0.0, "call", window=wid)
    services = list(config.services)
    weights = [SERVICE_MIX.get(s, 5) for s in services]
    t = 0.0
    while True:
        t += rnd.expovariate(plan.arrivals_per_hour / 3600)
        if t > plan.minutes * 60 * 0.85:
            break
        at(t, "arrive", service=rnd.choices(services, weights)[0])
    estimates: dict[int, tuple[float, float]] = {}  # ticket id -> (issued s, estimate min)
    waited: dict[int, float] = {}
    calls: dict[str, int] = dict.fromkeys(config.windows, 0)
    held: dict[str, list[int]] = {w: [] for w in config.windows}
    paused_once = False
    while events:
        now, _, kind, data = heapq.heappop(events)
        window = data.get("window")
        if kind == "arrive":
            reply = handle(now, "issue_ticket", service=data["service"])
            if reply["ok"] and reply["wait_min"] is not None:
                estimates[reply["ticket"]["id"]] = (now, float(reply["wait_min"]))
        elif kind == "call":
            if window == "8" and not paused_once and calls["8"] >= 3:
                paused_once = True
                handle(now, "pause", window="8", reason="临时离开")
                at(now + 300, "resume", window="8")
                continue
            due = held[window]
            reply = (handle(now, "call_held", window=window, ticket=due.pop(0)) if due
                     else handle(now, "call_next", window=window))
            if not reply["ok"]:
                if now <= t or busy(engine):  # nothing more comes once all are called
                    at(now + RETRY_S, "call", window=window)
                continue
            calls[window] += 1
            tid = reply["ticket"]["id"]
            waited.setdefault(tid, now)
            roll = rnd.random()
            if roll < 0.05:
                at(now + 60, "recall", window=window)
                at(now + 120, "skip", window=window)
            elif roll < 0.10:
                at(now + 90, "transfer", window=window,
                   to=rnd.choice([s for s in services if s != reply["ticket"]["service"]]))
            elif roll < 0.14 and not due:
                at(now + 60, "hold", window=window, ticket=tid)
            else:
                at(now + max(120.0, rnd.expovariate(1 / 420)), "finish", window=window)
        elif kind == "resume":
            handle(now, "resume", window=window)
            at(now, "call", window=window)
        elif kind == "recall":
            handle(now, "recall", window=window)
        elif kind == "transfer":
            handle(now, "transfer", window=window, to_service=data["to"])
            at(now, "call", window=window)
        elif kind == "hold":
            handle(now, "hold", window=window)
            at(now + 480, "due", window=window, ticket=data["ticket"])
            at(now, "call", window=window)
        elif kind == "due":
            held[window].append(data["ticket"])
        else:  # skip, finish
            handle(now, kind, window=window)
            at(now, "call", window=window)
    return [(estimate, (waited[tid] - issued) / 60) for tid, (issued, estimate) in estimates.items()
            if tid in waited]


def busy(engine: Engine) -> bool:
    """Tickets still waiting, at a window or held."""
    return any(engine.waiting_counts().values()) or any(
        t.state in ("called", "held") for t in engine.tickets.values()) or any(
        engine.window_waiting(w) for w in engine.config.windows)


def measure(quick: bool = False) -> dict:
    """The estimate's errors, in minutes. The replay takes well under a second, so --quick
    runs the same hour."""
    pairs = replay(load_config(default_config_path()))
    errors = sorted(abs(est - real) for est, real in pairs)
    if not errors:
        return {"wait_estimate_mae_min": None, "wait_estimate_p90_err_min": None}
    return {"wait_estimate_mae_min": round(sum(errors) / len(errors), 2),
            "wait_estimate_p90_err_min": percentile(errors, 90),
            "wait_estimate_tickets": len(errors),
            "wait_real_mean_min": round(sum(r for _, r in pairs) / len(pairs), 2)}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1))
