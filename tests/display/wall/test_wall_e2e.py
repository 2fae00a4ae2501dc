"""The wall as a real program: `hallq display --headless` against a real hub process, driven by
real clients; what it shows is read from its screenshots and its reported texts."""

from __future__ import annotations

import asyncio
import json
import wave
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from PIL import Image

from caller.core.client import HubClient
from caller.core.config import load_config
from hallq.harness.wall import WallProcess as _WallProcess
from hallq.harness.wall import WallStepFailed
from tests.hubproc import DEMO_CONFIG

pytestmark = [pytest.mark.e2e, pytest.mark.gui]
CFG = load_config(DEMO_CONFIG)
STEP_TIMEOUT_S = 120  # a hang guard only: every wait ends as soon as the wall gets there
NOTICE = "今日下午三点起系统升级，请提前办理业务。"
LOST = "与服务器的连接已断开，正在重连…"


class WallProcess(_WallProcess):
    """The demo hall's wall; a step that fails fails the test with the wall's log."""

    def __init__(self, hub_url: str, out: Path, *extra: str, env: dict | None = None) -> None:
        super().__init__(hub_url, out, *extra, config=str(DEMO_CONFIG), env=env)

    def step(self, name: str, until: dict, **options) -> dict:
        try:
            return super().step(name, until, **options)
        except WallStepFailed as e:
            pytest.fail(str(e))


def client(hub, device: str) -> HubClient:
    return HubClient(hub.url, device, CFG.devices[device].token)


async def ok(c: HubClient, kind: str, **args) -> dict:
    reply = await c.request(kind, timeout=10, **args)
    assert reply["ok"], reply
    return reply


def shot(record: dict, wall: WallProcess, name: str) -> Image.Image:
    image = Image.open(wall.out / f"{name}.png").convert("RGB")
    assert list(image.size) == record["status"]["size"]
    return image


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> set:
    return {c for _, c in image.crop(box).getcolors(1 << 20)}


