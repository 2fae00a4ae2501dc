"""The terminal program itself, headless, against a real hub: what the clerk sees on screen
and what the hub does when the clerk presses a button or its key."""

from __future__ import annotations

import asyncio

import pytest

from tests.caller.terminal.gui import client, looks_drawn, run_terminal
from tests.hubproc import DEMO_CONFIG, HubProcess

pytestmark = [pytest.mark.gui, pytest.mark.e2e]


class Observer:
    """The admin's view of the hall: every event, and a citizen at the evaluator who rates
    at once, or (patient=False) only when asked again after letting the rating time out."""

    def __init__(self, hub_url: str, level: str = "satisfied", patient: bool = True) -> None:
        self.events: list[dict] = []
        self.level = level
        self.patient = patient
        self.timed_out: set[tuple[str, str]] = set()
        self.admin = client(hub_url, "admin", on_event=self._seen)
        self._tasks: set[asyncio.Task] = set()

    def _seen(self, event: dict) -> None:
        self.events.append(event)
        key = (event.get("window"), (event.get("ticket") or {}).get("number"))
        if event["event"] == "rating_timeout":
            self.timed_out.add(key)
        if event["event"] == "rating_requested" and (self.patient or key in self.timed_out):
            task = asyncio.get_running_loop().create_task(
                self.admin.request("rate", timeout=5, window=event["window"], level=self.level))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def at(self, window: str) -> list[tuple]:
        """(event, ticket number, extra) for one window, in order."""
        out = []
        for e in self.events:
            if window not in (e.get("window"), e.get("from_window")):
                continue
            number = (e.get("ticket") or {}).get("number")
            extra = e.get("staff") if e["event"] in ("window_login",) else (
                e.get("recalls") if e["event"] == "ticket_called" else e.get("reason", e.get("to")))
            out.append((e["event"], number, extra))
        return out


async def issue(hub_url: str, *services: str) -> None:
    async with client(hub_url, "kiosk-1") as kiosk:
        for s in services:
            reply = await kiosk.request("issue_ticket", timeout=5, service=s)
            assert reply["ok"], reply


