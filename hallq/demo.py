"""`hallq demo`: the whole hall on one machine.

With a screen it opens the kiosk, the TV wall and two window terminals, with the hub,
the counter bridge and the LED bridge on simulated serial lines, and keypad clerks at
windows 3–7 so the hall is busy; Ctrl-C (or SIGTERM) stops everything. Without one
(`--headless`, or no screen found) it runs a scripted busy hour and writes what a person
would look at into one folder: printed tickets, TV wall screenshots, LED strips, voice WAVs,
the manager's report and a summary that checks they all agree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from caller.core.cli import add_config_option, exits_on_config_error
from caller.core.config import HallConfig
from caller.core.protocol import Role
from caller.core.schedule import is_workday
from drivers.bus.simulator import BusSimulator
from drivers.led.simulator import LedLineSimulator
from hallq.check_config import load_checked
from hallq.demo_bookings import EXPECTED, Appointments, booking_config
from hallq.demo_central import agreement, shipping_config, start_shipper
from hallq.demo_console import phone_screenshots, screenshots, start_console
from hallq.demo_hour import BusyHour, HourPlan, kiosk_script
from hallq.demo_screens import Tablets, paced_config, seed_roster
from hallq.demo_summary import check, write_summary
from hallq.demo_swipes import SERVICE, VISITS, Citizens, book_today, real_name_config, script_lines
from hallq.harness.postgres import Postgres, PostgresMissing
from hallq.harness.web import publish_pages
from hallq.supervisor import Program, Supervisor, hallq_argv


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)
    parser.add_argument("--out", default="out/demo", help="folder for everything the demo makes")
    parser.add_argument("--headless", action="store_true",
                        help="no windows: run the scripted busy hour (default without a screen)")
    parser.add_argument("--quick", action="store_true", help="a short hour (about a minute)")
    parser.add_argument("--port", type=int, default=0, help="hub port (default: a free one)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--central", action="store_true",
                        help="also start a local PostgreSQL as the centre and `hallq ship` beside "
                        "the hub (docs/central.md); the summary checks the centre agrees")


def has_screen() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def opening_morning(config: HallConfig) -> datetime:
    """09:00 on the next Monday–Thursday working day (Friday afternoons are closed)."""
    day = datetime.now(config.hall.tz).date()
    while not (is_workday(config.hall, day) and day.weekday() < 4):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=config.hall.tz)


BROWSER_STOP_S = 60.0


class Hall:
    """The processes and simulators of one demo hall."""

    def __init__(self, config: HallConfig, out: Path, port: int, report,
                 centre: Postgres | None = None, web_port: int | None = None) -> None:
        self.config, self.out, self.report, self.centre = config, out, report, centre
        self.port = port or free_port()
        self.web_port = web_port or free_port()
        self.url = f"ws://127.0.0.1:{self.port}/"
        self.sup = Supervisor(out / "logs", on_report=report)
        self.counter = next(d for d in config.devices.values() if d.role == Role.COUNTER)
        self.led = next(d for d in config.devices.values() if d.role == Role.LED)
        (out / "dev").mkdir(parents=True, exist_ok=True)
        self.bus = BusSimulator(out / "dev" / self.counter.id,
                                keypads=self.counter.options["addresses"].values(),
                                evaluators=self.counter.options["addresses"].values())
        self.strips = LedLineSimulator(self.led.options["protocol"], out / "dev" / self.led.id)
        self.console_shots: threading.Thread | None = None
        self.tablets: Tablets | None = None

    def start_core(self, start_time: datetime, speed: float) -> None:
        cfg = self.config.path
        self.sup.start(Program("hub", hallq_argv(
            "hub", "--config", cfg, "--db", str(self.out / "hall.db"), "--port", str(self.port),
            "--start-time", start_time.isoformat(), "--speed", str(speed))))
        self._wait_for_hub()
        seed_roster(self.config, self.url, self.out / "evaluator", self.report)
        if self.centre is not None:
            start_shipper(self.sup, self.config, self.out / "hall.db", self.url)
        self.sup.start(Program("counter", hallq_argv(
            "counter", "--config", cfg, "--device", self.counter.id, "--hub", self.url,
            "--port", str(self.bus.link))))
        self.sup.start(Program("led", hallq_argv(
            "led", "--config", cfg, "--device", self.led.id, "--hub", self.url,
            "--port", str(self.strips.link))))
        self.console = start_console(self.sup, self.config, self.out / "hall.db", self.url,
                                     self.web_port, self.report)

        def shots() -> None:
            screenshots(self.console, self.out / "console", self.report)
            phone_screenshots(self.console, self.out / "hall.db", self.out / "phone", self.report)

        # Playwright's own loop needs a thread of its own beside the busy hour's
        self.console_shots = threading.Thread(target=shots, daemon=True)
        web = next((d for d in self.config.devices.values() if d.role == Role.WEB), None)
        screens = sorted(self.config.screen_evaluators(web.id)) if web else []
        self.tablets = (Tablets(self.console, screens, self.out / "evaluator", self.report)
                        if self.console and screens and shutil.which("chromium") else None)

    def _wait_for_hub(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the hub did not start; see {self.out / 'logs' / 'hub.log'}")

    def stop(self) -> None:
        if self.tablets is not None:
            self.tablets.stop()
        self.sup.stop()
        # Playwright's greenlets still running in a thread when the interpreter exits crash
        # it (a segmentation fault on Ctrl-C or SIGTERM): the browsers end first. With the
        # console gone, what they still wait for fails within Playwright's timeouts.
        for browser in (self.tablets, self.console_shots):
            if browser is not None and browser.is_alive():
                browser.join(BROWSER_STOP_S)
        self.bus.close()
        self.strips.close()


# ---------------------------------------------------------------------- headless


async def busy_hour(hall: Hall, plan: HourPlan, kiosk_done) -> BusyHour:
    hour = BusyHour(hall.config, plan, hall.url, hall.bus, hall.report,
                    screen_windows=set(hall.tablets.windows) if hall.tablets else set())
    appointments = Appointments(hall.config, plan, hall.url, hall.report)
    phones = asyncio.create_task(appointments.run())

    def on_minute(minute: int) -> None:
        if minute == plan.minutes // 2 and hall.console:  # the console while the hall is busy
            hall.console_shots.start()
        if minute % 15 == 0:
            hall.sup.write("wall", "sleep 0.5")
            hall.sup.write("wall", f"shot wall-{minute:03d}min")
            hall.strips.render_all_png(hall.out / "led" / f"{minute:03d}min")
            hall.report(f"  hall time +{minute} min: {sum(hour.watch.calls.values())} calls")

    try:
        await hour.run(lambda: kiosk_done() and appointments.done, on_minute)
    except asyncio.CancelledError:  # stopped by a signal
        phones.cancel()
        raise
    finally:
        await hour.close()
        await asyncio.gather(phones, return_exceptions=True)
    return hour


def run_headless(config: HallConfig, out: Path, args: argparse.Namespace, report,
                 stops: StopSignals, centre: Postgres | None = None) -> int:
    # The scripted kiosk needs about 4 s a citizen on a 2-core machine that also runs the
    # hall's other screens and browsers: at 15x the busy hour's 100 citizens are through it
    # before the morning closes (11:30); at 30x the kiosk fell behind and a closed service
    # stopped its script.
    plan = HourPlan(speed=45.0, minutes=15, arrivals_per_hour=70, seed=args.seed) if args.quick \
        else HourPlan(speed=15.0, minutes=60, arrivals_per_hour=100, seed=args.seed)
    start = opening_morning(config)
    report(f"hallq demo: {config.hall.name}, {start:%Y-%m-%d %H:%M}, {plan.minutes} hall minutes "
           f"at {plan.speed:g}x -> {out}")
    web_port = free_port()  # the ticket pages' address goes into the config: known first
    config = load_checked(str(paced_config(publish_pages(
        booking_config(real_name_config(config.path, out)), f"http://127.0.0.1:{web_port}"),
        plan.speed)))
    if centre is not None:
        config = load_checked(str(shipping_config(config, centre)))
    hall = Hall(config, out, args.port, report, centre, web_port)
    more_checks: list[dict] = []
    script, citizens = kiosk_script(plan, list(config.services))
    (out / "kiosk-script.txt").write_text(script, encoding="utf-8")
    (out / "kiosk-swipes.txt").write_text(
        "\n".join(script_lines(config.services[SERVICE].name)) + "\n", encoding="utf-8")
    swiping: Citizens | None = None
    try:
        hall.start_core(start, plan.speed)
        codes = book_today(config, hall.url, start.date().isoformat())
        public = config.web.public_url
        swiping = Citizens(out, out / "kiosk", f"{public}/p/b/{codes['zhao']}" if public else codes["zhao"])
        if hall.tablets is not None:  # paired before the clerks log in: 暂停服务 first
            hall.tablets.start()
        kiosk = next(d for d in config.devices.values() if d.role == Role.KIOSK)
        wall = next(d for d in config.devices.values() if d.role == Role.DISPLAY)
        hall.sup.start(Program("wall", hallq_argv(
            "display", "--config", config.path, "--device", wall.id, "--hub", hall.url,
            "--headless", "--voice-out", str(out / "voice"), "--shots", str(out / "wall"),
            "--script", "-"), stdin=True))
        hall.sup.write("wall", "wait connected")
        report(f"  citizens swipe ID cards and scan codes at the kiosk ({len(VISITS)} visits, "
               f"{len(codes)} of them with an appointment today)")
        swipes = hall.sup.start(Program("kiosk-swipes", hallq_argv(
            "kiosk", "--config", config.path, "--device", kiosk.id, "--hub", hall.url,
            "--headless", "--printer", f"image://{out / 'tickets'}",
            "--script", str(out / "kiosk-swipes.txt"), "--shots", str(out / "kiosk")),
            restart=False))
        swiping.wait(lambda: swipes.finished)
        hall.sup.start(Program("kiosk", hallq_argv(
            "kiosk", "--config", config.path, "--device", kiosk.id, "--hub", hall.url,
            # the default idle timeout: on a loaded machine a headless frame can take seconds,
            # and the scripted citizen must not be sent home between two taps
            "--headless", "--printer", f"image://{out / 'tickets'}",
            "--script", str(out / "kiosk-script.txt"), "--shots", str(out / "kiosk")),
            restart=False))
        report(f"  {citizens} citizens will take a number at the kiosk")
        for device in [d for d in config.devices.values() if d.role == Role.TERMINAL][:2]:
            path = out / f"{device.id}-script.txt"
            path.write_text(f"sleep {plan.real(plan.minutes * 60) / 2:.1f}\nshot midway\n",
                            encoding="utf-8")
            hall.sup.start(Program(device.id, hallq_argv(
                "terminal", "--config", config.path, "--device", device.id, "--hub", hall.url,
                "--headless", "--script", str(path), "--shots", str(out / "terminals" / device.id)),
                restart=False))
        kiosk_program = hall.sup.programs["kiosk"]
        stops.run(busy_hour(hall, plan, lambda: kiosk_program.finished))
        hall.sup.write("wall", "sleep 1.0")
        hall.sup.write("wall", "shot wall-final")
        time.sleep(2.5)  # strips finish flashing; the wall takes its last picture
        hall.sup.retire("wall")
        if hall.console_shots.is_alive():
            hall.console_shots.join(60)
        if hall.tablets is not None:
            hall.tablets.stop()
            hall.tablets.join(60)
        hall.strips.render_all_png(out / "led")
        strips = {a: hall.strips.text(a) for a in hall.led.options["strips"].values()}
        restarts = {p.name: p.restarts for p in hall.sup.programs.values() if p.restarts}
        more_checks.append(scripts_finished([swipes, kiosk_program], citizens))
        if centre is not None:
            more_checks += agreement(centre, out / "hall.db", report)
    finally:
        hall.stop()
        if swiping is not None:
            swiping.close()
    return write_summary(config, out, strips, restarts, report, more_checks, bookings=EXPECTED)


def scripts_finished(kiosks: list[Program], citizens: int) -> dict:
    """Whether the scripted kiosks got through every citizen before the hall closed: on a
    machine too slow for the hall clock the hour ends first, and the figures cover fewer
    citizens than planned."""
    unfinished = [k.name for k in kiosks if not k.finished or k.exit_codes[-1:] != [0]]
    return check("every scripted citizen was served by the kiosk", not unfinished,
                 f"{citizens} citizens planned" if not unfinished else
                 f"{', '.join(unfinished)} stopped before the end of its script (the machine "
                 f"was too slow for the hall clock; see logs/kiosk.log)")


# ---------------------------------------------------------------------- with a screen


def run_windows(config: HallConfig, out: Path, args: argparse.Namespace, report,
                stops: StopSignals, centre: Postgres | None = None) -> int:
    start = opening_morning(config)
    if centre is not None:
        config = load_checked(str(shipping_config(config, centre)))
        report(f"hallq demo: the centre is a local PostgreSQL: psql \"{centre.dsn}\"")
    hall = Hall(config, out, args.port, report, centre)
    try:
        hall.start_core(start, 1.0)
        kiosk = next(d for d in config.devices.values() if d.role == Role.KIOSK)
        wall = next(d for d in config.devices.values() if d.role == Role.DISPLAY)
        hall.sup.start(Program("wall", hallq_argv(
            "display", "--config", config.path, "--device", wall.id, "--hub", hall.url,
            "--windowed", "--size", "1280x720")))
        hall.sup.start(Program("kiosk", hallq_argv(
            "kiosk", "--config", config.path, "--device", kiosk.id, "--hub", hall.url,
            "--windowed", "--size", "1080x720", "--printer", f"image://{out / 'tickets'}")))
        for device in [d for d in config.devices.values() if d.role == Role.TERMINAL][:2]:
            hall.sup.start(Program(device.id, hallq_argv(
                "terminal", "--config", config.path, "--device", device.id, "--hub", hall.url)))
        report(f"hallq demo: {config.hall.name} is open (hub {hall.url}). Take numbers at the "
               f"kiosk, call them from the terminals; keypad clerks work windows 3–7. "
               f"Printed tickets go to {out / 'tickets'}. Ctrl-C stops the hall.")
        plan = HourPlan(speed=1.0, minutes=600, arrivals_per_hour=0, seed=args.seed)

        async def keypads() -> None:  # until Ctrl-C
            hour = BusyHour(config, plan, hall.url, hall.bus, report)
            tasks = [asyncio.create_task(hour.manager()),
                     asyncio.create_task(hour.citizens_rate())]
            tasks += [asyncio.create_task(hour.keypad_clerk(w, a))
                      for w, a in hour.addresses.items()]
            try:
                await asyncio.gather(*tasks)
            finally:
                hour.stop.set()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await hour.close()

        stops.run(keypads())
    finally:
        report("hallq demo: stopping the hall")
        hall.stop()
    return 0


@exits_on_config_error
def run(args: argparse.Namespace) -> int:
    config = load_checked(args.config)
    out = Path(args.out).resolve()
    if out.exists():
        for old in ("hall.db", "hall.db-wal", "hall.db-shm"):
            (out / old).unlink(missing_ok=True)
        for folder in ("tickets", "voice", "wall", "led", "kiosk", "terminals", "logs", "charts",
                       "console"):
            for f in (out / folder).rglob("*"):
                if f.is_file():
                    f.unlink()
    out.mkdir(parents=True, exist_ok=True)

    def report(line: str) -> None:
        print(line, flush=True)

    try:
        centre = Postgres() if args.central else None
    except PostgresMissing as e:
        print(f"hallq demo --central: {e}", file=sys.stderr)
        return 2
    stops = StopSignals()
    try:
        if centre is not None:
            centre.start()
            report(f"hallq demo: a local PostgreSQL serves as the centre ({centre.root})")
        if args.headless or not has_screen():
            return run_headless(config, out, args, report, stops, centre)
        return run_windows(config, out, args, report, stops, centre)
    except KeyboardInterrupt:
        signum = stops.received[0] if stops.received else signal.SIGINT
        report(f"hallq demo: stopped by {signal.Signals(signum).name}; every program it started "
               "has been stopped")
        return 128 + signum
    finally:
        if centre is not None:
            centre.close()


class StopSignals:
    """SIGINT and SIGTERM (Ctrl-C, a `timeout`, a `kill`, a service manager) stop the demo.
    In its plain stretches the signal raises KeyboardInterrupt in the main thread, so the
    `finally` that stops the hall runs. While an event loop runs (`run`) it cancels the
    loop's main task instead, so the coroutine's clean-up runs on a working loop: raised
    inside the loop, the interrupt can break a websocket in mid-frame and hang the stop.

    The programs run in sessions of their own and do not see a signal sent to the demo; only
    that `finally` stops them. A second signal while the hall is stopping is ignored, so the
    stop itself is not cut short. `received` holds the signal's number."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._task: asyncio.Task | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        self.received.append(signum)
        task = self._task
        if task is None or task.done():
            raise KeyboardInterrupt
        task.cancel()  # as asyncio.Runner does for Ctrl-C, then wake the loop from its select
        task.get_loop().call_soon_threadsafe(lambda: None)

    def run(self, coro: Coroutine[Any, Any, None]) -> None:
        """`asyncio.run(coro)`; a signal cancels it, then raises KeyboardInterrupt."""
        async def main() -> None:
            self._task = asyncio.current_task()
            try:
                await coro
            finally:
                self._task = None

        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            if not self.received:
                raise
        if self.received:
            raise KeyboardInterrupt
