"""The kiosk's 预约签到 screen: the booking code, or the phone number and the ID number's
last six characters, typed on a large keypad. It draws `CheckinEntry` and calls the app
back (`check_in`, `go_home`); the answer comes on the result or the refused screen."""

from __future__ import annotations

from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk import widgets as w
from kiosk.checkin_entry import CheckinEntry
from kiosk.screens import KioskScreen, KioskShell


class CheckinScreen(KioskScreen):
    def __init__(self, app: KioskShell, **kwargs: Any) -> None:
        super().__init__(app, name="checkin", **kwargs)
        self.entry = CheckinEntry()
        self.fields: dict[str, Any] = {}
        self.keys: dict[str, w.Action] = {}
        self.submit: w.Action | None = None

    def start(self) -> None:
        self.entry = CheckinEntry()

    def render(self) -> None:
        u = self.u
        self.clear_widgets()
        self.fields, self.keys = {}, {}
        body = BoxLayout(orientation="horizontal" if u.landscape else "vertical", padding=u(36),
                         spacing=u(32))
        left = BoxLayout(orientation="vertical", spacing=u(22))
        left.add_widget(w.tagged(w.text(self.t("checkin_title"), u(60), w.TEXT, bold=True,
                                        size_hint_y=None, height=u(90)), "checkin_title"))
        code = self.entry.mode == "code"
        left.add_widget(w.tagged(w.fitted(self.t("checkin_hint_code" if code else "checkin_hint_phone"),
                                          u(36), w.MUTED), "checkin_hint"))
        for field in (("code",) if code else ("phone", "id_last6")):
            left.add_widget(self._field(field))
        other = "phone" if code else "code"
        switch = w.Action(self.t(f"checkin_use_{other}"), u(38), w.NEUTRAL, w.NEUTRAL_PRESSED,
                          radius=u(14), size_hint_y=None, height=u(110))
        switch.bind(on_release=lambda *_: self._switch(other))
        left.add_widget(w.tagged(switch, "checkin_switch"))
        left.add_widget(BoxLayout())
        left.add_widget(self.countdown_label())
        self.submit = w.Action(self.t("checkin_submit"), u(56), w.GREEN, w.GREEN_PRESSED,
                               radius=u(16), size_hint_x=0.66)
        self.submit.bind(on_release=lambda *_: self.app.check_in(**self.entry.request()))
        left.add_widget(self.back_row(w.tagged(self.submit, "checkin_submit")))
        body.add_widget(left)
        body.add_widget(self._keypad())
        self.add_widget(body)
        self.update()

    def _field(self, field: str) -> Any:
        u = self.u
        box = BoxLayout(orientation="vertical", size_hint_y=None, height=u(190), spacing=u(8))
        box.add_widget(w.text(self.t(f"checkin_{field}"), u(36), w.PRIMARY, bold=True,
                              size_hint_y=None, height=u(50)))
        value = w.Action("", u(64), w.CARD, w.CARD_PRESSED, radius=u(14))
        value.color = w.TEXT
        value.bind(on_release=lambda *_: self._focus(field))
        box.add_widget(w.tagged(value, f"checkin_field:{field}"))
        self.fields[field] = value
        return box

    def _keypad(self) -> Any:
        u = self.u
        grid = GridLayout(cols=3, spacing=u(18), size_hint_x=None if u.landscape else 1,
                          width=u(640))
        if not u.landscape:
            grid.size_hint_y, grid.height = None, u(4 * 140 + 3 * 18)
        for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0", "del"):
            label = self.t("checkin_delete") if key == "del" else key
            button = w.Action(label, u(64 if key != "del" else 40), w.PRIMARY, w.PRIMARY_PRESSED,
                              radius=u(16))
            button.bind(on_release=lambda *_, k=key: self._key(k))
            grid.add_widget(w.tagged(button, f"key:{key}"))
            self.keys[key] = button
        return grid

    def _key(self, key: str) -> None:
        self.entry.key(key)
        self.update()

    def _focus(self, field: str) -> None:
        self.entry.focus(field)
        self.update()

    def _switch(self, mode: str) -> None:
        self.entry.switch(mode)
        self.render()

    def update(self) -> None:
        for field, widget in self.fields.items():
            focused = field == self.entry.field
            widget.text = self.entry.shown(field) + ("_" if focused else "")
            widget.background.rgba = w.CARD_PRESSED if focused else w.CARD
        if "X" in self.keys:
            self.keys["X"].disabled = not self.entry.x_allowed()
        if self.submit is not None:
            pending = self.app.pending_issue
            self.submit.text = self.t("issuing") if pending else self.t("checkin_submit")
            self.submit.disabled = pending or not self.entry.complete or not self.app.state.can_issue
