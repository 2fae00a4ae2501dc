"""The kiosk's screens: home (pick a service), confirm (the materials list), result (the
number) and refused (the hub's reason). They draw what the app hands them and call the
app back when tapped; they never talk to the hub or the printer themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.stacklayout import StackLayout

from drivers.printer import PrintError
from kiosk import widgets as w
from kiosk.model import KioskState, ServiceView
from kiosk.printing import print_error


@dataclass
class Issued:
    """A number the hub gave, and how its printing went."""

    reply: dict
    qr: str
    priority: bool
    print_state: str = "printing"  # "printing" | "printed" | "failed" | "none"
    print_error: PrintError | None = None

    @property
    def number(self) -> str:
        return self.reply["ticket"]["number"]


class KioskShell(Protocol):
    """What a screen reads from and calls on the kiosk app (kiosk.app.KioskApp is one).

    Screens depend on this, not on the app, so the app can import the screens.
    """

    units: w.Units
    lang: str
    state: KioskState
    priority_entry: bool
    checkin_entry: bool
    priority_mode: bool
    pending_issue: bool
    person: dict | None  # the card swiped during this visit

    def go_home(self) -> None: ...

    def enter_priority(self) -> None: ...

    def choose(self, service_id: str) -> None: ...

    def take_number(self) -> None: ...

    def start_checkin(self) -> None: ...

    def check_in(self, **args: str) -> None: ...


class KioskScreen(Screen):
    def __init__(self, app: KioskShell, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app

    @property
    def u(self) -> w.Units:
        return self.app.units

    def t(self, key: str, **values: object) -> str:
        return self.app.t(key, **values)

    def countdown_label(self) -> Any:
        """The "back to the start in N s" line; the app's clock fills it in."""
        self.countdown = w.tagged(w.text("", self.u(32), w.MUTED, halign="right",
                                         size_hint_y=None, height=self.u(48)), "countdown")
        return self.countdown

    def add_ending(self, parent: Any, label: str = "home") -> None:
        """The countdown and one big button back to the start (tagged with its label)."""
        u = self.u
        parent.add_widget(self.countdown_label())
        button = w.Action(self.t(label), u(50), radius=u(16), size_hint_y=None, height=u(130))
        button.bind(on_release=lambda *_: self.app.go_home())
        parent.add_widget(w.tagged(button, label))

    def back_row(self, action: Any) -> Any:
        """A row of 返回 (back to the start) beside the screen's main action."""
        u = self.u
        row = BoxLayout(orientation="horizontal", size_hint_y=None, height=u(140), spacing=u(28))
        back = w.Action(self.t("back"), u(44), w.NEUTRAL, w.NEUTRAL_PRESSED, radius=u(16),
                        size_hint_x=0.34)
        back.bind(on_release=lambda *_: self.app.go_home())
        row.add_widget(w.tagged(back, "back"))
        row.add_widget(action)
        return row


# ---------------------------------------------------------------------------------- home

def columns(count: int, landscape: bool) -> int:
    """Service buttons per row: big enough to hit, few enough rows to see at once."""
    if landscape:
        return max(1, min(4, count)) if count <= 8 else 5
    return 2 if count <= 10 else 3


