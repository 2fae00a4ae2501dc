"""Reading the live hub's database while it serves the hall: nothing waits, nothing breaks."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import pytest

from caller.core.client import HubClient
from caller.core.config import load_config
from caller.manager.stats import live_figures
from hallq.cli import main
from tests.hubproc import DEMO_CONFIG

pytestmark = pytest.mark.e2e
CFG = load_config(DEMO_CONFIG)
MONDAY = "2026-11-23"


async def ok(c: HubClient, kind: str, **args) -> dict:
    reply = await c.request(kind, timeout=5, **args)
    assert reply["ok"], reply
    return reply


def test_figures_of_a_running_hall(hub_process, capsys):
    async def morning() -> dict:
        async with AsyncExitStack() as stack:
            def client(device: str) -> HubClient:
                return HubClient(hub_process.url, device, CFG.devices[device].token)
            kiosk = await stack.enter_async_context(client("kiosk-1"))
            term = await stack.enter_async_context(client("term-1"))
            evaluator = await stack.enter_async_context(client("eval-1"))
            for service in ("civil", "civil", "labour"):
                await ok(kiosk, "issue_ticket", service=service)
            await ok(term, "login", staff="1001")
            await ok(term, "call_next")
            await ok(term, "finish")
            await ok(evaluator, "rate", window="1", level="very_satisfied")
            live = live_figures(hub_process.db, MONDAY)  # the hub is still running
            await ok(kiosk, "issue_ticket", service="civil")  # and still writes afterwards
            return live

    live = asyncio.run(morning())
    assert live["services"]["civil"]["waiting"] == 1 and live["services"]["labour"]["waiting"] == 1
    assert (live["served"], live["rated"], live["satisfaction_rate"]) == (1, 1, 1.0)

    assert main(["report", "--db", str(hub_process.db), "--from", MONDAY]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (summary["issued"], summary["served"], summary["rated"]) == (4, 1, 1)
