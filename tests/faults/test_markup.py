"""Kivy markup in hub text is shown as typed, never obeyed: a staff id or pause reason
holding ``[color=…]`` or ``[size=…]`` does not restyle the clerk's terminal.

The real terminal program runs headless next to a real hub; what it shows is read from
its labels (escaped markup) and from its screenshot (no text turned red)."""

from __future__ import annotations

import asyncio

import pytest
from kivy.utils import escape_markup

from tests.caller.terminal.gui import client, looks_drawn, run_terminal

pytestmark = [pytest.mark.gui, pytest.mark.e2e]

STAFF = "[color=ff0000]1001[/color]"
REASON = "[size=90][b]午休[/b][/size] & 稍候"


def pure_red_dots(image) -> int:
    return sum(n for n, (r, g, b) in image.convert("RGB").getcolors(1 << 20)
               if r > 240 and g < 30 and b < 30)


def test_markup_in_a_staff_id_and_a_pause_reason_is_shown_as_text(hub_process, tmp_path) -> None:
    steps = [{"wait": {"connected": True, "state": "paused"}}, {"shot": "paused"}]

    async def scenario():
        async with client(hub_process.url, "admin") as admin:
            for kind, args in (("login", {"staff": STAFF}), ("pause", {"reason": REASON})):
                reply = await admin.request(kind, timeout=5, window="1", **args)
                assert reply["ok"], reply
        return await run_terminal(hub_process.url, tmp_path / "shots", steps)

    run = asyncio.run(scenario()).check()
    assert escape_markup(f"工号 {STAFF} · {REASON}") in run.shots["paused"]["texts"]
    image = run.image("paused")
    assert looks_drawn(image) and pure_red_dots(image) == 0