def test_a_clerks_morning_with_every_button(hub_process, tmp_path):
    steps = [
        {"wait": {"connected": True, "waiting": 4}}, {"shot": "logged_out"},
        {"key": "F12"}, {"wait": {"popup": "login"}}, {"shot": "login"},
        {"type": "1001"}, {"key": "enter"}, {"wait": {"state": "idle", "staff": "1001"}},
        {"press": "call_next"}, {"wait": {"state": "calling", "ticket": "A001"}},
        {"press": "recall"}, {"wait": {"message_has": "重呼 A001（第 1 次）"}},
        {"press": "hold"}, {"wait": {"held": ["A001"], "ticket": None}},
        {"press": "call_next"}, {"wait": {"ticket": "A002"}},
        {"press": "start"}, {"wait": {"state": "serving"}}, {"shot": "serving"},
        {"press": "finish"}, {"wait": {"ticket": None, "rating_ticket": "A002", "rating": "satisfied"}},
        {"shot": "rated"},
        {"press": "call_held"}, {"wait": {"popup": "held"}}, {"shot": "held"},
        {"key": "enter"}, {"wait": {"ticket": "A001", "held": []}},
        {"press": "transfer"}, {"wait": {"popup": "transfer"}}, {"shot": "transfer"},
        {"choose": "service:family"}, {"wait": {"ticket": None, "message_has": "已转至计生服务"}},
        {"press": "call_next"}, {"wait": {"ticket": "A003"}},
        {"press": "skip"}, {"wait": {"ticket": None, "message_has": "A003 已过号"}},
        {"press": "pause"}, {"wait": {"popup": "pause"}}, {"key": "enter"},
        {"wait": {"state": "paused", "pause_reason": "午休"}}, {"shot": "paused"},
        {"press": "pause"}, {"wait": {"state": "idle"}},
        {"press": "call_number"}, {"wait": {"popup": "number"}}, {"type": "c001"}, {"key": "enter"},
        {"wait": {"ticket": "C001"}},
        {"press": "finish"}, {"wait": {"ticket": None, "rating_ticket": "C001", "rating": "satisfied"}},
        {"press": "request_rating"}, {"wait": {"message_has": "一次一评"}}, {"shot": "refused"},
        {"press": "login"}, {"wait": {"state": "closed"}},
    ]

    async def scenario():
        await issue(hub_process.url, "civil", "civil", "civil", "family")
        observer = Observer(hub_process.url)
        async with observer.admin:
            run = await run_terminal(hub_process.url, tmp_path / "shots", steps)
        return run, observer

    run, observer = asyncio.run(scenario())
    run.check()

    logged_out = run.shots["logged_out"]
    assert logged_out["enabled"] == ["login"]
    for words in ("1号窗口", "未登录", "请先登录工号", "等候 4 人", "登录", "已连接"):
        assert words in run.texts("logged_out")
    assert "登录 1号窗口" in run.texts("login") and "回车确定" in run.texts("login")

    serving = run.texts("serving")
    for words in ("A002", "民政救济", "办理中", "工号 1001", "等候 2 人", "叫号", "重呼", "过号",
                  "转移", "挂起", "挂起列表", "暂停", "开始办理", "办结", "请评价", "指呼", "退出",
                  "F1", "F12"):
        assert words in serving
    assert "start" not in run.shots["serving"]["enabled"]
    assert {"recall", "skip", "transfer", "hold", "finish", "call_held"} <= set(
        run.shots["serving"]["enabled"])

    assert "评价：A002 满意" in run.texts("rated")
    assert {"recall", "skip", "finish"}.isdisjoint(run.shots["rated"]["enabled"])
    assert "挂起的号码：选择一个叫回" in run.texts("held") and "A001 民政救济" in run.texts("held")
    transfer = run.texts("transfer")
    assert "转移 A001：选择业务或窗口" in transfer
    for words in ("转到业务", "计生服务", "劳动保障", "转到窗口", "2号窗口", "8号窗口"):
        assert words in transfer
    paused = run.texts("paused")
    assert "暂停服务" in paused and "午休" in paused and "恢复" in paused
    assert "pause" in run.shots["paused"]["enabled"]  # to resume
    assert {"call_next", "call_number", "recall"}.isdisjoint(run.shots["paused"]["enabled"])
    assert "该号码已经评价过了（一次一评）" in run.texts("refused")  # the hub's own sentence
    for shot in run.shots:
        assert looks_drawn(run.image(shot)), shot

    assert observer.at("1") == [
        ("window_login", None, "1001"),
        ("ticket_called", "A001", 0),
        ("ticket_called", "A001", 1),
        ("ticket_held", "A001", None),
        ("ticket_called", "A002", 0),
        ("ticket_started", "A002", None),
        ("ticket_finished", "A002", None),
        ("rating_requested", "A002", None),
        ("rating_received", "A002", None),
        ("ticket_called", "A001", 0),
        ("ticket_transferred", "A001", {"service": "family"}),
        ("ticket_called", "A003", 0),
        ("ticket_skipped", "A003", None),
        ("window_paused", None, "午休"),
        ("window_resumed", None, None),
        ("ticket_called", "C001", 0),
        ("ticket_finished", "C001", None),
        ("rating_requested", "C001", None),
        ("rating_received", "C001", None),
        ("window_logout", None, None),
    ]


