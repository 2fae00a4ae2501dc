"""The pieces of the TV wall, each updating only its own labels.

Every size is given for the design screen (1920×1080 landscape, 1080×1920 portrait) and
multiplied by `u`, the window's scale against it. Nothing here knows about the hub.
"""

from __future__ import annotations

from datetime import datetime

from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.relativelayout import RelativeLayout
from kivy.uix.stencilview import StencilView

from display.wall.model import CallView, RecentRow, ServiceView, WindowView
from display.wall.strings import date_line, words


def rgb(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


# A calm hall palette: deep navy, white text, gold for numbers, muted state colours.
BACKGROUND = rgb("#0A2342")
HEADER_BG = rgb("#071A33")
PANEL_BG = rgb("#0F2F55")
ROW_BG = (rgb("#123661"), rgb("#0F2F55"))
TOP_ROW_BG = rgb("#1A4A80")
BANNER_BG = rgb("#113E70")
FLASH_BG = rgb("#A3201C")
GOLD = rgb("#FFD54F")
LINE_GOLD = rgb("#C9A227")
WHITE = rgb("#FFFFFF")
SOFT = rgb("#A9C7E8")
DIM = rgb("#7C8FA6")
GREEN = rgb("#9BE3A6")
AMBER = rgb("#FFC56B")
RED_SOFT = rgb("#FF9A8A")
TILE_BG = rgb("#143C69")
PAUSED_BG = rgb("#5E3B12")
CLOSED_BG = rgb("#17283D")
ALERT_BG = rgb("#C62828")
CONNECTING_BG = rgb("#8A6D1A")

STATUS_COLOURS = {"calling": GOLD, "serving": GREEN, "done": DIM, "skipped": RED_SOFT,
                  "requeued": RED_SOFT, "held": AMBER, "transferred": SOFT, "cancelled": DIM,
                  "called": SOFT}
FLASH_PERIOD_S = 0.5


class Panel(BoxLayout):
    """A BoxLayout with a solid background colour."""

    def __init__(self, bg: tuple[float, ...] = PANEL_BG, **kwargs) -> None:
        super().__init__(**kwargs)
        with self.canvas.before:
            self._bg = Color(*bg)
            self._rect = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._redraw, size=self._redraw)

    def _redraw(self, *_args) -> None:
        self._rect.pos = self.pos
        self._rect.size = self.size

    def set_bg(self, rgba: tuple[float, ...]) -> None:
        self._bg.rgba = rgba


def cell(value: str, size: float, colour: tuple = WHITE, halign: str = "left",
         bold: bool = False, **kwargs) -> Label:
    """A label filling its box, one line, cut with … when too long."""
    label = Label(text=value, font_size=size, color=colour, halign=halign, valign="middle",
                  bold=bold, shorten=True, shorten_from="right", max_lines=1, **kwargs)
    label.bind(size=lambda w, s: setattr(w, "text_size", s))
    return label


def snug(value: str, size: float, colour: tuple = WHITE, bold: bool = False) -> Label:
    """A label exactly as wide as its text."""
    label = Label(text=value, font_size=size, color=colour, bold=bold, size_hint_x=None)
    label.bind(texture_size=lambda w, ts: setattr(w, "width", ts[0]))
    return label


def centred_row(labels: list[Label], spacing: float) -> AnchorLayout:
    row = BoxLayout(orientation="horizontal", size_hint_x=None, spacing=spacing)
    row.bind(minimum_width=row.setter("width"))
    for label in labels:
        row.add_widget(label)
    anchor = AnchorLayout(anchor_x="center", anchor_y="center")
    anchor.add_widget(row)
    return anchor


def title_bar(value: str, u: float) -> Label:
    return cell(value, 34 * u, SOFT, bold=True, size_hint_y=None, height=58 * u,
                padding=(22 * u, 0))


