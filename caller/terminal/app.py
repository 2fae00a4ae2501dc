"""The terminal as a Kivy app: the bar, the hub connection and the keyboard.

Import only after caller.kivyapp.prepare(). The hub client runs on its own thread and
hands every callback to the UI thread (caller.kivyapp.on_ui_thread).
"""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window

from caller.core.client import ThreadedHubClient
from caller.core.config import HallConfig
from caller.core.i18n import Translator
from caller.kivyapp import on_ui_thread
from caller.terminal.controller import Terminal
from caller.terminal.shortcuts import actions_by_keycode
from caller.terminal.ui import Bar, Chooser, Prompt, arrival_words


class TerminalApp(App):
    def __init__(self, config: HallConfig, device: str, window: str, hub_url: str,
                 shortcuts: dict[str, str], strings: Translator, on_top: bool = False,
                 ask_case_no: bool = False) -> None:
        super().__init__()
        self.hall = config
        self.device = device
        self.hub_url = hub_url
        self.shortcuts = shortcuts
        self.keymap = actions_by_keycode(shortcuts)
        self.strings = strings
        self.on_top = on_top
        self.ask_case_no = ask_case_no
        self.bar: Bar | None = None
        # Many events in one frame redraw once.
        self._redraw = Clock.create_trigger(lambda _dt: self.bar and self.bar.render(), 0)
        self.terminal = Terminal(config, device, window, strings, on_change=self._redraw)
        self.popup: Chooser | Prompt | None = None
        self.hub: ThreadedHubClient | None = None
        self.title = f"{strings('title')} · {config.hall.name}"

    def build(self) -> Bar:
        self.bar = Bar(self.terminal, self.shortcuts, self.press, self.choose_window)
        Window.bind(on_key_down=self._on_key_down)
        if self.on_top:
            Window.always_on_top = True
        return self.bar

    def on_start(self) -> None:
        t = self.terminal
        self.hub = ThreadedHubClient(
            self.hub_url, self.device, self.hall.devices[self.device].token,
            on_event=t.on_event, on_welcome=t.on_welcome, on_connection=t.on_connection,
            dispatch=on_ui_thread).start()
        t.client = self.hub
        Clock.schedule_interval(self._check_refused, 1.0)

    def on_stop(self) -> None:
        if self.hub is not None:
            self.hub.stop()

    # ------------------------------------------------------------------ the clerk's input

    def press(self, action: str) -> None:
        """A button or its shortcut: act, or first ask what the action needs."""
        t, s = self.terminal, self.strings
        if self.popup is not None or not t.enabled(action):
            return
        m = t.model
        if action == "login" and m.staff is None:
            if len(t.windows) > 1:
                self.choose_window(then_login=True)
            else:
                self._ask_staff()
        elif action == "pause" and not m.paused:
            reasons = [(r, r) for r in s.series("pause_reason")]
            self._open(Chooser("pause", s("pause_title"), [("", reasons)],
                               lambda reason: t.act("pause", reason=reason), s))
        elif action == "transfer":
            cfg = self.hall
            services = [(f"service:{sid}", svc.name) for sid, svc in cfg.services.items()
                        if sid != m.ticket["service"]]
            windows = [(f"window:{wid}", w.name) for wid, w in cfg.windows.items()
                       if wid != m.window]
            self._open(Chooser("transfer", s("transfer_title", number=m.ticket["number"]),
                               [(s("transfer_services"), services), (s("transfer_windows"), windows)],
                               self._transfer, s))
        elif action == "call_held":
            held = [(h["number"], " · ".join([s("held_item", number=h["number"],
                                                  service=h["service_name"]), *arrival_words(s, h)]))
                    for h in m.held]
            self._open(Chooser("held", s("held_title"), [("", held)],
                               lambda number: t.act("call_held", ticket=number), s))
        elif action == "finish" and self.ask_case_no:
            # a code scanner types the 办件编号 and Enter; an empty Enter finishes without one
            self._open(Prompt("case_no", s("case_no_title", number=m.ticket["number"]),
                              s("case_no_hint"), lambda case_no: t.act("finish", case_no=case_no),
                              s, optional=True))
        elif action == "call_number":
            self._open(Prompt("number", s("number_title"), s("number_hint"),
                              lambda number: t.act("call_number", number=number.upper()), s))
        else:
            t.act(action)

    def choose_window(self, then_login: bool = False) -> None:
        t, s = self.terminal, self.strings
        if len(t.windows) < 2 or self.popup is not None:
            return
        options = [(wid, self.hall.windows[wid].name) for wid in t.windows]

        def chosen(wid: str) -> None:
            t.select_window(wid)
            if then_login and t.model.staff is None:
                self._ask_staff()

        self._open(Chooser("windows", s("windows_title"), [("", options)], chosen, s))

    def _ask_staff(self) -> None:
        t, s = self.terminal, self.strings
        self._open(Prompt("login", s("login_title", window=t.model.name), s("login_hint"),
                          lambda staff: t.act("login", staff=staff), s))

    def _transfer(self, choice: str) -> None:
        kind, _, target = choice.partition(":")
        self.terminal.act("transfer", **{f"to_{kind}": target})

    def _open(self, popup: Chooser | Prompt) -> None:
        self.popup = popup
        popup.bind(on_dismiss=self._closed)
        popup.open(animation=False)
        self._redraw()

    def _closed(self, popup: Chooser | Prompt) -> None:
        if self.popup is popup:
            self.popup = None

    def _on_key_down(self, _window: object, key: int, *_rest: object) -> bool:
        if self.popup is not None:
            return self.popup.handle_key(key)
        action = self.keymap.get(key)
        if action is None:
            return False
        self.press(action)
        return True

    # ------------------------------------------------------------------ hub side

    def _check_refused(self, _dt: float) -> None:
        if self.hub is not None and self.hub.client.fatal is not None:
            self.terminal.on_refused()
            Clock.unschedule(self._check_refused)