class HomeScreen(KioskScreen):
    def __init__(self, app: KioskShell, **kwargs: Any) -> None:
        super().__init__(app, name="home", **kwargs)
        self.cards: dict[str, tuple[w.Card, Any]] = {}
        self.entry: w.Action | None = None
        self.checkin: w.Action | None = None

    def render(self) -> None:
        """Lay the whole screen out (start, language, orientation, priority mode)."""
        u, app = self.u, self.app
        self.clear_widgets()
        self.cards.clear()
        self.entry = self.checkin = None
        body = BoxLayout(orientation="vertical", padding=u(32), spacing=u(24))
        body.add_widget(self._top_row())
        scroll = ScrollView(do_scroll_x=False, bar_width=u(8))
        scroll.add_widget(self._services(scroll))
        body.add_widget(scroll)
        entries = BoxLayout(orientation="horizontal", size_hint_y=None, height=u(140),
                            spacing=u(24))
        if app.priority_entry and not app.priority_mode:
            entry = w.Action(
                f"[size={int(u(50))}]{self.t('priority_entry')}[/size]    "
                f"[size={int(u(36))}]{self.t('priority_entry_hint')}[/size]",
                u(50), w.GREEN, w.GREEN_PRESSED, radius=u(18), markup=True)
            entry.bind(on_release=lambda *_: app.enter_priority())
            entries.add_widget(w.tagged(entry, "priority_entry"))
            self.entry = entry
        if app.checkin_entry and not app.priority_mode:
            checkin = w.Action(
                f"[size={int(u(50))}]{self.t('checkin_entry')}[/size]    "
                f"[size={int(u(36))}]{self.t('checkin_entry_hint')}[/size]",
                u(50), w.HEADER, w.PRIMARY_PRESSED, radius=u(18), markup=True)
            checkin.bind(on_release=lambda *_: app.start_checkin())
            entries.add_widget(w.tagged(checkin, "checkin_entry"))
            self.checkin = checkin
        if entries.children:
            body.add_widget(entries)
        self.add_widget(body)
        self.update_all()

    def _top_row(self) -> Any:
        u = self.u
        if not self.app.priority_mode:
            prompt = "prompt_card" if self.app.person is not None else "prompt"
            return w.tagged(w.text(self.t(prompt), u(48), w.TEXT, bold=True, size_hint_y=None,
                                   height=u(72)), "prompt")
        row = w.Panel(w.GREEN_LIGHT, radius=u(14), orientation="horizontal", size_hint_y=None,
                      height=u(110), padding=(u(28), u(14)), spacing=u(20))
        row.add_widget(w.tagged(w.text(self.t("priority_banner"), u(38), w.GREEN, bold=True),
                                "priority_banner"))
        leave = w.Action(self.t("priority_exit"), u(32), w.NEUTRAL, w.NEUTRAL_PRESSED,
                         radius=u(12), size_hint_x=None, width=u(300))
        leave.bind(on_release=lambda *_: self.app.go_home())
        row.add_widget(w.tagged(leave, "priority_exit"))
        return row

    def _services(self, scroll: ScrollView) -> Any:
        u, state = self.u, self.app.state
        groups = state.groups()
        grouped = state.grouped()
        cols = columns(sum(len(views) for _, views in groups), u.landscape)
        if grouped:
            return self._sections(groups, cols)
        views = [v for _, group in groups for v in group]
        grid = GridLayout(cols=cols, spacing=u(24), size_hint_y=None)
        for view in views:
            grid.add_widget(self._card(view, grouped=False))
        rows = math.ceil(len(views) / cols)
        least = rows * u(180) + (rows - 1) * u(24)
        scroll.bind(height=lambda _s, h: setattr(grid, "height", max(h, least)))
        grid.height = max(scroll.height, least)
        return grid

    def _sections(self, groups: list[tuple[str, list[ServiceView]]], cols: int) -> Any:
        """A heading per department, its services flowing in rows below it."""
        u = self.u
        flow = StackLayout(orientation="lr-tb", spacing=u(24), size_hint_y=None)
        cards = []
        for department, views in groups:
            flow.add_widget(w.tagged(w.text(department, u(38), w.PRIMARY, bold=True,
                                            size_hint=(1, None), height=u(50)),
                                     f"department:{department}"))
            for view in views:
                card = self._card(view, grouped=True)
                card.size_hint, card.height = (None, None), u(190)
                cards.append(card)
                flow.add_widget(card)

        def widths(_flow: Any, width: float) -> None:
            for card in cards:
                card.width = (width - (cols - 1) * u(24)) / cols - 1

        flow.bind(width=widths, minimum_height=flow.setter("height"))
        return flow

    def _card(self, view: ServiceView, grouped: bool) -> w.Card:
        u = self.u
        accent = w.GREEN if self.app.priority_mode or view.green_channel else w.PRIMARY
        card = w.Card(accent, bar=u(14), radius=u(16), orientation="vertical",
                      padding=(u(44), u(18), u(28), u(18)), spacing=u(4))
        if not grouped:  # under a department heading the department need not be repeated
            tag = f"{view.department} · {view.prefix}" if view.department else view.prefix
            card.add_widget(w.text(tag, u(30), w.MUTED, size_hint_y=0.16,
                                   disabled_color=w.DISABLED_TEXT))
        card.add_widget(w.tagged(w.text(view.name, u(58), w.TEXT, bold=True, size_hint_y=0.32,
                                        disabled_color=w.DISABLED_TEXT,
                                        shorten=True, shorten_from="right"),
                                 f"service:{view.id}:name"))
        status = w.tagged(w.text("", u(32), w.PRIMARY, size_hint_y=0.52, valign="top",
                                 disabled_color=w.MUTED), f"service:{view.id}:status")
        card.add_widget(status)
        card.bind(on_release=lambda *_: self.app.choose(view.id))
        self.cards[view.id] = (card, status)
        return w.tagged(card, f"service:{view.id}")

    def update(self, service_ids: set[str]) -> None:
        """Refresh just these buttons (waiting counts, open/closed) without re-layout."""
        for sid in service_ids:
            view = self.app.state.services.get(sid)
            if view is None or sid not in self.cards:
                continue
            card, status = self.cards[sid]
            # The hub's reasons are whole sentences: smaller, on up to three lines.
            status.font_size = self.u(32 if view.available else 24)
            if not view.available:
                status.text = view.why_not or self.t("closed")
            elif view.waiting is None:
                status.text = self.t("waiting_unknown", prefix=view.prefix)
            else:
                status.text = self.t("waiting", prefix=view.prefix, n=view.waiting)
            card.disabled = not (view.available and self.app.state.can_issue)

    def update_all(self) -> None:
        self.update(set(self.cards))
        for entry in (self.entry, self.checkin):
            if entry is not None:
                entry.disabled = not self.app.state.can_issue


