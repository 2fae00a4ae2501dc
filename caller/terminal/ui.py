"""The terminal's Kivy widgets: the bar and its choosers. Import only after caller.kivyapp.prepare().

The bar draws a `Terminal` (see controller.py); it never talks to the hub itself. Labels
use Kivy markup, so every text from the hub or the config is shown through `plain`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.metrics import sp
from kivy.properties import ColorProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.popup import Popup
from kivy.uix.textinput import TextInput
from kivy.utils import escape_markup

from caller.core.i18n import Translator
from caller.core.protocol import arrival
from caller.terminal.controller import Terminal
from caller.terminal.shortcuts import ACTIONS

NAVY = (0.09, 0.20, 0.36, 1)
NAVY_LIGHT = (0.16, 0.29, 0.47, 1)
PAPER = (0.94, 0.95, 0.97, 1)
INK = (0.13, 0.17, 0.23, 1)
WHITE = (1, 1, 1, 1)
MUTED = (0.75, 0.82, 0.90, 1)
GOLD = (0.98, 0.80, 0.35, 1)
BLUE = (0.16, 0.40, 0.69, 1)
GREEN = (0.16, 0.50, 0.34, 1)
AMBER = (0.78, 0.49, 0.10, 1)
SLATE = (0.33, 0.40, 0.50, 1)
RED = (0.72, 0.16, 0.13, 1)
OFF_BG = (0.83, 0.86, 0.90, 1)
OFF_INK = (0.56, 0.60, 0.66, 1)
SELECTED = (0.98, 0.80, 0.35, 1)
ONLINE = (0.55, 0.85, 0.62, 1)
OFFLINE = (1, 0.55, 0.5, 1)

ACTION_COLOURS = {"call_next": BLUE, "call_number": BLUE, "recall": BLUE, "skip": AMBER,
                  "finish": GREEN, "start": GREEN, "request_rating": GREEN}
STATE_COLOURS = {"closed": SLATE, "idle": (0.24, 0.47, 0.62, 1), "calling": AMBER,
                 "serving": GREEN, "paused": RED}
MESSAGE_COLOURS = {"info": INK, "ok": GREEN, "error": RED}

KEY_ENTER, KEY_ESCAPE, KEY_NUMPAD_ENTER = 13, 27, 271
KEY_LEFT, KEY_UP, KEY_RIGHT, KEY_DOWN, KEY_TAB = 276, 273, 275, 274, 9


def plain(text: object) -> str:
    """Text from the hub or config as a markup label shows it: as is, never as markup."""
    return escape_markup(str(text))


def arrival_words(s: Translator, ticket: dict | None) -> list[str]:
    """["预约"] or ["线上"] for a ticket that came by appointment or remotely; else []."""
    kind = arrival(ticket)
    return [s(f"arrival_{kind}")] if kind else []


def make_label(value: str = "", size: float = 18, color: Sequence[float] = INK,
               halign: str = "left", bold: bool = False, **kw: object) -> Label:
    """A one-line label aligned inside its own box, shortened with … when too long."""
    label = Label(text=value, font_size=sp(size), color=color, halign=halign, valign="middle",
                  bold=bold, markup=True, shorten=True, shorten_from="right", **kw)
    label.bind(size=lambda w, s: setattr(w, "text_size", s))
    return label


def paint(widget: object, colour: Sequence[float], radius: float = 0) -> Color:
    """Give `widget` a solid (optionally rounded) background; return its Color to recolour."""
    with widget.canvas.before:
        c = Color(*colour)
        shape = (RoundedRectangle(radius=[radius]) if radius else Rectangle())
    widget.bind(pos=lambda w, p: setattr(shape, "pos", p),
                size=lambda w, s: setattr(shape, "size", s))
    return c


class FlatButton(Button):
    """A flat coloured button that greys out when disabled."""

    tint = ColorProperty(SLATE)

    def __init__(self, tint: Sequence[float] = SLATE, **kw: object) -> None:
        kw.setdefault("font_size", sp(22))
        super().__init__(background_normal="", background_down="", background_disabled_normal="",
                         background_disabled_down="", markup=True, halign="center",
                         valign="middle", **kw)
        self.tint = tint
        self.bind(tint=self._recolour, disabled=self._recolour, state=self._recolour)
        self.bind(size=lambda w, s: setattr(w, "text_size", s))
        self._recolour()

    def _recolour(self, *_: object) -> None:
        if self.disabled:
            self.background_color, self.color, self.disabled_color = OFF_BG, OFF_INK, OFF_INK
        else:
            r, g, b, a = self.tint
            shade = 0.75 if self.state == "down" else 1.0
            self.background_color = (r * shade, g * shade, b * shade, a)
            self.color = INK if tuple(self.tint) == SELECTED else WHITE


class BarButton(FlatButton):
    def __init__(self, action: str, key: str, on_press_action: Callable[[str], None]) -> None:
        super().__init__(ACTION_COLOURS.get(action, SLATE))
        self.action = action
        self.key = key
        self.bind(on_release=lambda _b: on_press_action(action))

    def label(self, caption: str, count: int = 0) -> None:
        """The caption, and below it the shortcut key (and a count, such as held tickets)."""
        extra = f"  [color=#ffd66b][b]{count}[/b][/color]" if count else ""
        self.text = f"{caption}\n[size={int(sp(14))}]{self.key}{extra}[/size]"


class Bar(BoxLayout):
    """The whole terminal: who and what is at the window, the actions, the last message."""

    def __init__(self, terminal: Terminal, shortcuts: dict[str, str],
                 on_action: Callable[[str], None], on_window: Callable[[], None]) -> None:
        super().__init__(orientation="vertical", padding=(8, 6), spacing=6)
        self.terminal = terminal
        self.s = terminal.strings
        paint(self, PAPER)

        header = BoxLayout(spacing=12, padding=(14, 4), size_hint_y=None, height=sp(86))
        paint(header, NAVY, radius=6)
        who = BoxLayout(orientation="vertical", size_hint_x=None, width=sp(250))
        if len(terminal.windows) > 1:  # the clerk picks which of the device's windows
            self.window_name = FlatButton(NAVY_LIGHT, font_size=sp(26), bold=True)
            self.window_name.bind(on_release=lambda _b: on_window())
        else:
            self.window_name = make_label(size=26, color=WHITE, bold=True)
        state_row = BoxLayout(spacing=8)
        self.state = make_label(size=18, color=WHITE, halign="center", bold=True, size_hint_x=None,
                          width=sp(104))
        self.state_colour = paint(self.state, SLATE, radius=4)
        self.staff = make_label(size=18, color=MUTED)
        state_row.add_widget(self.state)
        state_row.add_widget(self.staff)
        who.add_widget(self.window_name)
        who.add_widget(state_row)

        self.number = make_label(size=50, color=GOLD, bold=True, halign="right", size_hint_x=0.42)
        self.service = make_label(size=24, color=WHITE, size_hint_x=0.58)

        side = BoxLayout(orientation="vertical", size_hint_x=None, width=sp(300))
        top = BoxLayout()
        self.waiting = make_label(size=26, color=WHITE, bold=True)
        self.link = make_label(size=16, color=MUTED, halign="right", size_hint_x=None, width=sp(100))
        top.add_widget(self.waiting)
        top.add_widget(self.link)
        self.rating = make_label(size=19, color=MUTED)
        side.add_widget(top)
        side.add_widget(self.rating)

        for w in (who, self.number, self.service, side):
            header.add_widget(w)

        buttons = BoxLayout(spacing=5)
        self.buttons: dict[str, BarButton] = {}
        for action in ACTIONS:
            b = BarButton(action, shortcuts[action], on_action)
            self.buttons[action] = b
            buttons.add_widget(b)

        self.message = make_label(size=19, size_hint_y=None, height=sp(30), padding=(10, 0))
        self.add_widget(header)
        self.add_widget(buttons)
        self.add_widget(self.message)
        self.render()

    def render(self) -> None:
        """Show the terminal's current state; only sets properties, never rebuilds."""
        t, s = self.terminal, self.s
        m = t.model
        self.window_name.text = plain(m.name) + (
            f"  [size={int(sp(15))}][color=#c0d1e6]{s('switch_window')}[/color][/size]"
            if len(t.windows) > 1 else "")
        state = m.state
        self.state.text = s(f"state_{state}")
        self.state_colour.rgba = STATE_COLOURS[state]
        if m.staff is None:
            self.staff.text = s("no_staff")
        elif state == "paused" and m.pause_reason:
            self.staff.text = plain(f"{s('staff', staff=m.staff)} · {m.pause_reason}")
        else:
            self.staff.text = plain(s("staff", staff=m.staff))
        if m.ticket:
            self.number.text, self.number.color = plain(m.ticket["number"]), GOLD
            holder = m.holder
            parts = [plain(m.ticket.get("service_name", ""))]
            parts += [f"[color=#ffd66b][b]{plain(w)}[/b][/color]" for w in arrival_words(s, m.ticket)]
            if holder is not None:
                parts.append(plain(s("holder", name=holder[0], last4=holder[1])))
            self.service.text = " · ".join(parts)
        else:
            self.number.text, self.number.color = s("no_ticket"), MUTED
            self.service.text = s("no_ticket_hint")
        self.buttons["pause"].tint = GREEN if m.paused else SLATE
        self.waiting.text = s("waiting", n=m.waiting if m.loaded else "—")
        self.link.text = s("online") if m.connected else s("offline")
        self.link.color = ONLINE if m.connected else OFFLINE
        self.rating.text = plain(t.rating_text())
        for action, button in self.buttons.items():
            button.label(self._caption(action), len(m.held) if action == "call_held" else 0)
            button.disabled = not t.enabled(action)
        self.message.text, self.message.color = plain(t.message), MESSAGE_COLOURS[t.message_kind]

    def _caption(self, action: str) -> str:
        m, s = self.terminal.model, self.s
        if action == "pause":
            return s("resume") if m.paused else s("pause")
        if action == "login":
            return s("logout") if m.staff else s("login")
        return s(action)


