"""Small hall configs for tests, built from plain dicts."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from caller.core.config import HallConfig, parse_config
from caller.hub.engine import Engine

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)

BASE = {
    "hall": {"name": "测试大厅"},
    "services": [
        {"id": "a", "name": "甲业务", "prefix": "A", "materials": ["身份证"]},
        {"id": "b", "name": "乙业务", "prefix": "B"},
        {"id": "c", "name": "丙业务", "prefix": "C"},
    ],
    "windows": [
        {"id": "1", "name": "1号窗口", "services": {"a": 2, "b": 1}},
        {"id": "2", "name": "2号窗口", "services": {"a": 1, "b": 2, "c": 0}},
        {"id": "3", "name": "3号窗口", "services": {"c": 1}},
    ],
    "devices": [
        {"id": "eval", "role": "evaluator", "token": "t", "windows": ["1", "2", "3"]},
    ],
}


def raw(**sections) -> dict:
    data = copy.deepcopy(BASE)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


def config(**sections) -> HallConfig:
    return parse_config(raw(**sections))


class Clock:
    def __init__(self, start: datetime = MONDAY_9AM):
        self.now = start

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Driver:
    """Drives an engine the way the hub does, keeping every event."""

    def __init__(self, cfg: HallConfig | None = None, clock: Clock | None = None):
        self.config = cfg or config()
        self.clock = clock or Clock()
        self.engine = Engine(self.config, self.clock.now)
        self.events: list[dict] = []

    def __call__(self, command: str, **args) -> dict:
        reply, events = self.engine.handle({"type": command, **args}, self.clock.now)
        self.engine.take_changes()
        self.events.extend(events)
        return reply

    def ok(self, command: str, **args) -> dict:
        reply = self(command, **args)
        assert reply["ok"], reply
        return reply

    def error(self, command: str, **args) -> str:
        reply = self(command, **args)
        assert not reply["ok"], reply
        assert reply["error"]["message"]
        return reply["error"]["code"]

    def issue(self, service: str, **args) -> str:
        return self.ok("issue_ticket", service=service, **args)["ticket"]["number"]

    def call(self, window: str) -> str:
        return self.ok("call_next", window=window)["ticket"]["number"]

    def login_all(self) -> None:
        for wid in self.config.windows:
            self.ok("login", window=wid, staff=f"S{wid}")

    def names(self) -> list[str]:
        return [e["event"] for e in self.events]