# ------------------------------------------------------------------------------- confirm

class ConfirmScreen(KioskScreen):
    def __init__(self, app: KioskShell, **kwargs: Any) -> None:
        super().__init__(app, name="confirm", **kwargs)
        self.confirm_button: w.Action | None = None

    def render(self, view: ServiceView, priority: bool) -> None:
        u = self.u
        self.clear_widgets()
        body = BoxLayout(orientation="vertical", padding=u(36), spacing=u(22))
        title = BoxLayout(orientation="horizontal", size_hint_y=None, height=u(96), spacing=u(20))
        title.add_widget(w.tagged(w.text(self.t("confirm_title", service=view.name), u(60),
                                         w.TEXT, bold=True), "confirm_title"))
        if priority:
            title.add_widget(_badge(self, u))
        body.add_widget(title)
        facts = [self.t("confirm_windows", windows="、".join(view.windows))]
        if view.waiting is not None:
            facts.insert(0, self.t("confirm_waiting", n=view.waiting))
        body.add_widget(w.tagged(w.fitted("    ".join(facts), u(36), w.MUTED), "confirm_facts"))
        body.add_widget(self._materials(view))
        body.add_widget(self.countdown_label())
        colour = (w.GREEN, w.GREEN_PRESSED) if priority else (w.PRIMARY, w.PRIMARY_PRESSED)
        self.confirm_button = w.Action(self.t("confirm"), u(56), *colour, radius=u(16),
                                       size_hint_x=0.66)
        self.confirm_button.bind(on_release=lambda *_: self.app.take_number())
        body.add_widget(self.back_row(w.tagged(self.confirm_button, "confirm")))
        self.add_widget(body)
        self.update()

    def _materials(self, view: ServiceView) -> Any:
        """The full materials list in a card as tall as the list (scrolls if longer)."""
        u = self.u
        panel = w.Panel(w.CARD, radius=u(18), orientation="vertical", padding=u(36), spacing=u(16),
                        size_hint_y=None)
        heading = self.t("materials_title") if view.materials else self.t("no_materials")
        panel.add_widget(w.text(heading, u(42), w.PRIMARY, bold=True, size_hint_y=None,
                                height=u(64)))
        items = BoxLayout(orientation="vertical", size_hint_y=None, spacing=u(14))
        items.bind(minimum_height=items.setter("height"))
        for index, material in enumerate(view.materials, start=1):
            items.add_widget(w.fitted(f"{index}.  {material}", u(42), w.TEXT))
        scroll = ScrollView(do_scroll_x=False, bar_width=u(8))
        scroll.add_widget(items)
        panel.add_widget(w.tagged(scroll, "materials"))
        area = AnchorLayout(anchor_y="top")
        area.add_widget(panel)
        extra = u(36) * 2 + u(64) + u(16)

        def fit(*_: object) -> None:
            panel.height = min(area.height, items.height + extra)

        area.bind(height=fit)
        items.bind(height=fit)
        return area

    def update(self) -> None:
        """The confirm button follows the connection and a request in flight."""
        if self.confirm_button is None:
            return
        pending = self.app.pending_issue
        self.confirm_button.text = self.t("issuing") if pending else self.t("confirm")
        self.confirm_button.disabled = pending or not self.app.state.can_issue