def test_calls_recall_hold_pause_notice_then_the_hub_goes_away_and_comes_back(hub_process,
                                                                             tmp_path):
    # A long flash, so the screenshot surely catches it whatever the machine's load.
    wall = WallProcess(hub_process.url, tmp_path / "wall", "--size", "1920x1080", "--no-voice",
                       "--flash", "60")

    async def drive() -> None:
        async with AsyncExitStack() as stack:
            kiosk = await stack.enter_async_context(client(hub_process, "kiosk-1"))
            term1 = await stack.enter_async_context(client(hub_process, "term-1"))
            term2 = await stack.enter_async_context(client(hub_process, "term-2"))
            admin = await stack.enter_async_context(client(hub_process, "admin"))
            run = asyncio.to_thread
            first = await run(wall.step, "ready", {"connected": True})
            assert first["status"]["newest"] is None and "请留意叫号信息" in first["texts"]

            for _ in range(5):
                await ok(kiosk, "issue_ticket", service="civil")
            await ok(term1, "login", window="1", staff="1001")
            await ok(term2, "login", window="2", staff="1002")
            await ok(term1, "call_next", window="1")
            await ok(term2, "call_next", window="2")
            await ok(term1, "call_next", window="1")  # A001 done, A003 called
            await ok(admin, "login", window="8", staff="8001")
            await ok(admin, "pause", window="8", reason="午休")
            await ok(admin, "set_notice", text=NOTICE)
            calls = await run(wall.step, "calls", {"called_received": 3, "notice": NOTICE,
                                                   "windows.8号窗口": "paused"}, shot=True)
            s = calls["status"]
            assert s["newest"] == {"number": "A003", "window_name": "1号窗口", "recalls": 0}
            assert s["flashing"] is True
            assert s["recent"] == [["A003", "1号窗口", "呼叫中"], ["A002", "2号窗口", "呼叫中"],
                                   ["A001", "1号窗口", "已办结"]]
            assert s["recent_rows"] == 8 and s["screens_built"] == 1
            assert s["waiting"]["民政救济"] == 2 and s["waiting"]["劳动保障"] == 0
            assert s["windows"]["1号窗口"] == "calling" and s["windows"]["3号窗口"] == "closed"
            assert s["marquee"] == NOTICE
            texts = calls["texts"]
            for shown in ("青山镇便民服务中心", "请", "A003", "1号窗口", "暂停服务", "午休", "2 人"):
                assert shown in texts, shown
            assert any("星期" in t for t in texts) and LOST not in texts
            image = shot(calls, wall, "calls")
            # The banner is one of its two flashing colours, the numbers gold on it.
            banner = colours(image, (40, 220, 1880, 330))
            assert {(0x11, 0x3E, 0x70), (0xA3, 0x20, 0x1C)} & banner
            assert any(r > 200 and g > 180 and b < 120 for r, g, b in banner)

            await ok(term2, "recall", window="2")
            await ok(term1, "hold", window="1")
            await ok(kiosk, "issue_ticket", service="labour")
            later = await run(wall.step, "recall", {"called_received": 4, "waiting.劳动保障": 1})
            s = later["status"]
            assert [r[:2] for r in s["recent"][:3]] == [["A002", "2号窗口"], ["A003", "1号窗口"],
                                                        ["A001", "1号窗口"]]
            assert s["recent"][1][2] == "暂缓办理" and s["newest"]["recalls"] == 1
            assert "第2次呼叫" in later["texts"]
            assert s["waiting"]["民政救济"] == 2  # the held A003 does not wait again
            assert s["windows"]["1号窗口"] == "idle"

            hub_process.stop()
            lost = await run(wall.step, "lost", {"connection": "lost"}, shot=True)
            assert LOST in lost["texts"] and lost["status"]["connection_bar"] is True
            image = shot(lost, wall, "lost")
            assert (0xC6, 0x28, 0x28) in colours(image, (0, 130, 1920, 190))

            hub_process.start()  # the same port and database
            back = await run(wall.step, "back", {"connected": True, "connection": None},
                             shot=True)
            assert LOST not in back["texts"] and back["status"]["connection_bar"] is False
            assert back["status"]["recent"][:3] == [["A002", "2号窗口", "呼叫中"],
                                                    ["A003", "1号窗口", "暂缓办理"],
                                                    ["A001", "1号窗口", "已办结"]]
            assert back["status"]["windows"]["8号窗口"] == "paused"

    try:
        asyncio.run(drive())
    finally:
        code = wall.close()
    assert code == 0


def test_portrait_layout(hub_process, tmp_path):
    wall = WallProcess(hub_process.url, tmp_path / "portrait", "--portrait", "--no-voice")

    async def drive() -> None:
        async with client(hub_process, "kiosk-1") as kiosk, \
                client(hub_process, "term-8") as term:
            await asyncio.to_thread(wall.step, "ready", {"connected": True})
            await ok(kiosk, "issue_ticket", service="green")
            await ok(term, "login", window="8", staff="8001")
            await ok(term, "call_next", window="8")
            done = await asyncio.to_thread(wall.step, "portrait", {"called_received": 1},
                                           shot=True)
            assert done["status"]["portrait"] is True and done["status"]["size"] == [1080, 1920]
            assert done["status"]["newest"]["number"] == "V001"
            for shown in ("V001", "8号窗口", "到", "最近呼叫", "窗口状态", "等候人数"):
                assert shown in done["texts"], shown
            image = shot(done, wall, "portrait")
            # Number on its own line above the window: gold pixels high, white ones lower.
            assert any(r > 200 and g > 180 and b < 120
                       for r, g, b in colours(image, (100, 250, 980, 420)))

    try:
        asyncio.run(drive())
    finally:
        code = wall.close()
    assert code == 0


