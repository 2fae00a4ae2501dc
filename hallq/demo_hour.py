"""The scripted busy hour of `hallq demo --headless`: citizens, clerks, ratings, a manager.

Citizens arrive at the real kiosk program (a generated tap script). Clerks at the
terminal windows work through the hub as their terminals do; clerks at the keypad
windows press keys on the simulated RS-485 keypads; citizens press the evaluators.
Everything runs on the hub's hall clock, which runs `speed` times faster than real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from caller.core.client import HubClient
from caller.core.config import HallConfig
from caller.core.protocol import Event, Role
from drivers.bus.simulator import BusSimulator

RATING_MIX = (("very_satisfied", 55), ("satisfied", 28), ("basic", 8), ("dissatisfied", 5),
              ("very_dissatisfied", 2))
# On a loaded machine the scripted kiosk falls behind the hall clock (a headless frame can
# take seconds); the hall stays open past its hour for it, up to this many times the hour's
# real length (and at least KIOSK_WAIT_MIN_S).
KIOSK_WAIT_FACTOR = 4.0
KIOSK_WAIT_MIN_S = 180.0
SERVICE_MIX = {"civil": 25, "labour": 25, "family": 10, "party": 8, "build": 10, "finance": 15,
               "green": 7}


@dataclass
class HourPlan:
    speed: float  # hall seconds per real second
    minutes: int  # hall minutes the hall is open for in the demo
    arrivals_per_hour: float
    seed: int = 7

    def real(self, hall_seconds: float) -> float:
        return hall_seconds / self.speed


def kiosk_script(plan: HourPlan, services: list[str]) -> tuple[str, int]:
    """Tap steps for the kiosk: one citizen after another. Returns (script, tickets)."""
    rnd = random.Random(plan.seed)
    weights = [SERVICE_MIX.get(s, 5) for s in services]
    lines = ["wait connected", "shot home"]
    n = 0
    t = 0.0
    while True:
        gap = rnd.expovariate(plan.arrivals_per_hour / 3600)
        t += gap
        if t > plan.minutes * 60 * 0.85:  # the last arrivals still get served
            break
        n += 1
        lines += [f"sleep {max(0.05, plan.real(gap)):.2f}",
                  f"tap service:{rnd.choices(services, weights)[0]}", "wait screen confirm"]
        if n == 1:
            lines.append("shot confirm")
        lines += ["tap confirm", f"wait printed {n}"]
        if n == 1:
            lines.append("shot result")
        lines += ["tap done", "wait screen home"]
    lines.append("shot home-end")
    return "\n".join(lines) + "\n", n


@dataclass
class HallWatch:
    """What the demo knows of the hall, from an admin client's events."""

    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    current: dict[str, str | None] = field(default_factory=dict)
    rating_windows: asyncio.Queue = field(default_factory=asyncio.Queue)
    bad_cases: asyncio.Queue = field(default_factory=asyncio.Queue)
    events: int = 0

    def on_event(self, e: dict) -> None:
        self.events += 1
        name = e["event"]
        if name == Event.TICKET_CALLED:
            self.calls[e["window"]] += 1
            self.current[e["window"]] = e["ticket"]["number"]
        elif name in (Event.TICKET_FINISHED, Event.TICKET_SKIPPED, Event.TICKET_HELD):
            self.current[e["window"]] = None
        elif name == Event.TICKET_TRANSFERRED:
            self.current[e["from_window"]] = None
        elif name == Event.RATING_REQUESTED:
            self.rating_windows.put_nowait(e["window"])
        elif name == Event.CASE_OPENED:
            self.bad_cases.put_nowait(e["case"]["id"])