def test_a_clerk_never_needs_the_mouse_and_keys_come_from_the_config(tmp_path):
    """A terminal serving windows 1 and 2 with its own keys: pick a window, log in, work."""
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace(
        "rating_timeout_s = 15", "rating_timeout_s = 1") + (
        '\n[[devices]]\nid = "term-12"\nrole = "terminal"\ntoken = "demo-term-12"\n'
        'windows = ["1", "2"]\nshortcuts = { call_next = "F5", hold = "F1" }\n')
    config = tmp_path / "hall.toml"
    config.write_text(text, encoding="utf-8")
    steps = [
        {"wait": {"connected": True}},
        {"key": "F12"}, {"wait": {"popup": "windows"}}, {"shot": "windows"},
        {"key": "right"}, {"key": "enter"}, {"wait": {"window": "2", "popup": "login"}},
        {"type": "2002"}, {"key": "enter"}, {"wait": {"state": "idle", "staff": "2002"}},
        {"shot": "keys"},
        {"key": "F4"}, {"wait": {"popup": None}},  # transfer without a ticket: nothing opens
        {"key": "F5"}, {"wait": {"ticket": "A001"}},
        {"key": "F1"}, {"wait": {"held": ["A001"], "ticket": None}},
        {"key": "F6"}, {"wait": {"popup": "held"}}, {"key": "escape"}, {"wait": {"popup": None}},
        {"key": "F6"}, {"wait": {"popup": "held"}}, {"key": "enter"}, {"wait": {"ticket": "A001"}},
        {"key": "F9"}, {"wait": {"ticket": None, "rating": "timeout"}}, {"shot": "not_rated"},
        {"key": "F10"}, {"wait": {"rating": "satisfied"}},
        {"key": "F12"}, {"wait": {"state": "closed"}},
    ]

    async def scenario(url: str):
        await issue(url, "civil")
        observer = Observer(url, patient=False)
        async with observer.admin:
            run = await run_terminal(url, tmp_path / "shots", steps, device="term-12", config=config)
        return run, observer

    with HubProcess(config, tmp_path / "hall.db") as hub:
        run, observer = asyncio.run(scenario(hub.url))
    run.check()
    assert "选择本终端的窗口" in run.texts("windows") and "2号窗口" in run.texts("windows")
    keys = run.shots["keys"]["texts"]
    assert any(t.startswith("2号窗口") and "切换" in t for t in keys)
    assert any(t.startswith("叫号\n") and "F5" in t for t in keys)
    assert any(t.startswith("挂起\n") and "F1" in t for t in keys)
    assert "评价：A001 未评价" in run.texts("not_rated") and "request_rating" in run.shots[
        "not_rated"]["enabled"]
    assert [e[:2] for e in observer.at("2")] == [
        ("window_login", None), ("ticket_called", "A001"), ("ticket_held", "A001"),
        ("ticket_called", "A001"), ("ticket_finished", "A001"), ("rating_requested", "A001"),
        ("rating_timeout", "A001"), ("rating_requested", "A001"), ("rating_received", "A001"),
        ("window_logout", None)]
    assert observer.at("1") == []


def test_the_terminal_shows_a_lost_hub_and_recovers_by_itself(hub_process, tmp_path):
    steps = [
        {"wait": {"connected": True}},
        {"key": "F12"}, {"type": "1001"}, {"key": "enter"}, {"wait": {"state": "idle"}},
        {"press": "call_next"}, {"wait": {"ticket": "A001"}},
        {"mark": "serving"},
        {"wait": {"connected": False}}, {"shot": "offline"},
        {"mark": "offline"},
        {"wait": {"connected": True, "ticket": "A001", "state": "calling", "waiting": 1}},
        {"press": "recall"}, {"wait": {"message_has": "重呼 A001"}}, {"shot": "recovered"},
    ]

    def cut_power() -> None:
        # SIGKILL, as in a power cut (a graceful stop also waits for connected clients to leave)
        hub_process.kill()

    async def on_mark(mark: str) -> None:
        if mark == "serving":
            await asyncio.to_thread(cut_power)
        elif mark == "offline":
            await asyncio.to_thread(hub_process.start)

    async def scenario():
        await issue(hub_process.url, "civil", "civil")
        return await run_terminal(hub_process.url, tmp_path / "shots", steps, on_mark=on_mark)

    run = asyncio.run(scenario()).check()
    offline = run.texts("offline")
    assert "与服务器的连接已断开，正在重连…" in offline and "未连接" in offline
    assert "A001" in offline  # the last known state stays on screen
    assert run.shots["offline"]["enabled"] == []
    recovered = run.texts("recovered")
    assert "已连接" in recovered and "重呼 A001（第 1 次）" in recovered
    assert looks_drawn(run.image("offline")) and looks_drawn(run.image("recovered"))


def test_a_terminal_the_hub_refuses_says_so_in_chinese(hub_process, tmp_path):
    config = tmp_path / "hall.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'token = "demo-term-1"', 'token = "stale-token"'), encoding="utf-8")
    steps = [{"wait": {"message_has": "服务器拒绝了本终端"}}, {"shot": "refused"}]
    run = asyncio.run(run_terminal(hub_process.url, tmp_path / "shots", steps, config=config)).check()
    assert "服务器拒绝了本终端（设备 term-1），请联系管理员核对设备编号和令牌" in run.texts("refused")
    assert run.shots["refused"]["enabled"] == []


def test_a_script_sleeps_longer_than_a_steps_timeout(hub_process, tmp_path):
    # the demo's terminals sleep half the busy hour (two minutes at 15x) before their shot;
    # a step's timeout is how long it may run past its due, so a long sleep still ends
    steps = [{"wait": {"connected": True}}, {"sleep": 3, "timeout": 1}, {"shot": "later"}]
    run = asyncio.run(run_terminal(hub_process.url, tmp_path / "shots", steps)).check()
    assert "later" in run.shots
