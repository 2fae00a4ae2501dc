"""The TV wall (综合屏): the newest call large and flashing, recent calls, window states,
waiting counts, hall name, date and clock, a rolling notice, and the voice.

The hub connection runs on its own thread (`ThreadedHubClient`); its callbacks come to the
Kivy thread, where `WallModel` folds them in and only the widgets it names are updated.
`ticket_called` also goes to the voice, which speaks from its own worker thread.

Call `caller.kivyapp.prepare()` before importing this module.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from caller.core.client import HubTime, ThreadedHubClient
from caller.core.protocol import Event
from caller.kivyapp import on_ui_thread, visible_texts
from display.wall.model import Changes, WallModel
from display.wall.strings import words
from display.wall.voice import WallVoice
from display.wall.widgets import (
    BACKGROUND,
    CallBanner,
    ConnectionBar,
    Header,
    Marquee,
    RecentTable,
    WaitingGrid,
    WindowGrid,
)

log = logging.getLogger(__name__)

DESIGN_LANDSCAPE = (1920, 1080)
DESIGN_PORTRAIT = (1080, 1920)


@dataclass(frozen=True)
class WallOptions:
    hub_url: str
    device: str
    token: str
    hall_name: str
    timezone: str
    windows: list[tuple[str, str]]  # (id, name) of the windows the wall shows, in order
    services: list[tuple[str, str]]  # (id, name) of the services it counts
    area: str = ""
    portrait: bool = False
    lang: str = "zh"
    rows: int = 8
    flash_s: float = 8.0
    mark_arrivals: bool = True  # `mark_arrivals` of the display's device


class WallScreen(FloatLayout):
    """Lays the pieces out for landscape or portrait; rebuilt only when the window resizes."""

    def __init__(self, options: WallOptions, size: tuple[int, int], **kwargs) -> None:
        super().__init__(**kwargs)
        o = options
        design = DESIGN_PORTRAIT if o.portrait else DESIGN_LANDSCAPE
        u = min(size[0] / design[0], size[1] / design[1])
        gap = 12 * u
        self.header = Header(u, o.portrait, o.lang)
        self.banner = CallBanner(u, o.portrait, o.lang)
        self.marquee = Marquee(u, o.lang, height=(84 if o.portrait else 74) * u)
        # Across the top of the call banner, where everyone looks.
        below_header = 1 - (self.header.height + gap) / size[1]
        self.connection = ConnectionBar(u, o.lang, pos_hint={"x": 0, "top": below_header})
        n_windows, n_services = len(o.windows), len(o.services)
        if o.portrait:
            self.recent = RecentTable(u, o.rows, o.lang, size_hint_y=0.52)
            self.windows = WindowGrid(u, 4, o.windows, o.lang,
                                      size_hint_y=0.26 * max(1, -(-n_windows // 4)) / 2)
            self.waiting = WaitingGrid(u, 3, o.services, o.lang,
                                       size_hint_y=0.22 * max(1, -(-n_services // 3)) / 3)
            body = BoxLayout(orientation="vertical", spacing=gap)
            for part in (self.recent, self.windows, self.waiting):
                body.add_widget(part)
        else:
            self.recent = RecentTable(u, o.rows, o.lang, size_hint_x=0.42)
            self.windows = WindowGrid(u, 2 if n_windows <= 8 else 3, o.windows, o.lang,
                                      size_hint_x=0.33)
            self.waiting = WaitingGrid(u, 1 if n_services <= 8 else 2, o.services, o.lang,
                                       size_hint_x=0.25)
            body = BoxLayout(orientation="horizontal", spacing=gap)
            for part in (self.recent, self.windows, self.waiting):
                body.add_widget(part)
        page = BoxLayout(orientation="vertical", spacing=gap)
        page.add_widget(self.header)
        inner = BoxLayout(orientation="vertical", spacing=gap, padding=(gap, 0, gap, 0))
        inner.add_widget(self.banner)
        inner.add_widget(body)
        page.add_widget(inner)
        page.add_widget(self.marquee)
        self.add_widget(page)
        self.add_widget(self.connection)

    def refresh(self, model: WallModel, changes: Changes) -> None:
        """Update only what `changes` names."""
        if changes.hall:
            self.header.set_hall(model.hall_name)
            self.banner.show(model.newest)
        if changes.notice:
            self.marquee.set_text(model.notice)
        if changes.newest:
            self.banner.show(model.newest)
        if changes.recent:
            self.recent.show(model.recent)
        for wid in changes.windows:
            self.windows.show(model.windows[wid])
        for sid in changes.services:
            self.waiting.show(model.services[sid])


class WallApp(App):
    def __init__(self, options: WallOptions, voice: WallVoice | None = None,
                 voice_status: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options
        self.title = options.hall_name
        self.voice = voice
        self.voice_off_status = voice_status or {"enabled": False}
        self.model = WallModel(rows=options.rows, area=options.area, marks=options.mark_arrivals)
        self.tz = ZoneInfo(options.timezone)
        self.connected = False
        self.ever_connected = False
        self.called_received = 0
        self.calls_shown = 0
        self.welcome_seq = -1
        self.hub_time = HubTime()
        self.last_seq = -1
        self.screen: WallScreen | None = None
        self._built_size: tuple[int, ...] = ()
        self.screens_built = 0  # stays 1 unless the window is resized: events never rebuild
        self.client: ThreadedHubClient | None = None
        self.root_box: FloatLayout | None = None
        self._loaded = False

    # ------------------------------------------------------------------ Kivy

    def build(self) -> FloatLayout:
        Window.clearcolor = BACKGROUND
        self.root_box = FloatLayout()
        self._build_screen()
        Window.bind(size=lambda *_: Clock.schedule_once(lambda _dt: self._build_screen(), 0.2))
        return self.root_box

    def on_start(self) -> None:
        self._tick(0)
        Clock.schedule_interval(self._tick, 1.0)
        o = self.options
        self.client = ThreadedHubClient(
            o.hub_url, o.device, o.token, on_event=self.on_hub_event,
            on_welcome=self.on_welcome, on_connection=self.on_connection,
            dispatch=on_ui_thread).start()

    def on_stop(self) -> None:
        if self.client is not None:
            self.client.stop()
        if self.voice is not None:
            self.voice.close()

    def _build_screen(self) -> None:
        size = tuple(int(v) for v in Window.size)
        if self.screen is not None and self._built_size == size:
            return
        self.root_box.clear_widgets()
        self.screen = WallScreen(self.options, size)
        self._built_size = size
        self.screens_built += 1
        self.root_box.add_widget(self.screen)
        self.screen.header.set_hall(self.options.hall_name)
        self.screen.header.tick(self.hall_now())
        self.screen.connection.show(self.connection_state())
        if self._loaded:
            self.screen.refresh(self.model, Changes(
                hall=True, notice=True, newest=True, recent=True,
                windows=set(self.model.windows), services=set(self.model.services)))

    def _tick(self, _dt: float) -> None:
        if self.screen is not None:
            self.screen.header.tick(self.hall_now())
            if self.connection_state() == "refused":
                self.screen.connection.show("refused")

    # ------------------------------------------------------------------ hub callbacks

    def hall_now(self) -> datetime:
        return self.hub_time.now(self.tz)

    def on_welcome(self, message: dict) -> None:
        self.hub_time.follow(message.get("now"))
        # Events replayed after this welcome (seq <= its seq) are already in the snapshot.
        self.welcome_seq = message.get("seq", -1)
        self.last_seq = max(self.last_seq, self.welcome_seq)
        changes = self.model.load(message["snapshot"])
        self._loaded = True
        if self.screen is not None:
            self.screen.refresh(self.model, changes)

    def on_connection(self, connected: bool) -> None:
        if connected != self.connected:
            log.warning("hub %s", "connected" if connected else "connection lost; reconnecting")
        self.connected = connected
        self.ever_connected = self.ever_connected or connected
        if self.screen is not None:
            self.screen.connection.show(self.connection_state())

    def connection_state(self) -> str | None:
        """None when connected, else what the connection bar says."""
        if self.connected:
            return None
        if self.client is not None and self.client.client.fatal is not None:
            return "refused"  # a wrong token or device id: retrying cannot help
        return "lost" if self.ever_connected else "connecting"

    def on_hub_event(self, message: dict) -> None:
        received_at = time.monotonic()
        self.hub_time.follow(message.get("at"))
        self.last_seq = max(self.last_seq, message.get("seq", -1))
        is_call = message.get("event") == Event.TICKET_CALLED
        self.called_received += is_call
        if message.get("seq", 0) <= self.welcome_seq:
            if is_call and self._still_calling(message):
                self._speak(message, received_at)  # called while we were away, still waiting
            return
        changes = self.model.apply(message)
        if self.screen is not None and changes:
            self.screen.refresh(self.model, changes)
        if changes.needs_snapshot and self.client is not None:
            self.client.request("snapshot", self._sync_windows)
        if changes.newest:
            self.calls_shown += 1
            if self.screen is not None:
                self.screen.banner.flash(self.options.flash_s)
            self._speak(message, received_at)

    def _sync_windows(self, reply: dict) -> None:
        if reply.get("ok") and self.screen is not None:
            self.screen.refresh(self.model, self.model.sync_windows(reply["snapshot"]))

    def _still_calling(self, message: dict) -> bool:
        view = self.model.windows.get(message.get("window", ""))
        return (view is not None and view.state == "calling"
                and view.number == message["ticket"]["number"])

    def _speak(self, message: dict, received_at: float) -> None:
        if self.voice is not None:
            self.voice.called(message, received_at)

    # ------------------------------------------------------------------ for tests and scripts

    def status(self) -> dict:
        """What the wall shows and has done, as plain data."""
        m = self.model
        screen = self.screen
        lang = self.options.lang
        return {
            "connected": self.connected,
            "last_seq": self.last_seq,
            "connection": screen.connection.state if screen else None,  # as shown
            "connection_bar": bool(screen and screen.connection.opacity > 0),
            "called_received": self.called_received,
            "calls_shown": self.calls_shown,
            "flashing": bool(screen and screen.banner.flashing),
            "newest": None if m.newest is None else {
                "number": m.newest.number, "window_name": m.newest.window_name,
                "recalls": m.newest.recalls},
            "recent": [[r.number, r.window_name, words(lang)("status_" + r.status, target=r.target)]
                       for r in m.recent],
            "recent_rows": len(screen.recent.lines) if screen else 0,
            "screens_built": self.screens_built,
            "windows": {v.name: v.state for v in m.windows.values()},
            "waiting": {v.name: v.waiting for v in m.services.values()},
            "notice": m.notice,
            "marquee": screen.marquee.visible_text() if screen else "",
            "hall": m.hall_name,
            "size": list(Window.size),
            "portrait": self.options.portrait,
            "voice": self.voice.status() if self.voice else self.voice_off_status,
        }

    def voice_timings(self) -> list[dict]:
        return list(self.voice.timings) if self.voice else []

    def texts(self) -> list[str]:
        return visible_texts(self.root_box)
