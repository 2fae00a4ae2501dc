"""The 办件编号 at the terminal (`ask_case_no = true`): finishing asks for it, a scanner or
the clerk types it and Enter, an empty Enter finishes without one, and a number the hub
refuses keeps the ticket at the window with the hub's reason on screen."""

from __future__ import annotations

import asyncio

import pytest

from tests.caller.terminal.gui import run_terminal
from tests.caller.terminal.test_gui import Observer, issue
from tests.hubproc import DEMO_CONFIG, HubProcess

pytestmark = [pytest.mark.gui, pytest.mark.e2e]


def test_finish_asks_for_the_case_number_and_the_hub_keeps_it(tmp_path):
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'token = "demo-term-1"\nwindows = ["1"]\n',
        'token = "demo-term-1"\nwindows = ["1"]\nask_case_no = true\n')
    assert "ask_case_no" in text
    config = tmp_path / "hall.toml"
    config.write_text(text, encoding="utf-8")
    steps = [
        {"wait": {"connected": True}},
        {"key": "F12"}, {"wait": {"popup": "login"}}, {"type": "1001"}, {"key": "enter"},
        {"wait": {"state": "idle", "staff": "1001"}},
        {"press": "call_next"}, {"wait": {"ticket": "A001"}},
        {"press": "finish"}, {"wait": {"popup": "case_no"}}, {"shot": "case_no"},
        {"type": "SL330106202611230001"}, {"key": "enter"}, {"wait": {"ticket": None}},
        {"press": "call_next"}, {"wait": {"ticket": "A002"}},
        {"press": "finish"}, {"wait": {"popup": "case_no"}}, {"type": "9" * 65}, {"key": "enter"},
        {"wait": {"message_has": "case_no"}}, {"shot": "refused"},
        {"press": "finish"}, {"wait": {"popup": "case_no"}}, {"key": "enter"},
        {"wait": {"ticket": None}},
        {"press": "login"}, {"wait": {"state": "closed"}},
    ]

    async def scenario(url: str):
        await issue(url, "civil", "civil")
        observer = Observer(url)
        async with observer.admin:
            run = await run_terminal(url, tmp_path / "shots", steps, config=config)
        return run, observer

    with HubProcess(config, tmp_path / "hall.db") as hub:
        run, observer = asyncio.run(scenario(hub.url))
    run.check()
    assert "办结 A001：办件编号" in run.texts("case_no")
    assert "A002" in run.texts("refused")  # still at the window
    finished = [e["ticket"] for e in observer.events if e["event"] == "ticket_finished"]
    assert [(t["number"], t.get("case_no")) for t in finished] == [
        ("A001", "SL330106202611230001"), ("A002", None)]