class Chooser(Popup):
    """Pick one of a few groups of options with the arrows and Enter, or the mouse."""

    def __init__(self, name: str, title: str, groups: list[tuple[str, list[tuple[str, str]]]],
                 on_choose: Callable[[str], None], strings: Translator) -> None:
        content = BoxLayout(orientation="vertical", spacing=6, padding=(6, 4))
        self.name = name
        self.rows: list[list[FlatButton]] = []
        self.on_choose = on_choose
        for heading, options in groups:
            row = BoxLayout(spacing=6)
            if heading:
                row.add_widget(make_label(plain(heading), size=18, color=WHITE, size_hint_x=None,
                                          width=sp(100)))
            buttons = []
            for value, caption in options:
                b = FlatButton(NAVY_LIGHT, text=plain(caption), font_size=sp(20))
                b.value = value
                b.bind(on_release=lambda btn: self.choose(btn.value))
                row.add_widget(b)
                buttons.append(b)
            self.rows.append(buttons)
            content.add_widget(row)
        content.add_widget(make_label(strings("keys_hint"), size=15, color=MUTED, halign="center",
                                size_hint_y=None, height=sp(22)))
        super().__init__(title=title, content=content, size_hint=(0.96, 0.96),
                         title_size=sp(20), title_color=WHITE, separator_color=GOLD,
                         background="", background_color=NAVY, auto_dismiss=False)
        self.at = (0, 0)
        self._highlight()

    def choose(self, value: str) -> None:
        self.dismiss(animation=False)
        self.on_choose(value)

    @property
    def values(self) -> list[str]:
        return [b.value for row in self.rows for b in row]

    def handle_key(self, key: int) -> bool:
        r, c = self.at
        if key == KEY_ESCAPE:
            self.dismiss(animation=False)
        elif key in (KEY_ENTER, KEY_NUMPAD_ENTER):
            self.choose(self.rows[r][c].value)
        elif key in (KEY_RIGHT, KEY_TAB):
            self._move(r, c + 1)
        elif key == KEY_LEFT:
            self._move(r, c - 1)
        elif key in (KEY_UP, KEY_DOWN):
            self._move(r + (1 if key == KEY_DOWN else -1), c)
        else:
            return False
        return True

    def _move(self, r: int, c: int) -> None:
        r %= len(self.rows)
        if c >= len(self.rows[r]):
            r, c = (r + 1) % len(self.rows), 0
        elif c < 0:
            r = (r - 1) % len(self.rows)
            c = len(self.rows[r]) - 1
        self.at = (r, min(c, len(self.rows[r]) - 1))
        self._highlight()

    def _highlight(self) -> None:
        for i, row in enumerate(self.rows):
            for j, b in enumerate(row):
                b.tint = SELECTED if (i, j) == self.at else NAVY_LIGHT


