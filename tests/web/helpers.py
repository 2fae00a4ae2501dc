"""What the console's browser tests share: the accounts, the hall, its devices, signing in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from caller.core.client import ThreadedHubClient
from hallq.harness.web import WebProcess
from tests.hubproc import HubProcess

PASSWORDS = {"manager": "manager-pass-2026", "supervisor": "supervisor-pass-2026",
             "viewer": "viewer-pass-2026"}
USERS = {"manager": "王主任", "supervisor": "李督查", "viewer": "张查看"}
LOCKED_USER, LOCKED_PASSWORD = "lock-me", "lock-me-pass-2026"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}  # a phone's browser context


@dataclass
class Hall:
    hub: HubProcess
    web: WebProcess
    db: Path

    @property
    def url(self) -> str:
        return self.web.url.rstrip("/")


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