class Header(Panel):
    """Hall name, date with weekday, and the clock; a gold rule beneath."""

    def __init__(self, u: float, portrait: bool, lang: str) -> None:
        super().__init__(bg=HEADER_BG, orientation="vertical" if portrait else "horizontal",
                         size_hint_y=None, height=(170 if portrait else 112) * u,
                         padding=(36 * u, 6 * u, 36 * u, 10 * u))
        self.lang = lang
        self.hall = cell("", 56 * u, WHITE, bold=True, halign="center" if portrait else "left")
        self.date = cell("", 32 * u, SOFT, halign="right")
        self.clock = cell("", 54 * u, WHITE, bold=True, halign="right",
                          size_hint_x=None, width=250 * u)
        self.add_widget(self.hall)
        if portrait:
            line = BoxLayout(orientation="horizontal")
            self.date.halign = "right"
            line.add_widget(self.date)
            line.add_widget(self.clock)
            self.add_widget(line)
        else:
            self.date.size_hint_x = None
            self.date.width = 470 * u
            self.add_widget(self.date)
            self.add_widget(self.clock)
        with self.canvas.after:
            Color(*LINE_GOLD)
            self._rule = Rectangle(pos=self.pos, size=(self.width, 4 * u))
        self.bind(pos=self._move_rule, size=self._move_rule)
        self._day = None

    def _move_rule(self, *_args) -> None:
        self._rule.pos = self.pos
        self._rule.size = (self.width, self._rule.size[1])

    def set_hall(self, name: str) -> None:
        self.hall.text = name

    def tick(self, now: datetime) -> None:
        self.clock.text = now.strftime("%H:%M:%S")
        if now.date() != self._day:
            self._day = now.date()
            self.date.text = date_line(self.lang, now.date())


class CallBanner(Panel):
    """The newest call, large: 请 A023 号 到 3号窗口. It flashes for a few seconds."""

    def __init__(self, u: float, portrait: bool, lang: str) -> None:
        super().__init__(bg=BANNER_BG, orientation="vertical", size_hint_y=None,
                         height=(500 if portrait else 330) * u,
                         padding=(30 * u, 12 * u, 30 * u, 14 * u))
        self.lang = lang
        big = 200 * u if portrait else 190 * u
        top = BoxLayout(orientation="horizontal", size_hint_y=None, height=50 * u)
        top.add_widget(cell(words(lang)("now_calling"), 34 * u, SOFT, bold=True))
        self.badge = cell("", 34 * u, GOLD, halign="right", bold=True)
        top.add_widget(self.badge)
        self.add_widget(top)
        self.number = snug("", big, GOLD, bold=True)
        self.window = snug("", big * 0.62, WHITE, bold=True)
        self.idle = cell(words(lang)("no_call_yet"), 90 * u, SOFT, halign="center")
        t = words(lang)
        number_line = self._call_words(t("call_number"), "{number}", self.number, big * 0.4)
        window_line = self._call_words(t("call_window"), "{window}", self.window, big * 0.4)
        lines = [number_line, window_line] if portrait else [number_line + window_line]
        self.call_rows = [centred_row(line, 22 * u) for line in lines]
        self.body = BoxLayout(orientation="vertical")
        self.add_widget(self.body)
        self.service = cell("", 34 * u, SOFT, halign="center", size_hint_y=None, height=46 * u)
        self.add_widget(self.service)
        self._flash_event = None
        self._flashes_left = 0
        self._showing: list = []
        self.show(None)

    @staticmethod
    def _call_words(template: str, slot: str, value: Label, size: float) -> list[Label]:
        """One label per word of `template` ("请 {number} 号"), `value` in the `slot`'s place;
        a language with no word somewhere (English has no 号) leaves no gap there."""
        return [value if word == slot else snug(word, size) for word in template.split()]

    @property
    def flashing(self) -> bool:
        return self._flash_event is not None

    def show(self, call: CallView | None) -> None:
        wanted = self.call_rows if call is not None else [self.idle]
        if wanted != self._showing:
            self.body.clear_widgets()
            for widget in wanted:
                self.body.add_widget(widget)
            self._showing = wanted
        if call is None:
            self.badge.text = self.service.text = ""
            return
        self.number.text = call.number
        self.window.text = call.window_name
        self.badge.text = words(self.lang)("recall_nth", n=call.recalls + 1) if call.recalls else ""
        mark = words(self.lang)(f"arrival_{call.arrival}") if call.arrival else ""
        self.service.text = " · ".join(p for p in (call.service_name, mark, call.holder_name) if p)

    def flash(self, seconds: float) -> None:
        self._flashes_left = max(1, round(seconds / FLASH_PERIOD_S))
        self.set_bg(FLASH_BG)
        if self._flash_event is None:
            self._flash_event = Clock.schedule_interval(self._toggle, FLASH_PERIOD_S)

    def _toggle(self, _dt: float) -> bool:
        self._flashes_left -= 1
        if self._flashes_left <= 0:
            self.set_bg(BANNER_BG)
            self._flash_event = None
            return False
        self.set_bg(FLASH_BG if self._flashes_left % 2 == 0 else BANNER_BG)
        return True