class Prompt(Popup):
    """Type one value (a staff number, a ticket number) and press Enter."""

    def __init__(self, name: str, title: str, hint: str, on_submit: Callable[[str], None],
                 strings: Translator, optional: bool = False) -> None:
        self.name = name
        self.on_submit = on_submit
        self.optional = optional  # Enter on an empty field submits "" (the value may be left out)
        self.submitted = False
        self.field = TextInput(multiline=False, font_size=sp(30), hint_text=hint,
                               write_tab=False, padding=(12, 8))
        self.field.bind(on_text_validate=lambda _f: self.submit())
        row = BoxLayout(spacing=8, size_hint_y=None, height=sp(58))
        ok = FlatButton(BLUE, text=strings("ok"), size_hint_x=None, width=sp(120))
        ok.bind(on_release=lambda _b: self.submit())
        cancel = FlatButton(SLATE, text=strings("cancel"), size_hint_x=None, width=sp(120))
        cancel.bind(on_release=lambda _b: self.dismiss(animation=False))
        for w in (self.field, ok, cancel):
            row.add_widget(w)
        content = BoxLayout(orientation="vertical", padding=(6, 6), spacing=4)
        content.add_widget(row)
        content.add_widget(make_label(strings("prompt_keys"), size=15, color=MUTED, halign="center"))
        super().__init__(title=title, content=content, size_hint=(0.7, 0.92), title_size=sp(20),
                         title_color=WHITE, separator_color=GOLD, background="",
                         background_color=NAVY, auto_dismiss=False)
        self.bind(on_open=lambda _p: setattr(self.field, "focus", True),
                  on_dismiss=lambda _p: setattr(self.field, "focus", False))

    def submit(self) -> None:
        value = self.field.text.strip()
        if (value or self.optional) and not self.submitted:  # Enter reaches both the field and the window
            self.submitted = True
            self.dismiss(animation=False)
            self.on_submit(value)

    def handle_key(self, key: int) -> bool:
        if key == KEY_ESCAPE:
            self.dismiss(animation=False)
        elif key in (KEY_ENTER, KEY_NUMPAD_ENTER):
            self.submit()
        else:
            return False
        return True
