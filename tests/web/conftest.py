"""One real hub and one real `hallq web` per test module, a headless Chromium (Debian's,
never a downloaded one), and the hall's devices as real protocol clients."""

from __future__ import annotations

import shutil

import pytest

from hallq.harness.web import WebProcess, add_user
from tests.hubproc import DEMO_CONFIG, HubProcess
from tests.web.helpers import LOCKED_PASSWORD, LOCKED_USER, PASSWORDS, PHONE, USERS, Device, Hall


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


@pytest.fixture(scope="module")
def phone(site):
    """A phone-sized page in Debian's Chromium, for a module whose `site` is its server."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True)
        yield b.new_context(**PHONE).new_page()
        b.close()


@pytest.fixture(scope="module")
def devices(hall):
    made = {d: Device(hall, d) for d in ("kiosk-1", "term-1", "eval-1")}
    made["term-1"].ok("login", staff="1001")
    yield made
    for d in made.values():
        d.stop()
