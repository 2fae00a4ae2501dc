"""The demo hall's staff roster and its screen evaluators in `hallq demo`.

The roster: the demo's clerks (terminals log in as 10NN, the keypads as KN), each with a
placeholder portrait (`caller.core.portrait.placeholder`: a coloured card with a plain
silhouette and the first character of the name; no real person). It goes to the hub as
`staff_save` and `staff_photo` commands of the admin device, like `hallq staff`.

The tablets (headless): Debian's Chromium opens the console, makes a pairing code for each
screen evaluator (windows 1 and 2 of the demo hall), pairs one tablet page per window, and
then stands in for the citizens at those windows: it rates every service it is asked to
rate, gives reasons for the bad ones, and takes screenshots of each state into
`out/demo/evaluator/`. The hall clock runs fast (45x: the 15 s rating timeout is a third
of a real second), so the demo's config gives a rating and its reasons the hall seconds
that TABLET_S and REASONS_S real seconds make (`paced_config`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import random
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from caller.core import portrait
from caller.core.client import HubClient
from caller.core.config import HallConfig
from caller.core.protocol import Role
from drivers.fonts import FontNotFound, find_cjk_font
from hallq.demo_console import DEMO_PASSWORD, DEMO_USER

# 工号, name, title, stars, windows ([]: any)
ROSTER = (
    ("1001", "王小红", "综合受理员", 5, ["1"]),
    ("1002", "李明", "综合受理员", 4, ["2"]),
    ("1008", "赵文静", "综合窗口主管", 5, []),
    ("K3", "陈建国", "社保专员", 4, []),
    ("K4", "刘芳", "医保专员", 3, []),
    ("K5", "张伟", "民政专员", 4, []),
    ("K6", "孙丽", "不动产专员", 5, []),
    ("K7", "周强", "税务专员", 3, []),
)
COLOURS = ((52, 101, 164), (46, 125, 50), (142, 68, 173), (192, 57, 43), (211, 84, 0),
           (22, 160, 133), (127, 140, 141), (41, 128, 185))
LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
LEVEL_MIX = (60, 25, 8, 5, 2)
PHOTO_SHOWN = """() => { const p = document.getElementById("photo");
    return !p || p.hidden || (p.complete && p.naturalWidth > 0); }"""
TABLET_S = 5.0  # real seconds a rating waits for the tablet, whatever the clock's speed
REASONS_S = 20.0  # and its reasons


def paced_config(path: Path, speed: float) -> Path:
    """The demo config at `path` (its own copy) with `rating_timeout_s` and
    `reasons_timeout_s` long enough, in hall seconds, for the tablets at `speed`."""
    text = path.read_text(encoding="utf-8")
    rating = max(15, math.ceil(TABLET_S * speed))
    reasons = min(3600, max(60, math.ceil(REASONS_S * speed)))
    text, found = re.subn(r"^rating_timeout_s = \d+$", f"rating_timeout_s = {rating}", text,
                          count=1, flags=re.M)
    if not found or "\n[rating]\n" not in text:
        raise ValueError(f"{path}: no [calling] rating_timeout_s or [rating] table to pace")
    text = text.replace("\n[rating]\n", f"\n[rating]\nreasons_timeout_s = {reasons}\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


async def _seed(url: str, device: Any, out: Path, font: str | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    async with HubClient(url, device.id, device.token) as admin:
        for i, (staff_no, name, title, stars, windows) in enumerate(ROSTER):
            await admin.request("staff_save", staff_no=staff_no, name=name, title=title,
                                stars=stars, windows=windows, timeout=10)
            made = portrait.placeholder(name, COLOURS[i % len(COLOURS)], font)
            (out / f"{staff_no}.jpg").write_bytes(made)
            reply = await admin.request("staff_photo", staff_no=staff_no,
                                        photo=base64.b64encode(made).decode(), timeout=10)
            if not reply.get("ok"):
                raise RuntimeError(f"staff_photo {staff_no}: {reply['error']['message']}")


def seed_roster(config: HallConfig, url: str, out: Path, report: Callable[[str], None]) -> None:
    """The demo roster with portraits (also written to `out/portraits/`)."""
    admin = next(d for d in config.devices.values() if d.role == Role.ADMIN)
    try:
        font: str | None = find_cjk_font(config.hall.font)
    except FontNotFound:
        font = None  # the portraits go without their character
    asyncio.run(_seed(url, admin, out / "portraits", font))
    report(f"  staff roster: {len(ROSTER)} members with placeholder portraits")


class Tablets(threading.Thread):
    """The screen evaluators' tablets in headless Chromium; `stop()` ends them."""

    def __init__(self, console: str, windows: list[str], out: Path, report: Callable[[str], None],
                 seed: int = 1) -> None:
        super().__init__(daemon=True, name="demo-tablets")
        self.console, self.windows, self.out, self.report = console.rstrip("/"), windows, out, report
        self.rnd = random.Random(seed)
        self.rated = 0
        self.shots: list[Path] = []
        self._quit = threading.Event()

    def stop(self) -> None:
        self._quit.set()

    def run(self) -> None:
        executable = shutil.which("chromium")
        try:
            from playwright.sync_api import Error as BrowserError
            from playwright.sync_api import sync_playwright
        except ImportError:
            executable = None
        if executable is None:
            self.report("  (no chromium or playwright: no screen evaluator tablets)")
            return
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=executable, headless=True)
                try:
                    self._work(browser)
                finally:
                    browser.close()
        except BrowserError as e:
            self.report(f"  screen evaluator tablets stopped: {e.message.splitlines()[0]}")
        self.report(f"  screen evaluators: {self.rated} ratings on the tablets of windows "
                    f"{', '.join(self.windows)}, {len(self.shots)} screenshots in {self.out}")

    def _shot(self, page: Any, name: str) -> None:
        path = self.out / f"{name}.png"
        with contextlib.suppress(Exception):  # a portrait still loading: shot without it
            page.wait_for_function(PHOTO_SHOWN, timeout=3000)
        page.screenshot(path=str(path))
        self.shots.append(path)

    def _pair(self, browser: Any) -> dict[str, Any]:
        console = browser.new_page(viewport={"width": 1366, "height": 900})
        console.goto(self.console + "/login")
        console.fill("input[name=name]", DEMO_USER)
        console.fill("input[name=password]", DEMO_PASSWORD)
        console.click("button[type=submit]")
        console.wait_for_selector("#windows tr[data-window]")
        tablets = {}
        for i, window in enumerate(self.windows):
            console.goto(self.console + "/screens")
            console.click(f"#screen-windows tr[data-window='{window}'] button")
            code = console.locator("#pairing-code .code").inner_text()
            if i == 0:
                self._shot(console, "console-pairing-code")
            size = (1280, 800) if i == 0 else (800, 1280)  # one landscape, one upright
            tablet = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                         locale="zh-CN").new_page()
            tablet.goto(self.console + "/e/")
            if i == 0:
                self._shot(tablet, "pairing")
            tablet.fill("input[name=code]", code)
            tablet.click("#pair-form button")
            tablet.wait_for_selector("#window-name")
            tablets[window] = tablet
        console.goto(self.console + "/screens")
        self._shot(console, "console-paired")
        console.close()
        return tablets

    def _work(self, browser: Any) -> None:
        tablets = self._pair(browser)
        for window, tablet in tablets.items():
            tablet.wait_for_timeout(300)
            self._shot(tablet, f"window{window}-{tablet.get_attribute('body', 'data-mode')}")
        wanted = {"rating", "reasons", "thanks"}
        while not self._quit.is_set():
            for window, tablet in tablets.items():
                mode = tablet.get_attribute("body", "data-mode")
                if mode == "welcome" and f"window{window}-welcome" not in {p.stem for p in self.shots}:
                    self._shot(tablet, f"window{window}-welcome")
                if mode == "rating":
                    self._rate(window, tablet, wanted)
            self._quit.wait(0.05)

    def _rate(self, window: str, tablet: Any, wanted: set[str]) -> None:
        if "rating" in wanted:
            self._shot(tablet, f"window{window}-rating")
            wanted.discard("rating")
        level = self.rnd.choices(LEVELS, LEVEL_MIX)[0]
        if "reasons" in wanted:
            level = "very_dissatisfied"  # the first one shows the reasons screen
        try:
            tablet.click(f"button[data-level={level}]", timeout=1000)
            if level in ("dissatisfied", "very_dissatisfied"):
                tablet.wait_for_selector("#reasons", state="visible", timeout=5000)
                self._give_reasons(window, tablet, wanted)
            tablet.wait_for_selector("#thanks", state="visible", timeout=5000)
        except Exception:  # too late: the hub timed it out, or took no reasons any more
            if tablet.is_visible("#skip-reasons"):
                tablet.click("#skip-reasons")
            return
        self.rated += 1
        if "thanks" in wanted:
            self._shot(tablet, f"window{window}-thanks")
            wanted.discard("thanks")

    def _give_reasons(self, window: str, tablet: Any, wanted: set[str]) -> None:
        for reason in self.rnd.sample(["态度不好", "效率低", "材料要求说不清", "多次跑腿"], 2):
            tablet.click(f"button[data-reason={reason}]")
        tablet.fill("#comment", "等候时间太长，材料要求没有一次说清")
        if "reasons" in wanted:
            self._shot(tablet, f"window{window}-reasons")
            wanted.discard("reasons")
        tablet.click("#submit-reasons")