def _badge(screen: KioskScreen, u: w.Units) -> Any:
    badge = w.Panel(w.GREEN, radius=u(12), size_hint=(None, None), size=(u(150), u(70)))
    badge.add_widget(w.text(screen.t("priority_badge"), u(36), w.HEADER_TEXT, bold=True,
                            halign="center"))
    anchor = AnchorLayout(anchor_y="center", size_hint_x=None, width=u(150))
    anchor.add_widget(w.tagged(badge, "priority_badge"))
    return anchor


# -------------------------------------------------------------------------------- result

class ResultScreen(KioskScreen):
    def __init__(self, app: KioskShell, **kwargs: Any) -> None:
        super().__init__(app, name="result", **kwargs)
        self.print_line: Any = None
        self.print_panel: w.Panel | None = None
        self.issued: Issued | None = None

    def render(self, issued: Issued) -> None:
        u = self.u
        self.issued = issued
        self.clear_widgets()
        body = BoxLayout(orientation="horizontal" if u.landscape else "vertical", padding=u(36),
                         spacing=u(28))
        body.add_widget(self._number_card(issued))
        side = u(430) if u.landscape else u(500)
        column = BoxLayout(orientation="vertical", spacing=u(22))
        qr_panel = w.Panel(w.CARD, radius=u(18), orientation="vertical", padding=u(28),
                           spacing=u(12))
        anchor = AnchorLayout(anchor_x="center", anchor_y="center")
        anchor.add_widget(w.tagged(w.qr_image(issued.qr, side), "qr"))
        qr_panel.add_widget(anchor)
        if issued.reply.get("status_url"):  # no promise of a page the hall does not publish
            qr_panel.add_widget(w.text(self.t("qr_caption"), u(32), w.MUTED, halign="center",
                                       size_hint_y=None, height=u(56)))
        column.add_widget(qr_panel)
        self.add_ending(column, "done")
        if u.landscape:
            column.size_hint_x, column.width = None, side + u(56)
        else:
            column.size_hint_y, column.height = None, side + u(56) + u(68) + u(48) + u(130) + u(66)
        body.add_widget(column)
        self.add_widget(body)
        self.update()

    def _number_card(self, issued: Issued) -> Any:
        """The number as large as the screen allows, how many are ahead, and where to go."""
        u = self.u
        reply = issued.reply
        card = w.Panel(w.CARD, radius=u(18), orientation="vertical", padding=u(32), spacing=u(10))
        head = BoxLayout(orientation="horizontal", size_hint_y=None, height=u(76), spacing=u(16))
        title = self.t(("checkin_late_result" if reply.get("late") else "checkin_result")
                       if "booking" in reply else "result_title")
        head.add_widget(w.text(f"{title} · {reply['ticket']['service_name']}",
                               u(44), w.PRIMARY, bold=True, halign="center"))
        if issued.priority:
            head.add_widget(_badge(self, u))
        card.add_widget(head)
        card.add_widget(w.tagged(w.text(issued.number, u(230), w.NUMBER, bold=True,
                                        halign="center", size_hint_y=None, height=u(250),
                                        outline_width=max(1, int(u(4))), outline_color=w.NUMBER),
                                 "number"))
        ahead = int(reply.get("ahead", 0))
        card.add_widget(w.tagged(w.fitted(self.t("ahead", n=ahead) if ahead else self.t("ahead_none"),
                                          u(46), w.TEXT, bold=True, halign="center"), "ahead"))
        if reply.get("wait_min"):
            card.add_widget(w.tagged(w.fitted(self.t("wait", n=reply["wait_min"]), u(36), w.TEXT,
                                              halign="center"), "wait"))
        windows = self.t("window_separator").join(reply.get("windows", []))
        card.add_widget(w.tagged(w.fitted(self.t("windows", windows=windows), u(36), w.MUTED,
                                          halign="center"), "windows"))
        card.add_widget(BoxLayout())  # the rest of the height goes here
        self.print_panel = w.Panel(w.CARD, radius=u(12), size_hint_y=None, height=u(120),
                                   padding=(u(20), u(8)))
        self.print_line = w.tagged(w.text("", u(36), w.MUTED, halign="center"), "print_status")
        self.print_panel.add_widget(self.print_line)
        card.add_widget(self.print_panel)
        return card

    def update(self) -> None:
        """Show how printing went; a failure turns the line into a red instruction."""
        issued = self.issued
        if issued is None or self.print_line is None or self.print_panel is None:
            return
        state = issued.print_state
        colour, background = w.MUTED, w.CARD
        if state == "printing":
            line = self.t("printing")
        elif state == "printed":
            line, colour, background = self.t("printed"), w.GREEN, w.GREEN_LIGHT
        elif state == "none":
            line = self.t("no_printer")
        else:
            line = f"{print_error(issued.print_error, self.app.t)}\n{self.t('print_failed_hint')}"
            colour, background = w.ALERT, w.ALERT_BACKGROUND
        self.print_line.text, self.print_line.color = line, colour
        self.print_panel.background.rgba = background


# ------------------------------------------------------------------------------- refused

class RefusedScreen(KioskScreen):
    def __init__(self, app: KioskShell, **kwargs: Any) -> None:
        super().__init__(app, name="refused", **kwargs)

    def render(self, message: str, title: str = "refused_title") -> None:
        """The reason, under `title` (a `kiosk.*` key: taking a number, or checking in)."""
        u = self.u
        self.clear_widgets()
        body = BoxLayout(orientation="vertical", padding=u(36), spacing=u(24))
        card = w.Panel(w.CARD, radius=u(18), orientation="vertical", padding=u(56), spacing=u(36))
        card.add_widget(BoxLayout())
        card.add_widget(w.tagged(w.fitted(self.t(title), u(64), w.ALERT, bold=True,
                                          halign="center"), "refused_title"))
        card.add_widget(w.tagged(w.fitted(message, u(50), w.TEXT, halign="center"),
                                 "refused_message"))
        card.add_widget(w.fitted(self.t("refused_hint"), u(36), w.MUTED, halign="center"))
        card.add_widget(BoxLayout())
        body.add_widget(card)
        self.add_ending(body)
        self.add_widget(body)
