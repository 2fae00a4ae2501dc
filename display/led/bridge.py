"""The LED strip bridge: one worker thread owns the shared line and paces the frames;
the bridge follows the hub and turns each window's state into what its strip shows
(the rules are in `display.led.rules`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Literal

from caller.core.client import HubClient
from caller.core.protocol import AlertKind
from display.led.options import LedSettings
from display.led.rules import (
    DEFAULT_TIMING,
    STRINGS,
    LookChange,
    Program,
    StripSchedule,
    StripTexts,
    StripTiming,
    WindowBoard,
    WriteQueue,
    program_for,
)
from drivers.led import LedProtocol, StripText, get_protocol
from drivers.led.transport import DEFAULT_BAUDRATE, LineTransport, open_line

log = logging.getLogger("hallq.led")

# ---------------------------------------------------------------- the line's worker

Opener = Callable[[str, int], LineTransport]
LineStateCallback = Callable[[bool, str], None]
StripStateCallback = Callable[[int, bool, str], None]


class StripLine:
    """The one thread that owns the strips' line. :meth:`show` may be called from any thread.

    ``on_state(online, error)`` runs on the worker thread when the line goes offline (the
    first failure after it worked, or at start) and when it is back. A frame that cannot
    be made is skipped (the strip's program goes on) and never stops the worker:
    ``on_strip(address, ok, error)`` runs when a frame of a strip fails, and when a frame
    of a later program for that strip goes out (a program that keeps failing on one of
    its frames is reported once).
    """

    def __init__(self, url: str, protocol: LedProtocol, baudrate: int = DEFAULT_BAUDRATE,
                 timing: StripTiming = DEFAULT_TIMING, on_state: LineStateCallback | None = None,
                 opener: Opener = open_line, on_strip: StripStateCallback | None = None) -> None:
        self.url = url
        self.protocol = protocol
        self.baudrate = baudrate
        self.timing = timing
        self._on_state = on_state
        self._on_strip = on_strip
        self._opener = opener
        self._cond = threading.Condition()
        self._inbox: dict[int, Program] = {}
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"led-line {url}", daemon=True)
        # Owned by the worker thread.
        self._schedule = StripSchedule()
        self._queue = WriteQueue()
        self._line: LineTransport | None = None
        self._offline = False
        self._failed: dict[int, Program | None] = {}  # strip -> the program that failed
        self._next_write = 0.0
        self._reopen_at = 0.0
        self._refresh_at = 0.0

    @property
    def queue_high_water(self) -> int:
        """The most frames that ever waited at once (never more than the strips)."""
        return self._queue.high_water

    def start(self) -> StripLine:
        self._refresh_at = time.monotonic() + self.timing.refresh_s
        self._thread.start()
        return self

    def show(self, address: int, program: Program) -> None:
        """Play ``program`` on strip ``address``, replacing what it played."""
        with self._cond:
            self._inbox[address] = program
            self._cond.notify()

    def stop(self) -> None:
        """Stop the worker and close the line; safe to call twice."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            while (action := self._next_action()) is not None:
                if action == "open":
                    self._open()
                else:
                    self._write(*action)
        finally:
            self._close_line()

    def _next_action(self) -> Literal["open"] | tuple[int, StripText] | None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                for address, program in self._inbox.items():
                    self._schedule.set(address, program, now)
                self._inbox.clear()
                for address, content in self._schedule.due(now):
                    self._queue.put(address, content)
                if now >= self._refresh_at:
                    self._repaint()
                    self._refresh_at = now + self.timing.refresh_s
                if self._line is None:
                    if now >= self._reopen_at:
                        return "open"
                    wake = self._reopen_at
                elif self._queue and now >= self._next_write:
                    return self._queue.pop()
                else:
                    wake = self._next_write if self._queue else math.inf
                wake = min(wake, self._schedule.next_due(), self._refresh_at)
                self._cond.wait(max(0.0, wake - now))
            return None

    def _repaint(self) -> None:
        for address, content in self._schedule.showing().items():
            self._queue.put(address, content)

    def _open(self) -> None:
        try:
            self._line = self._opener(self.url, self.baudrate)
        except OSError as e:
            self._went_offline(e)
            return
        log.info("LED line %s open", self.url)
        self._repaint()
        self._next_write = time.monotonic()
        if self._offline:
            self._offline = False
            self._report(True, "")

    def _write(self, address: int, content: StripText) -> None:
        assert self._line is not None
        try:
            frame = self.protocol.encode(address, content)
        except Exception as e:  # whatever one frame holds, the other strips go on
            self._schedule.written(address, time.monotonic())
            self._frame_failed(address, e)
            return
        try:
            self._line.write(frame)
        except OSError as e:
            self._close_line()
            self._went_offline(e)
            return
        now = time.monotonic()
        self._schedule.written(address, now)
        self._next_write = now + self.timing.frame_gap_s
        if address in self._failed and self._failed[address] is not self._schedule.program(address):
            del self._failed[address]
            self._report_strip(address, True, "")

    def _frame_failed(self, address: int, error: Exception) -> None:
        if address not in self._failed:
            log.error("LED strip %d: a frame could not be made (%s); skipped", address, error,
                      exc_info=error)
            self._report_strip(address, False, str(error))
        self._failed[address] = self._schedule.program(address)

    def _report_strip(self, address: int, ok: bool, error: str) -> None:
        if self._on_strip:
            self._on_strip(address, ok, error)

    def _went_offline(self, error: OSError) -> None:
        self._reopen_at = time.monotonic() + self.timing.reopen_s
        if not self._offline:
            self._offline = True
            log.warning("LED line %s offline: %s", self.url, error)
            self._report(False, str(error))

    def _close_line(self) -> None:
        if self._line is not None:
            with contextlib.suppress(OSError):
                self._line.close()
            self._line = None

    def _report(self, online: bool, error: str) -> None:
        if self._on_state:
            self._on_state(online, error)


# ---------------------------------------------------------------- the bridge


class LedBridge:
    """Keeps a line of strips in step with the hub. Use ``async with`` or start/close."""

    def __init__(self, hub_url: str, device: str, token: str, settings: LedSettings, *,
                 timing: StripTiming = DEFAULT_TIMING, lang: str = "zh") -> None:
        if lang not in STRINGS:
            raise ValueError(f"unknown language {lang!r}; valid: {', '.join(STRINGS)}")
        self.settings = settings
        self.timing = timing
        self.texts = StripTexts(settings.idle_text, lang)
        if problems := settings.problems():
            raise ValueError("; ".join(problems))
        self.board = WindowBoard()
        self.line = StripLine(settings.port, get_protocol(settings.protocol), settings.baudrate, timing,
                              on_state=self._line_state, on_strip=self._strip_state)
        self.client = HubClient(hub_url, device, token,
                              on_event=self._on_event, on_welcome=self._on_welcome)
        self._snapshot_seq = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._alerts: set[asyncio.Task] = set()

    async def start(self) -> LedBridge:
        """Start the line's worker and the hub connection (does not wait for the hub)."""
        self._loop = asyncio.get_running_loop()
        self.line.start()
        await self.client.start(wait=False)
        return self

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; raises HubUnavailable when the hub refuses the device."""
        connected = asyncio.ensure_future(self.client.wait_connected(None))
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({connected, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if connected.done():
                connected.result()
                await stopped
        finally:
            for task in (connected, stopped):
                task.cancel()

    async def close(self) -> None:
        await self.client.close()
        await asyncio.to_thread(self.line.stop)
        for task in list(self._alerts):
            task.cancel()

    async def __aenter__(self) -> LedBridge:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _on_welcome(self, message: dict) -> None:
        # Replayed events up to this seq are already in the snapshot: skip them.
        self._snapshot_seq = message["seq"]
        self.board.load(message["snapshot"])
        for window in self.settings.strips:
            self._show(LookChange(window, self.board.look(window)))

    def _on_event(self, message: dict) -> None:
        if message["seq"] <= self._snapshot_seq:
            return
        for change in self.board.apply(message):
            self._show(change)

    def _show(self, change: LookChange) -> None:
        address = self.settings.strips.get(change.window)
        if address is not None:
            self.line.show(address, program_for(change.look, change.flash, self.texts, self.timing))

    def _line_state(self, online: bool, error: str) -> None:
        """On the line's worker thread: hand the report to the event loop."""
        if online:
            message = self.texts.say("line_online", port=self.settings.port)
        else:
            message = self.texts.say("line_offline", port=self.settings.port, error=error)
        self._alert_from_worker(online, message, "line")

    def _strip_state(self, address: int, ok: bool, error: str) -> None:
        """On the line's worker thread: a strip's frames failed, or go out again."""
        windows = "、".join(w for w, a in self.settings.strips.items() if a == address)
        if ok:
            message = self.texts.say("strip_ok", address=str(address), window=windows)
        else:
            message = self.texts.say("strip_failed", address=str(address), window=windows,
                                     error=error)
        self._alert_from_worker(ok, message, f"strip {address}")

    def _alert_from_worker(self, online: bool, message: str, part: str) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed while shutting down
                self._loop.call_soon_threadsafe(self._send_alert, online, message, part)

    def _send_alert(self, online: bool, message: str, part: str) -> None:
        """`part` ("line", "strip 3"): a strip coming back leaves the line's fault open."""
        kind = AlertKind.DEVICE_ONLINE if online else AlertKind.DEVICE_OFFLINE
        task = asyncio.ensure_future(self.client.request("report_alert", kind=kind, message=message,
                                                         part=part))
        self._alerts.add(task)
        task.add_done_callback(self._alert_sent)

    def _alert_sent(self, task: asyncio.Task) -> None:
        self._alerts.discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:
            log.warning("could not report the LED line's state: %s", task.exception())
        elif not task.result().get("ok"):
            log.warning("hub refused the LED line report: %s", task.result().get("error"))
