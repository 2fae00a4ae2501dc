"""One real hub and one real `hallq web` per test module, a headless Chromium (Debian's,
never a downloaded one), and the hall's devices as real protocol clients."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from caller.core.client import ThreadedHubClient
from hallq.harness.web import WebProcess, add_user
from tests.hubproc import DEMO_CONFIG, HubProcess

PASSWORDS = {"manager": "manager-pass-2026", "supervisor": "supervisor-pass-2026",
             "viewer": "viewer-pass-2026"}
USERS = {"manager": "王主任", "supervisor": "李督查", "viewer": "张查看"}
LOCKED_USER, LOCKED_PASSWORD = "lock-me", "lock-me-pass-2026"


@dataclass
class Hall:
    hub: HubProcess
    web: WebProcess
    db: Path

    @property
    def url(self) -> str:
        return self.web.url.rstrip("/")


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    db = tmp / "hall.db"
    with HubProcess(DEMO_CONFIG, db) as hub:
        for role, name in USERS.items():
            add_user(db, name, role, PASSWORDS[role])
        add_user(db, LOCKED_USER, "viewer", LOCKED_PASSWORD)
        with WebProcess(DEMO_CONFIG, db, hub.url) as web:
            yield Hall(hub, web, db)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (scripts/setup.sh installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True)
        yield b
        b.close()


class Device:
    """A device of the demo hall, connected for real."""

    def __init__(self, hall: Hall, device: str) -> None:
        self.client = ThreadedHubClient(hall.hub.url, device, f"demo-{device}").start()

    def ok(self, kind: str, **args) -> dict:
        reply = self.client.request(kind, **args).result(10)
        assert reply["ok"], reply
        return reply

    def stop(self) -> None:
        self.client.stop()


@pytest.fixture(scope="module")
def devices(hall):
    made = {d: Device(hall, d) for d in ("kiosk-1", "term-1", "eval-1")}
    made["term-1"].ok("login", staff="1001")
    yield made
    for d in made.values():
        d.stop()


def login(browser, hall: Hall, role: str, viewport=(1280, 800)):
    """A new browser context signed in as the account of `role`; returns its page."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.goto(hall.url + "/")
    page.fill("input[name=name]", USERS[role])
    page.fill("input[name=password]", PASSWORDS[role])
    page.click("button[type=submit]")
    page.wait_for_url(hall.url + "/")
    return page