@pytest.mark.slow
def test_a_burst_of_100_calls_all_reach_the_wall_and_the_voice_queue_stays_bounded(
        hub_process, tmp_path):
    voice_dir = tmp_path / "voice"
    wall = WallProcess(hub_process.url, tmp_path / "burst", "--size", "960x540",
                       "--voice-out", str(voice_dir),
                       env={"XDG_CACHE_HOME": str(tmp_path / "cache")})

    async def drive() -> None:
        async with AsyncExitStack() as stack:
            kiosk = await stack.enter_async_context(client(hub_process, "kiosk-1"))
            terms = [await stack.enter_async_context(client(hub_process, d))
                     for d in ("term-1", "term-2")]
            ready = await asyncio.to_thread(wall.step, "ready",
                                            {"connected": True, "voice.ready": True})
            assert ready["status"]["voice"]["enabled"] is True
            await asyncio.gather(*(ok(kiosk, "issue_ticket", service="civil")
                                   for _ in range(100)))
            for term, window in zip(terms, ("1", "2"), strict=True):
                await ok(term, "login", window=window, staff=f"100{window}")

            async def calls(term: HubClient, window: str) -> None:
                for _ in range(50):
                    await ok(term, "call_next", window=window)

            await asyncio.gather(calls(terms[0], "1"), calls(terms[1], "2"))
            done = await asyncio.to_thread(wall.step, "burst",
                                           {"called_received": 100, "voice.idle": True})
            s, voice = done["status"], done["status"]["voice"]
            assert s["called_received"] == 100 and s["calls_shown"] == 100
            assert len(s["recent"]) == s["recent_rows"] == 8 and s["screens_built"] == 1
            assert {r[0] for r in s["recent"]} <= {f"A{n:03d}" for n in range(93, 101)}
            assert voice["announced"] == 100
            assert voice["max_pending"] <= voice["max_queue"]
            assert voice["spoken"] + voice["superseded"] + voice["dropped_stale"] \
                + voice["dropped_overflow"] + voice["failed"] == 100
            assert voice["failed"] == 0 and voice["spoken"] >= 1
            files = sorted(voice_dir.glob("*.wav"))
            assert len(files) == voice["spoken"]
            with wave.open(str(files[-1])) as last:
                assert last.getnframes() > last.getframerate()

    try:
        asyncio.run(drive())
    finally:
        code = wall.close()
    assert code == 0


def test_a_wall_the_hub_refuses_says_so_instead_of_waiting_forever(hub_process, tmp_path):
    config = tmp_path / "hall.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'token = "demo-wall-1"', 'token = "not-the-token"'), encoding="utf-8")
    wall = WallProcess(hub_process.url, tmp_path / "refused", "--size", "960x540", "--no-voice",
                       "--config", str(config))
    try:
        done = wall.step("refused", {"connection": "refused"})
        assert "服务器拒绝了本设备，请检查配置中的设备编号和令牌" in done["texts"]
    finally:
        code = wall.close()
    assert code == 0


@pytest.mark.slow
def test_the_voice_benchmark_reports_its_spans_in_order():
    from hallq.benches.voice import measure

    result = measure(3)
    assert result["measured"] == 3 and result["voice"]["spoken"] == 3
    median = result["median_ms"]
    assert 0 < median["press_to_event"] <= median["press_to_first_sample"] \
        <= median["press_to_written"]
    assert result["command"] == "python -m hallq.benches.voice --calls 3"


def test_a_wrong_line_on_stdin_is_rejected_and_the_wall_goes_on(hub_process, tmp_path):
    wall = _WallProcess(hub_process.url, tmp_path / "stdin", "--size", "960x540", "--no-voice",
                        config=str(DEMO_CONFIG))
    try:
        assert wall.harness.write("tap somewhere")  # the wall has no tap verb
        rejected = wall.harness.wait_for(lambda line: "rejected" in line, STEP_TIMEOUT_S)
        assert rejected["rejected"].startswith("line 1: unknown step 'tap'")
        ready = wall.step("ready", {"connected": True})
        assert ready["status"]["connected"] is True
        with pytest.raises(WallStepFailed, match="unknown condition 'conected'"):
            wall.step("typo", {"conected": True})
    finally:
        code = wall.close()
    assert code == 1  # a step failed: the run ends with its reason in record.json
    record = json.loads((tmp_path / "stdin" / "record.json").read_text(encoding="utf-8"))
    assert record["ok"] is False and "unknown condition 'conected'" in record["error"]
