"""The manager's console in `hallq demo`: `hallq web` beside the demo hub with a demo
account, and (headless) screenshots of its pages in `out/demo/console/`."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from caller.core.config import HallConfig
from caller.core.protocol import Role
from hallq.harness.web import add_user
from hallq.supervisor import Program, Supervisor, hallq_argv

DEMO_USER, DEMO_PASSWORD = "demo", "hallq-demo-2026"
PAGES = (("live", "/"), ("alerts", "/alerts"), ("cases", "/cases"), ("reports", "/reports"),
         ("devices", "/devices"), ("control", "/control"))


def start_console(sup: Supervisor, config: HallConfig, db: Path, hub_url: str, port: int,
                  report: Callable[[str], None]) -> str | None:
    """Start `hallq web` with the demo account; its URL, or None when it is not there."""
    web = next((d for d in config.devices.values() if d.role == Role.WEB), None)
    if web is None:
        report("  (no web device in the config: no console)")
        return None
    add_user(db, DEMO_USER, "manager", DEMO_PASSWORD)
    sup.start(Program("web", hallq_argv(
        "web", "--config", config.path, "--device", web.id, "--hub", hub_url, "--db", str(db),
        "--port", str(port))))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                url = f"http://127.0.0.1:{port}/"
                report(f"  manager's console: {url} (account {DEMO_USER}, password {DEMO_PASSWORD})")
                return url
        time.sleep(0.1)
    report("  the console did not start; see logs/web.log")
    return None


def screenshots(url: str, out: Path, report: Callable[[str], None]) -> list[Path]:
    """Every console page as a PNG, at PC size, and the live hall at tablet size."""
    executable = shutil.which("chromium")
    try:
        from playwright.sync_api import Error as BrowserError
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        report("  (no chromium or playwright: no console screenshots)")
        return []
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        _shoot(sync_playwright, executable, url, out, written)
    except BrowserError as e:  # the demo goes on; the summary of the hour does not need these
        report(f"  console screenshots stopped after {len(written)}: {e.message.splitlines()[0]}")
        return written
    report(f"  console screenshots: {len(written)} in {out}")
    return written


def phone_screenshots(url: str | None, db: Path, out: Path, report: Callable[[str], None]) -> list[Path]:
    """The live ticket page of a waiting, a called and a finished ticket, on a phone."""
    executable = shutil.which("chromium")
    if url is None or executable is None:
        return []
    try:
        from playwright.sync_api import Error as BrowserError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return []
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        codes = {state: row[0] for state in ("waiting", "called", "done") if (row := conn.execute(
            "SELECT code FROM tickets WHERE state = ? AND code IS NOT NULL ORDER BY id DESC "
            "LIMIT 1", (state,)).fetchone())}
    finally:
        conn.close()
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, headless=True)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                                        device_scale_factor=2, has_touch=True)
                for state, code in codes.items():
                    page.goto(f"{url.rstrip('/')}/p/t/{code}")
                    page.wait_for_function("() => window.hallqTicket && window.hallqTicket.updates > 0")
                    target = out / f"ticket-{state}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
            finally:
                browser.close()
    except BrowserError as e:
        report(f"  phone screenshots stopped after {len(written)}: {e.message.splitlines()[0]}")
        return written
    report(f"  the citizen's phone: {len(written)} ticket pages in {out}")
    return written


def _shoot(sync_playwright: Any, executable: str, url: str, out: Path, written: list[Path]) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True)
        try:
            for name, size in (("pc", (1366, 900)), ("tablet", (1024, 768))):
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                page.goto(url + "login")
                page.fill("input[name=name]", DEMO_USER)
                page.fill("input[name=password]", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("#windows tr[data-window]")
                for page_name, path in PAGES if name == "pc" else PAGES[:1]:
                    page.goto(url.rstrip("/") + path)
                    page.wait_for_function("() => window.hallq && window.hallq.updates > 0")
                    target = out / f"{page_name}-{name}.png"
                    page.screenshot(path=str(target), full_page=page_name != "reports")
                    written.append(target)
                page.close()
        finally:
            browser.close()
