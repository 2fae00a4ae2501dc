"""The window terminal in a hall that checks logins against its roster (`[staff]
roster_required`): an unknown 工号 and a disabled one are refused with the hub's sentence
on the terminal's screen, the window stays logged out, and a 工号 on the roster logs in."""

from __future__ import annotations

import asyncio

import pytest

from tests.caller.terminal.gui import client, looks_drawn, run_terminal
from tests.hubproc import DEMO_CONFIG, HubProcess

pytestmark = [pytest.mark.gui, pytest.mark.e2e]


def login(staff_no: str) -> list[dict]:
    return [{"key": "F12"}, {"wait": {"popup": "login"}}, {"type": staff_no}, {"key": "enter"}]


def test_an_unknown_or_disabled_staff_number_is_refused_on_screen(tmp_path):
    config = tmp_path / "hall.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8")
                      + "\n[staff]\nroster_required = true\n", encoding="utf-8")
    steps = [
        {"wait": {"connected": True}},
        *login("9999"), {"wait": {"message_has": "9999"}}, {"shot": "unknown"},
        *login("1002"), {"wait": {"message_has": "1002"}}, {"shot": "disabled"},
        *login("1001"), {"wait": {"state": "idle", "staff": "1001"}}, {"shot": "logged_in"},
        {"press": "login"}, {"wait": {"state": "closed"}},
    ]

    async def scenario(url: str):
        async with client(url, "admin") as admin:
            for staff_no, name in (("1001", "王小红"), ("1002", "李明")):
                assert (await admin.request("staff_save", timeout=10, staff_no=staff_no, name=name))["ok"]
            assert (await admin.request("staff_disable", timeout=10, staff_no="1002"))["ok"]
            run = await run_terminal(url, tmp_path / "shots", steps, config=config)
            logins = (await admin.request("snapshot", timeout=10))["snapshot"]["windows"]
        return run, logins

    with HubProcess(config, tmp_path / "hall.db") as hub:
        run, windows = asyncio.run(scenario(hub.url))
    run.check()
    unknown, disabled = run.shots["unknown"], run.shots["disabled"]
    assert "工号 9999 不在本大厅人员名册中，无法登录；请核对工号或联系大厅管理员" in run.texts("unknown")
    assert "工号 1002 已停用，无法登录；请联系大厅管理员" in run.texts("disabled")
    for shot in (unknown, disabled):
        assert shot["staff"] is None and shot["enabled"] == ["login"]  # nothing to call with
    assert run.shots["logged_in"]["staff"] == "1001"
    assert looks_drawn(run.image("unknown")) and looks_drawn(run.image("disabled"))
    assert next(w for w in windows if w["id"] == "1")["staff"] is None  # logged out at the end
