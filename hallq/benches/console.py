"""How fast the manager's console follows the hall: from a call made by a terminal to the
live view updated in every one of `consoles` open browsers (the browser's own clock, read
when the ticket number appears in the page), and the web server's memory meanwhile.

It runs the real programs: a hub on loopback (the demo hall, Monday 09:00), `hallq web`,
and Debian's Chromium headless with one browser context per console.

    .venv/bin/python -m hallq.benches.console --consoles 20 --calls 30
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from caller.core.client import ThreadedHubClient
from caller.core.config import default_config_path
from hallq.harness.hub import HubProcess
from hallq.harness.web import WebProcess, add_user

CONFIG = default_config_path()
HALL_MONDAY_9AM = "2026-11-23T09:00:00+08:00"
USER, PASSWORD = "bench", "bench-password-2026"
# Records, in the page, when each ticket number first shows at window 1.
OBSERVE = """() => {
  window.seenAt = {};
  const body = document.getElementById("windows");
  const look = () => {
    const cell = body.querySelector('tr[data-window="1"] .ticket');
    const number = cell && cell.textContent.split(" ")[0];
    if (number && number !== "—" && !(number in window.seenAt)) window.seenAt[number] = Date.now();
  };
  new MutationObserver(look).observe(body, {childList: true, subtree: true, characterData: true});
}"""


def measure(consoles: int = 20, calls: int = 30, gap_s: float = 0.3) -> dict:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        return {"console_update_p50_ms": None, "console_update_p99_ms": None, "web_rss_mb": None,
                "console_note": "chromium is not installed"}
    with tempfile.TemporaryDirectory(prefix="hallq-bench-web-") as tmp:
        db = Path(tmp) / "hall.db"
        with HubProcess(CONFIG, db, start_time=HALL_MONDAY_9AM,
                        extra=["--log-level", "WARNING"]) as hub:
            add_user(db, USER, "viewer", PASSWORD)
            with WebProcess(CONFIG, db, hub.url) as web, sync_playwright() as p:
                browser = p.chromium.launch(executable_path=executable, headless=True)
                try:
                    pages = _open(browser, web.url, consoles)
                    sent = _calls(hub.url, calls, gap_s)
                    time.sleep(1.0)
                    rss = web.rss_mb()
                    seen = [page.evaluate("() => window.seenAt") for page in pages]
                finally:
                    browser.close()
    latencies = sorted(at[number] - t for number, t in sent.items() for at in seen if number in at)
    expected = len(sent) * consoles
    if not latencies:
        return {"console_update_p50_ms": None, "console_update_p99_ms": None,
                "web_rss_mb": round(rss, 1), "console_updates_seen": 0}
    return {"console_update_p50_ms": round(statistics.median(latencies), 1),
            "console_update_p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 1),
            "web_rss_mb": round(rss, 1), "consoles": consoles,
            "console_updates_seen": len(latencies), "console_updates_expected": expected}


def _open(browser, url: str, consoles: int) -> list:
    """`consoles` live pages, each in its own context (its own connections), one sign-in."""
    first = browser.new_context()
    page = first.new_page()
    page.goto(url + "login")
    page.fill("input[name=name]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector('#windows tr[data-window="1"]')
    cookies = first.cookies()
    pages = [page]
    for _ in range(consoles - 1):
        context = browser.new_context()
        context.add_cookies(cookies)
        more = context.new_page()
        more.goto(url)
        pages.append(more)
    for p in pages:
        p.wait_for_function("() => window.hallq && window.hallq.updates > 0")
        p.evaluate(OBSERVE)
    return pages


def _calls(hub_url: str, calls: int, gap_s: float) -> dict[str, float]:
    """Tickets called at window 1, one every `gap_s`: number -> when it was sent (ms)."""
    kiosk = ThreadedHubClient(hub_url, "kiosk-1", "demo-kiosk-1").start()
    term = ThreadedHubClient(hub_url, "term-1", "demo-term-1").start()
    sent: dict[str, float] = {}
    try:
        for c in (kiosk, term):
            deadline = time.monotonic() + 10
            while not c.connected and time.monotonic() < deadline:
                time.sleep(0.05)
        term.request("login", staff="1001").result(10)
        for _ in range(calls):
            kiosk.request("issue_ticket", service="family").result(10)
            time.sleep(gap_s)
            started = time.time() * 1000
            reply = term.request("call_next").result(10)
            if reply.get("ok"):
                sent[reply["ticket"]["number"]] = started
    finally:
        kiosk.stop()
        term.stop()
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, default=20)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps(measure(args.consoles, args.calls), indent=1))


if __name__ == "__main__":
    main()
