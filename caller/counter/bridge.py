"""The counter bridge: caller keypads (呼叫器) and evaluators (评价器) on one RS-485 line.

Three layers, each small:

- Pure decisions (`caller.counter.rules`): ``counter_settings`` reads the device out of the hall config,
  ``classify`` says what a frame from the line is, ``plan_key`` turns a key press into
  the hub command(s) to try, ``window_view`` keeps what a keypad shows.
- ``SerialLine``: one thread owns the port (pyserial ``serial_for_url``, 8N1, short read
  timeout). It parses FT1.2 frames, echoes every key frame at once (the acknowledgement
  the keypad waits for, sent before the hub is even asked), hands the press to the
  bridge, and writes what the ``Outbox`` holds, paced for a shared 9600-baud line. When
  the port fails (USB–RS-485 adapter pulled out) it closes it and tries again every
  second; once open again it redraws every display and evaluator light.
- ``CounterBridge``: the asyncio side. It talks to the hub with ``HubClient``, carries
  out presses, and keeps every keypad display and evaluator light equal to the hub's
  snapshot. The two sides meet only in thread-safe hand-offs: the line calls back through
  ``loop.call_soon_threadsafe``; the bridge puts frames into the ``Outbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import serial

from caller.core.client import HubClient
from caller.core.config import HallConfig
from caller.core.device_alerts import DeviceAlerts
from caller.core.protocol import RATING_EVENTS, AlertKind, Event
from caller.counter.rules import (
    CounterSettings,
    KeyPress,
    Outbox,
    Plan,
    Press,
    RatingPress,
    WindowView,
    classify,
    key_name,
    line_time,
    plan_key,
    window_view,
)
from drivers.bus.ft12 import Frame, FrameParser, encode_frame
from drivers.bus.models import (
    LOGIN_REFUSALS,
    evaluator_start,
    evaluator_stop,
    keypad_beep,
    keypad_display,
    keypad_fail,
    keypad_login_refused,
)
from drivers.line import LineOwner, close_serial, open_serial

READ_TIMEOUT_S = 0.01
"""How long one read waits: also how soon a queued frame goes out."""
IDLE_GAP_S = 0.05
"""Silence after which an unfinished frame is given up (USB adapters deliver in bursts)."""
WRITE_TIMEOUT_S = 2.0
FRAME_GAP_CHARS = 3.5
"""Silence the host leaves after each frame, in character times, so a device can talk."""
STATS_EVERY_S = 60.0
FAIL_SHOW_S = 2.0
REPLY_TIMEOUT_S = 5.0
log = logging.getLogger("hallq.counter")

STRINGS = {
    "zh": {
        "offline": "呼叫器/评价器串口 {port} 已断开，正在每秒自动重连",
        "online": "呼叫器/评价器串口 {port} 已恢复连接",
        "timeout": "服务器无应答",
        "bad_view": "窗口 {window} 的呼叫器无法显示服务器发来的状态（{error}），仍显示上一次的状态",
        "view_ok": "窗口 {window} 的呼叫器已恢复显示",
    },
    "en": {
        "offline": "Keypad/evaluator line {port} is down; retrying every second",
        "online": "Keypad/evaluator line {port} is back",
        "timeout": "no answer from the hub",
        "bad_view": "the keypad of window {window} cannot show what the hub sent ({error}); "
                    "it keeps showing the last state",
        "view_ok": "the keypad of window {window} shows again",
    },
}
def say(key: str, lang: str = "zh", **values: object) -> str:
    return STRINGS.get(lang, STRINGS["zh"])[key].format(**values)


# --- the thread that owns the port ----------------------------------------------------


class SerialLine(LineOwner):
    """Owns one serial port in its own thread (``drivers.line``); see the module docstring.

    ``on_press(press)`` and ``on_state(up, detail)`` are called from the line thread: pass
    functions that hand over to your own loop. ``on_state`` reports changes only: up
    once the port opens, down when it fails or cannot be opened (the log says why).
    """

    def __init__(self, port: str, baudrate: int, classify: Callable[[Frame], Press | None], *,
                 on_press: Callable[[Press], None], on_state: Callable[[bool, str], None]) -> None:
        super().__init__(f"counter line {port}", on_state)
        self.port = port
        self.baudrate = baudrate
        self.outbox = Outbox()
        self._classify = classify
        self._on_press = on_press
        self._parser = FrameParser()
        self._serial: serial.SerialBase | None = None
        self._free_at = 0.0
        self._last_rx = 0.0
        self._next_stats = time.monotonic() + STATS_EVERY_S
        self._logged = (0, 0)
        self.acked = 0
        self.ignored_frames = 0

    @property
    def stats(self) -> dict[str, int]:
        """Frames acknowledged, valid frames ignored, and what the parser threw away."""
        return {"acked": self.acked, "ignored_frames": self.ignored_frames,
                "bad_frames": self._parser.bad_frames, "dropped_bytes": self._parser.dropped_bytes,
                "reopened": self.reopened}

    def stop(self) -> None:
        super().stop()
        self._log_noise()

    def open(self) -> None:
        self._serial = open_serial(
            self.port, self.baudrate, bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE, timeout=READ_TIMEOUT_S, write_timeout=WRITE_TIMEOUT_S)
        log.info("counter line %s open at %d baud", self.port, self.baudrate)
        self._parser.flush()  # give up a frame cut off by the last failure
        self.outbox.line_reset()

    def close(self) -> None:
        close_serial(self._serial)
        self._serial = None

    def serve(self) -> None:
        self._pump()
        if time.monotonic() >= self._next_stats:
            self._next_stats += STATS_EVERY_S
            self._log_noise()

    def _pump(self) -> None:
        port = self._serial
        assert port is not None
        data = self._read(port)
        now = time.monotonic()
        if data:
            self._last_rx = now
            frames = self._parser.feed(data)
        elif self._parser.buffered and now - self._last_rx >= IDLE_GAP_S:
            frames = self._parser.flush()
        else:
            frames = []
        for frame in frames:
            press = self._classify(frame)
            if press is None:
                self.ignored_frames += 1
                log.debug("ignored frame %s", frame)
                continue
            self._write(port, encode_frame(frame))  # the acknowledgement, before anything else
            self.acked += 1
            self._on_press(press)
        while time.monotonic() >= self._free_at:
            pending = self.outbox.take()
            if pending is None:
                break
            self._write(port, pending)

    def _read(self, port: serial.SerialBase) -> bytes:
        """What has arrived; waits at most a read timeout, or until the line is free for
        the next frame waiting to go out."""
        arrived = port.in_waiting
        if arrived:
            return port.read(arrived)
        until_free = self._free_at - time.monotonic()
        if until_free < READ_TIMEOUT_S and self.outbox.pending:
            if until_free > 0:
                time.sleep(until_free)
            return b""
        return port.read(1)

    def _write(self, port: serial.SerialBase, data: bytes) -> None:
        """Write now; the next frame waits until these bytes and a gap are on the wire."""
        port.write(data)
        start = max(time.monotonic(), self._free_at)
        self._free_at = start + line_time(len(data) + FRAME_GAP_CHARS, self.baudrate)

    def _log_noise(self) -> None:
        counts = (self._parser.bad_frames, self._parser.dropped_bytes)
        if counts != self._logged:
            self._logged = counts
            log.warning("counter line %s: %d broken frames and %d noise bytes dropped so far "
                        "(%d valid frames ignored)", self.port, *counts, self.ignored_frames)


# --- the bridge -----------------------------------------------------------------------


REFRESH_ON = frozenset({
    Event.QUEUE_CHANGED, Event.TICKET_CALLED, Event.TICKET_FINISHED, Event.TICKET_SKIPPED,
    Event.TICKET_TRANSFERRED, Event.TICKET_HELD, Event.TICKET_CANCELLED, Event.WINDOW_PAUSED,
    Event.WINDOW_RESUMED, Event.WINDOW_LOGIN, Event.WINDOW_LOGOUT, Event.RATING_REQUESTED,
    Event.RATING_RECEIVED, Event.RATING_TIMEOUT,
})
"""Events after which a keypad display may be out of date."""


class CounterBridge:
    """Keypads and evaluators of one counter line, connected to the hub.

    ``await start()`` connects (and keeps reconnecting) to the hub and starts the line
    thread; ``await stop()`` stops both. ``wait_ready()`` returns once the hub's
    snapshot is shown and the windows are logged in.
    """

    def __init__(self, config: HallConfig, settings: CounterSettings, hub_url: str, lang: str = "zh") -> None:
        self.config = config
        self.settings = settings
        self.lang = lang
        self.views = {w: WindowView() for w in settings.addresses}
        self.client = HubClient(hub_url, settings.device, settings.token,
                                on_event=self._on_event, on_welcome=self._on_welcome)
        self.line: SerialLine | None = None
        self._locks = {w: asyncio.Lock() for w in settings.addresses}
        self._tasks: set[asyncio.Task] = set()
        self._refresh: asyncio.Task | None = None
        self._refresh_again = False
        self._ready = asyncio.Event()
        self._redraws: dict[str, asyncio.TimerHandle] = {}
        self._answered: set[str] = set()
        """Windows whose key the hub just carried out: their display goes out first."""
        self._login_refused: dict[str, str] = {}
        """Windows whose last login the roster refused → why (shown until a login succeeds)."""
        self._alerts = DeviceAlerts()
        """The line, and each window whose last snapshot entry its keypad could not show."""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def to_loop(callback: Callable[..., None]) -> Callable[..., None]:
            def hand_over(*args: Any) -> None:
                with contextlib.suppress(RuntimeError):  # the loop closed while shutting down
                    loop.call_soon_threadsafe(callback, *args)
            return hand_over

        self.line = SerialLine(self.settings.port, self.settings.baudrate,
                               lambda frame: classify(frame, self.settings),
                               on_press=to_loop(self._on_press), on_state=to_loop(self._on_line))
        await self.client.start(wait=False)
        self.line.start()
        log.info("counter bridge %s: line %s, hub %s", self.settings.device, self.settings.port,
                 self.client.url)

    async def stop(self) -> None:
        if self.line is not None:
            await asyncio.to_thread(self.line.stop)
        for handle in self._redraws.values():
            handle.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def __aenter__(self) -> CounterBridge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # hub → devices

    def _on_welcome(self, message: dict) -> None:
        self._show_snapshot(message["snapshot"])
        self._spawn(self._sign_in())

    async def _sign_in(self) -> None:
        for window, view in self.views.items():
            if view.staff is None:
                async with self._locks[window]:
                    await self._login(window)
        self._ready.set()

    async def _login(self, window: str) -> dict:
        staff = self.settings.staff[window]
        reply = await self._request("login", window=window, staff=staff)
        if reply["ok"]:
            log.info("window %s logged in as %s", window, staff)
        else:
            log.warning("window %s: login as %s refused: %s", window, staff, reply["error"]["message"])
        self._login_answered(window, reply)
        return reply

    def _login_answered(self, window: str, reply: dict) -> None:
        """A refused login stays on the keypad's display until one succeeds."""
        code = None if reply["ok"] else reply["error"]["code"]
        if code in LOGIN_REFUSALS:
            self._login_refused[window] = code
            self._draw(window, first=True)
        elif reply["ok"] and self._login_refused.pop(window, None):
            self._draw(window, first=True)

    def _on_event(self, message: dict) -> None:
        name, window = message["event"], message.get("window")
        if window in self.views and name in RATING_EVENTS:
            self.views[window] = replace(self.views[window], rating_pending=name == Event.RATING_REQUESTED)
            self._light(window)
        if name == Event.WINDOW_LOGIN and window in self._login_refused:
            del self._login_refused[window]  # someone logged in there (a terminal)
        if name in REFRESH_ON:
            self._refresh_soon()

    def _refresh_soon(self) -> None:
        """Ask for one snapshot; events arriving meanwhile ask for one more, not one each."""
        if self._refresh is not None and not self._refresh.done():
            self._refresh_again = True
            return
        self._refresh = self._spawn(self._refresh_views())

    async def _refresh_views(self) -> None:
        while True:
            self._refresh_again = False
            reply = await self.client.request("snapshot")
            if reply["ok"]:
                self._show_snapshot(reply["snapshot"])
            if not self._refresh_again:
                return

    def _show_snapshot(self, snapshot: dict) -> None:
        for entry in snapshot["windows"]:
            if entry.get("id") in self.views:
                self._take_view(entry["id"], entry)
        for window in self.views:
            self._draw(window, first=window in self._answered)
            self._light(window)
        self._answered.clear()

    def _take_view(self, window: str, entry: dict) -> None:
        """Keep the window's new view if its keypad can show it; else keep the last one
        and tell the manager (once, and again when it is right)."""
        try:
            view = window_view(entry, self.views[window])
            keypad_display(self.settings.addresses[window], view.ticket, view.waiting,
                           self.settings.keypad)
        except Exception as e:  # whatever one window's entry holds, the other keypads go on
            if self._alerts.changed(f"view {window}", False) is not None:
                log.error("window %s: keypad cannot show the hub's state: %r", window, e)
                self._spawn(self._alert(AlertKind.DEVICE_OFFLINE, f"view {window}",
                                        say("bad_view", self.lang, window=window, error=e)))
            return
        self.views[window] = view
        if self._alerts.changed(f"view {window}", True) is not None:
            self._spawn(self._alert(AlertKind.DEVICE_ONLINE, f"view {window}",
                                    say("view_ok", self.lang, window=window)))

    def _draw(self, window: str, first: bool = False) -> None:
        address, view = self.settings.addresses[window], self.views[window]
        refused = self._login_refused.get(window)
        frame = (keypad_login_refused(address, refused, self.settings.keypad) if refused
                 else keypad_display(address, view.ticket, view.waiting, self.settings.keypad))
        self._outbox.set(("keypad", address), frame, first)

    def _light(self, window: str) -> None:
        model = self.settings.evaluator
        if model is not None:
            address = self.settings.addresses[window]
            lit = self.views[window].rating_pending
            self._outbox.set(("evaluator", address),
                             (evaluator_start if lit else evaluator_stop)(address, model))

    @property
    def _outbox(self) -> Outbox:
        assert self.line is not None
        return self.line.outbox

    # devices → hub

    def _on_press(self, press: Press) -> None:
        if isinstance(press, KeyPress):
            self._spawn(self._key(press))
        else:
            self._spawn(self._rate(press))

    async def _key(self, press: KeyPress) -> None:
        window, action = press.window, press.action
        async with self._locks[window]:
            plan = plan_key(action, window, self.views[window], self.config)
            if plan is None:
                log.info("window %s: %s: nothing matches", window, key_name(action))
                self._fail(action.address)
                return
            if not self.client.connected:
                log.warning("window %s: %s refused: the hub is not connected", window, key_name(action))
                self._fail(action.address)
                return
            reply = await self._carry_out(window, plan)
            if action.action == "login":
                self._login_answered(window, reply)
                if not reply["ok"] and reply["error"]["code"] in LOGIN_REFUSALS:
                    return  # the refusal stays on the display
        if reply["ok"]:
            ticket = reply.get("ticket") or {}
            log.info("window %s: %s ok %s", window, key_name(action), ticket.get("number", ""))
            self._outbox.send(keypad_beep(action.address, self.settings.keypad))
            self._answered.add(window)
            self._refresh_soon()
        else:
            log.info("window %s: %s refused: %s", window, key_name(action), reply["error"]["message"])
            self._fail(action.address)

    async def _carry_out(self, window: str, plan: Plan) -> dict:
        reply: dict = {}
        for kind, args in plan.commands:
            reply = await self._request(kind, window=window, **args)
            if (not reply["ok"] and reply["error"]["code"] == "not_logged_in"
                    and (await self._login(window))["ok"]):
                reply = await self._request(kind, window=window, **args)
            if reply["ok"] or reply["error"]["code"] not in plan.next_on:
                break
        return reply

    def _fail(self, address: int) -> None:
        """Blank display and two beeps; the normal display comes back after a moment."""
        self._outbox.send(keypad_fail(address, self.settings.keypad), overwrites=("keypad", address))
        window = self.settings.window_at(address)
        if window is not None:
            if window in self._redraws:
                self._redraws[window].cancel()
            self._redraws[window] = asyncio.get_running_loop().call_later(FAIL_SHOW_S, self._draw, window)

    async def _rate(self, press: RatingPress) -> None:
        """Send the rating (kept and resent until the hub answers), and put the pad out now."""
        rated = asyncio.ensure_future(
            self._request("rate", timeout=None, window=press.window, level=press.level))
        self.views[press.window] = replace(self.views[press.window], rating_pending=False)
        self._light(press.window)
        reply = await rated
        if reply["ok"]:
            log.info("window %s rated %s", press.window, press.level)
        else:
            log.info("window %s: rating %s refused: %s", press.window, press.level, reply["error"]["message"])

    # the line's health

    def _on_line(self, up: bool, _detail: str) -> None:
        kind = self._alerts.changed("line", up)
        if kind is not None:
            self._spawn(self._alert(kind, "line", say("online" if up else "offline", self.lang,
                                                      port=self.settings.port)))

    async def _alert(self, kind: AlertKind, part: str, message: str) -> None:
        """`part` is the `DeviceAlerts` part: the hub closes that part's fault only."""
        reply = await self._request("report_alert", timeout=None, kind=kind, message=message,
                                    part=part)
        if not reply["ok"]:
            log.warning("hub refused alert %s: %s", kind, reply["error"]["message"])

    # plumbing

    async def _request(self, command: str, /, *, timeout: float | None = REPLY_TIMEOUT_S,
                       **args: Any) -> dict:
        try:
            return await self.client.request(command, timeout=timeout, **args)
        except TimeoutError:
            return {"ok": False, "error": {"code": "timeout", "message": say("timeout", self.lang)}}

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("counter bridge task failed", exc_info=task.exception())