class BusyHour:
    def __init__(self, config: HallConfig, plan: HourPlan, hub_url: str, bus: BusSimulator,
                 report: Callable[[str], None], screen_windows: set[str] | None = None) -> None:
        self.config, self.plan, self.url, self.bus = config, plan, hub_url, bus
        self.screen_windows = screen_windows or set()  # rated on the tablets (hallq.demo_screens)
        self.report = report
        self.rnd = random.Random(plan.seed + 1)
        self.watch = HallWatch()
        self.stop = asyncio.Event()
        self.counter = next(d for d in config.devices.values() if d.role == Role.COUNTER)
        self.addresses = {w: a for w, a in self.counter.options["addresses"].items()}
        self.terminals = {d.windows[0]: d for d in config.devices.values()
                          if d.role == Role.TERMINAL and len(d.windows) == 1}
        self.evaluator = next(d for d in config.devices.values() if d.role == Role.EVALUATOR)
        self.admin = next(d for d in config.devices.values() if d.role == Role.ADMIN)
        self.clients: list[HubClient] = []

    async def _client(self, device, **kw) -> HubClient:
        c = await HubClient(self.url, device.id, device.token, **kw).start(timeout=30)
        self.clients.append(c)
        return c

    async def sleep_hall(self, hall_seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), self.plan.real(hall_seconds))

    def service_time(self) -> float:
        """Hall seconds at the window: about seven minutes on average, two at least."""
        return max(120.0, self.rnd.expovariate(1 / 420))

    # ------------------------------------------------------------------ clerks

    async def terminal_clerk(self, window: str, device) -> None:
        c = await self._client(device)
        await c.request("login", window=window, staff=f"10{int(window):02d}")
        held: list[tuple[float, str]] = []
        paused_once = False
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            if window == "8" and not paused_once and self.watch.calls[window] >= 3:
                paused_once = True
                await c.request("pause", window=window, reason="临时离开")
                await self.sleep_hall(300)
                await c.request("resume", window=window)
            due = [h for h in held if h[0] <= loop.time()]
            if due:
                held.remove(due[0])
                reply = await c.request("call_held", window=window, ticket=due[0][1])
            else:
                reply = await c.request("call_next", window=window)
            if not reply["ok"]:
                await self.sleep_hall(30)
                continue
            number = reply["ticket"]["number"]
            roll = self.rnd.random()
            if roll < 0.05:  # nobody comes
                await self.sleep_hall(60)
                await c.request("recall", window=window)
                await self.sleep_hall(60)
                await c.request("skip", window=window)
                continue
            await c.request("start", window=window)
            if roll < 0.10:  # the wrong queue: first-asker responsibility, no queuing again
                await self.sleep_hall(90)
                others = [s for s in self.config.services if s != reply["ticket"]["service"]]
                await c.request("transfer", window=window, to_service=self.rnd.choice(others))
                continue
            if roll < 0.14 and not due:  # papers missing: hold, call back later
                await self.sleep_hall(60)
                await c.request("hold", window=window)
                held.append((loop.time() + self.plan.real(480), number))
                continue
            await self.sleep_hall(self.service_time())
            await c.request("finish", window=window)

    async def keypad_clerk(self, window: str, address: int) -> None:
        while not self.stop.is_set():
            before = self.watch.calls[window]
            self.bus.press(address, "call_next")
            if not await self._until(lambda w=window, b=before: self.watch.calls[w] > b, 30):
                await self.sleep_hall(45)
                continue
            roll = self.rnd.random()
            if roll < 0.04:
                await self.sleep_hall(60)
                self.bus.press(address, "recall")
                await self.sleep_hall(60)
                self.bus.press(address, "skip")
                continue
            if roll < 0.07 and window != "8":
                await self.sleep_hall(90)
                self.bus.press(address, "transfer", "08")
                continue
            await self.sleep_hall(self.service_time())
            self.bus.press(address, "finish")
            await self._until(lambda w=window: self.watch.current.get(w) is None, 10)

    async def _until(self, predicate: Callable[[], bool], hall_seconds: float) -> bool:
        deadline = asyncio.get_running_loop().time() + max(1.0, self.plan.real(hall_seconds))
        while not predicate():
            if asyncio.get_running_loop().time() > deadline or self.stop.is_set():
                return predicate()
            await asyncio.sleep(0.02)
        return True

    # ------------------------------------------------------------------ citizens and manager

    async def citizens_rate(self) -> None:
        evaluator = await self._client(self.evaluator)
        levels, weights = zip(*RATING_MIX, strict=True)
        while True:
            window = await self.watch.rating_windows.get()
            if window in self.screen_windows:
                continue
            if self.rnd.random() < 0.1:
                continue  # walks away without rating: the hub records the timeout
            level = self.rnd.choices(levels, weights)[0]
            asyncio.get_running_loop().call_later(
                self.plan.real(self.rnd.uniform(2, 8)),
                lambda w=window, lv=level: asyncio.ensure_future(self._rate(evaluator, w, lv)))

    async def _rate(self, evaluator: HubClient, window: str, level: str) -> None:
        address = self.addresses.get(window)
        if address is not None:
            if await self._until(lambda: self.bus.evaluator_lit(address), 5):
                self.bus.rate(address, level)
        elif window in self.evaluator.windows:
            await evaluator.request("rate", window=window, level=level)

    async def manager(self) -> None:
        admin = await self._client(self.admin, on_event=self.watch.on_event)
        first = True
        while True:
            case = await self.watch.bad_cases.get()
            self.report(f"  manager: bad rating, case #{case} opened")
            if not first:
                continue
            first = False
            await self.sleep_hall(180)
            await admin.request("case_callback", case=case, by="王主任", note="电话回访，群众反映等候时间长")
            await self.sleep_hall(300)
            await admin.request("case_rectify", case=case, by="王主任", cause="高峰期窗口不足",
                                fix="高峰时段增开8号综合窗口")
            await admin.request("case_close", case=case, by="王主任", outcome="群众表示理解，满意")
            alerts = (await admin.request("list_alerts"))["alerts"]
            for a in alerts[:1]:
                await admin.request("ack_alert", alert=a["id"], by="王主任")

    # ------------------------------------------------------------------ the hour

    async def run(self, until_done: Callable[[], bool], on_minute: Callable[[int], None]) -> None:
        """Work until `until_done()` (the kiosk's citizens have all arrived) and the queue
        is served or the hall time is up; if the kiosk is still not done after
        a few times the hour's real length, stop anyway (the summary says so)."""
        background = [asyncio.create_task(self.manager())]
        await self._until(lambda: self.watch.events > 0 or bool(self.clients), 10)
        background.append(asyncio.create_task(self.citizens_rate()))
        clerks = [asyncio.create_task(self.terminal_clerk(w, d)) for w, d in self.terminals.items()]
        clerks += [asyncio.create_task(self.keypad_clerk(w, a)) for w, a in self.addresses.items()]
        started = asyncio.get_running_loop().time()
        kiosk_wait = max(KIOSK_WAIT_MIN_S, KIOSK_WAIT_FACTOR * self.plan.real(self.plan.minutes * 60))
        minute = 0
        while True:
            await asyncio.sleep(0.2)
            real_elapsed = asyncio.get_running_loop().time() - started
            hall_elapsed = real_elapsed * self.plan.speed
            if int(hall_elapsed // 60) > minute:
                minute = int(hall_elapsed // 60)
                on_minute(minute)
            waiting = await self._waiting()
            overtime = hall_elapsed > (self.plan.minutes + 30) * 60
            if until_done() and (waiting == 0 or overtime):
                break
            if real_elapsed > kiosk_wait:
                break
        await self.sleep_hall(300)  # the last citizens finish and rate
        self.stop.set()
        await asyncio.gather(*clerks, return_exceptions=True)
        await asyncio.sleep(max(1.0, self.plan.real(30)))
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)

    async def _waiting(self) -> int:
        if not self.clients:
            return -1
        reply = await self.clients[0].request("snapshot", timeout=10)
        return sum(s["waiting"] for s in reply["snapshot"]["services"])

    async def close(self) -> None:
        for c in self.clients:
            await c.close()