class _RecentLine(Panel):
    def __init__(self, u: float, index: int) -> None:
        super().__init__(bg=TOP_ROW_BG if index == 0 else ROW_BG[index % 2],
                         orientation="horizontal", padding=(22 * u, 0))
        size = 52 * u if index == 0 else 42 * u
        self.number = cell("", size, GOLD if index == 0 else WHITE, bold=True, size_hint_x=0.3)
        self.window = cell("", size * 0.92, WHITE, size_hint_x=0.38)
        self.status = cell("", 32 * u, SOFT, halign="right", size_hint_x=0.32)
        for widget in (self.number, self.window, self.status):
            self.add_widget(widget)


class RecentTable(Panel):
    """A fixed number of rows: the newest call on top."""

    def __init__(self, u: float, rows: int, lang: str, **kwargs) -> None:
        super().__init__(orientation="vertical", padding=(0, 0, 0, 8 * u), spacing=3 * u, **kwargs)
        self.lang = lang
        self.add_widget(title_bar(words(lang)("recent_title"), u))
        head = BoxLayout(orientation="horizontal", size_hint_y=None, height=40 * u,
                         padding=(22 * u, 0))
        head.add_widget(cell(words(lang)("col_number"), 28 * u, DIM, size_hint_x=0.3))
        head.add_widget(cell(words(lang)("col_window"), 28 * u, DIM, size_hint_x=0.38))
        head.add_widget(cell(words(lang)("col_status"), 28 * u, DIM, halign="right",
                             size_hint_x=0.32))
        self.add_widget(head)
        self.lines = [_RecentLine(u, i) for i in range(rows)]
        for line in self.lines:
            self.add_widget(line)

    def show(self, rows: list[RecentRow]) -> None:
        for i, line in enumerate(self.lines):
            row = rows[i] if i < len(rows) else None
            line.number.text = row.number if row else ""
            line.window.text = row.window_name if row else ""
            line.status.text = (words(self.lang)("status_" + row.status, target=row.target)
                                if row else "")
            line.status.color = STATUS_COLOURS.get(row.status, SOFT) if row else SOFT


class _WindowTile(Panel):
    def __init__(self, u: float, name: str, lang: str) -> None:
        super().__init__(bg=CLOSED_BG, orientation="vertical", padding=(10 * u, 6 * u))
        self.lang = lang
        self.name = cell(name, 25 * u, SOFT, halign="center", size_hint_y=0.3)
        self.main = cell("", 42 * u, DIM, halign="center", bold=True, size_hint_y=0.5)
        self.note = cell("", 20 * u, AMBER, halign="center", size_hint_y=0.2)
        for widget in (self.name, self.main, self.note):
            self.add_widget(widget)

    def show(self, view: WindowView) -> None:
        state = view.state
        if state in ("calling", "serving"):
            self.set_bg(TILE_BG)
            self.main.text, self.main.color = view.number, GOLD if state == "calling" else WHITE
        elif state == "paused":
            self.set_bg(PAUSED_BG)
            self.main.text, self.main.color = words(self.lang)("window_paused"), AMBER
        elif state == "closed":
            self.set_bg(CLOSED_BG)
            self.main.text, self.main.color = words(self.lang)("window_closed"), DIM
        else:
            self.set_bg(TILE_BG)
            self.main.text, self.main.color = words(self.lang)("window_idle"), SOFT
        self.note.text = view.reason if state == "paused" else ""


class WindowGrid(Panel):
    """One tile per window: the number it serves, or 暂停服务 / 未开放 / 空闲."""

    def __init__(self, u: float, cols: int, windows: list[tuple[str, str]], lang: str,
                 **kwargs) -> None:
        super().__init__(orientation="vertical", **kwargs)
        self.add_widget(title_bar(words(lang)("windows_title"), u))
        grid = GridLayout(cols=cols, spacing=8 * u, padding=(14 * u, 0, 14 * u, 14 * u))
        self.tiles: dict[str, _WindowTile] = {}
        for wid, name in windows:
            self.tiles[wid] = _WindowTile(u, name, lang)
            grid.add_widget(self.tiles[wid])
        self.add_widget(grid)

    def show(self, view: WindowView) -> None:
        tile = self.tiles.get(view.id)
        if tile is not None:
            tile.show(view)


class _ServiceTile(Panel):
    def __init__(self, u: float, name: str, lang: str) -> None:
        super().__init__(bg=TILE_BG, orientation="horizontal", padding=(18 * u, 0))
        self.lang = lang
        self.name = cell(name, 34 * u, WHITE, size_hint_x=0.58)
        self.count = cell("—", 40 * u, GOLD, halign="right", bold=True, size_hint_x=0.42)
        self.add_widget(self.name)
        self.add_widget(self.count)
        self.u = u

    def show(self, view: ServiceView) -> None:
        if view.open:
            self.count.text = words(self.lang)("waiting_count", n=view.waiting)
            self.count.color, self.count.font_size = GOLD, 40 * self.u
        else:
            self.count.text = words(self.lang)("service_closed")
            self.count.color, self.count.font_size = DIM, 28 * self.u


class WaitingGrid(Panel):
    """How many wait for each service."""

    def __init__(self, u: float, cols: int, services: list[tuple[str, str]], lang: str,
                 **kwargs) -> None:
        super().__init__(orientation="vertical", **kwargs)
        self.add_widget(title_bar(words(lang)("waiting_title"), u))
        grid = GridLayout(cols=cols, spacing=8 * u, padding=(14 * u, 0, 14 * u, 14 * u))
        self.tiles: dict[str, _ServiceTile] = {}
        for sid, name in services:
            self.tiles[sid] = _ServiceTile(u, name, lang)
            grid.add_widget(self.tiles[sid])
        self.add_widget(grid)

    def show(self, view: ServiceView) -> None:
        tile = self.tiles.get(view.id)
        if tile is not None:
            tile.show(view)


class Marquee(Panel):
    """The notice, rolling right to left. Long text is cut into pieces so no texture grows
    past what a small PC's GPU can hold."""

    PIECE_CHARS = 40

    def __init__(self, u: float, lang: str, height: float) -> None:
        super().__init__(bg=HEADER_BG, orientation="horizontal", size_hint_y=None, height=height,
                         padding=(24 * u, 8 * u), spacing=20 * u)
        self.u = u
        tag = Panel(bg=LINE_GOLD, size_hint_x=None, width=120 * u)
        tag.add_widget(cell(words(lang)("notice_tag"), 32 * u, HEADER_BG, halign="center",
                            bold=True))
        self.add_widget(tag)
        self.window = StencilView()
        self.strip = RelativeLayout(size_hint=(None, None))
        self.window.add_widget(self.strip)
        self.window.bind(pos=self._fit, size=self._fit)
        self.add_widget(self.window)
        self.notice = ""
        self.speed = 110 * u  # px per second
        self._event = None

    def set_text(self, value: str) -> None:
        if value == self.notice and self.strip.children:
            return  # unchanged (a reconnect): keep rolling where it is
        self.notice = value
        self.strip.clear_widgets()
        x = 0.0
        for start in range(0, len(value), self.PIECE_CHARS):
            piece = Label(text=value[start:start + self.PIECE_CHARS], font_size=34 * self.u,
                          color=WHITE, size_hint=(None, None))
            piece.texture_update()
            piece.size = piece.texture_size
            piece.pos = (x, 0)
            x += piece.width
            self.strip.add_widget(piece)
        self.strip.width = x
        self.strip.height = max((p.height for p in self.strip.children), default=0)
        self._fit()
        self.strip.x = self.window.right
        if value and self._event is None:
            self._event = Clock.schedule_interval(self._roll, 1 / 30)
        elif not value and self._event is not None:
            self._event.cancel()
            self._event = None

    def _fit(self, *_args) -> None:
        self.strip.y = self.window.y + (self.window.height - self.strip.height) / 2

    def _roll(self, dt: float) -> None:
        self.strip.x -= self.speed * min(dt, 0.1)
        if self.strip.right < self.window.x:
            self.strip.x = self.window.right

    def visible_text(self) -> str:
        return "".join(piece.text for piece in reversed(self.strip.children))


class ConnectionBar(Panel):
    """Shown while the hub is out of reach; hidden (opacity 0) otherwise."""

    def __init__(self, u: float, lang: str, **kwargs) -> None:
        super().__init__(bg=ALERT_BG, size_hint=(1, None), height=78 * u, **kwargs)
        self.lang = lang
        self.label = cell("", 38 * u, WHITE, halign="center", bold=True)
        self.add_widget(self.label)
        self.state: str | None = None

    def show(self, state: str | None) -> None:
        """`state`: "connecting", "lost", "refused", or None when connected."""
        self.state = state
        if state is None:
            self.opacity = 0
            self.label.text = ""
            return
        self.set_bg(CONNECTING_BG if state == "connecting" else ALERT_BG)
        self.label.text = words(self.lang)("connection_lost" if state == "lost" else state)
        self.opacity = 1
