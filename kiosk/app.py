"""The kiosk app: wires the hub connection, the printer worker and the screens.

Threads: Kivy's UI thread owns every widget and the `KioskState`; the hub client runs
its own event loop thread and the printer its own worker thread, and both hand their
results back through `caller.kivyapp.on_ui_thread`. Nothing here blocks the UI thread.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from caller.core.client import HubTime, ThreadedHubClient
from caller.core.config import HallConfig
from caller.core.device_alerts import DeviceAlerts
from caller.core.i18n import Translator
from caller.core.schedule import business_day
from caller.kivyapp import on_ui_thread
from drivers.idcard.backends import WedgeBackend, looks_like_id_number, make_backend
from drivers.idcard.card import IdCard
from drivers.idcard.reader import ReaderLine
from drivers.printer import PrinterStatus, PrinterWorker, PrintResult
from drivers.scanner.codes import KeyBurst, Scan
from drivers.scanner.serial_line import ScannerLine
from kiosk import widgets as w
from kiosk.checkin_screen import CheckinScreen
from kiosk.model import (
    KioskState,
    ScannedBooking,
    ScannedTicket,
    classify_scan,
    qr_data,
    swipe,
    ticket_print,
)
from kiosk.printing import Alert, PrinterAlerts, describe_status, printer_condition
from kiosk.screens import ConfirmScreen, HomeScreen, Issued, RefusedScreen, ResultScreen
from kiosk.strings import clock_date, staff_words, words
from kiosk.ticket_layout import ticket_bytes
from kiosk.ticket_state import TicketStateScreen

TICKET_STATE_TIMEOUT_S = 5.0
NO_BOOKING = ("unknown_booking", "booking_ended")  # a swipe's check-in: a walk-in after all
PRINTER_COLOURS = {"ok": w.GREEN, "low": w.WARNING, "out": w.ALERT, "offline": w.ALERT,
                   "unknown": w.MUTED}


@dataclass(frozen=True)
class KioskSettings:
    """Everything the kiosk runs with, from the hall config and the command line."""

    config: HallConfig
    device: str
    token: str
    hub_url: str
    printer_url: str = ""
    paper_mm: int = 80
    print_mode: str = "raster"
    priority_entry: bool = True
    font_path: str | None = None
    idle_timeout: float = 30.0
    lang: str = "zh"
    idcard: str = ""  # serial port or service URL of the ID-card reader
    idcard_backend: str = "serial"  # or "keyboard" (types the number) or "http"
    idcard_baudrate: int = 115200
    scanner: str = ""  # serial port of the code scanner
    scanner_baudrate: int = 9600


class KioskApp(App):
    def __init__(self, settings: KioskSettings, script: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.script = script
        self.title = f"hallq kiosk {settings.device}"
        self.lang = settings.lang
        self.priority_entry = settings.priority_entry
        booking = settings.config.booking
        self.checkin_entry = any(booking.rules(sid).appointments for sid in settings.config.services)
        self.state = KioskState.from_config(settings.config)
        self.alerts = PrinterAlerts(settings.device)
        self.priority_mode = False
        self.pending_issue = False
        self.selected: str | None = None
        self.issued: Issued | None = None
        self.refusal = ""
        self.refusal_title = "refused_title"
        self.current = "home"
        self.deadline: float | None = None
        self.printer_status: PrinterStatus | None = None
        self.timings: list[dict] = []  # per ticket: confirm tap -> print result (bench)
        self.alerts_sent: list[dict] = []
        self.replies: list[dict] = []  # every issue_ticket reply, for scripts and tests
        self.printed_count = 0  # print jobs finished, well or not
        self.hub: ThreadedHubClient | None = None
        self.hub_time = HubTime()
        self.printer: PrinterWorker | None = None
        self.reader: ReaderLine | None = None
        self.scanner: ScannerLine | None = None
        self.wedge: WedgeBackend | None = None  # a reader that types the ID number
        self.key_burst = KeyBurst()
        self.device_alerts = DeviceAlerts()
        self.person: dict | None = None  # the card swiped during this visit
        self.scanned_ticket: dict | None = None  # a scanned ticket's state, as the hub said
        self.units = w.Units.of(*Window.size)

    @property
    def t(self) -> Translator:
        """The citizen's words in the language on the screen now."""
        return words(self.lang)

    # -- Kivy life cycle --------------------------------------------------------------

    def build(self) -> Any:
        Window.clearcolor = w.BACKGROUND
        Window.bind(on_touch_down=lambda *_: self.touched(), size=self._resized,
                    on_key_down=self._key_down)
        self._rebuild_later = Clock.create_trigger(lambda _dt: self.rebuild(), 0.2)
        return self._layout()

    def on_start(self) -> None:
        s = self.settings
        self.hub = ThreadedHubClient(s.hub_url, s.device, s.token, on_event=self._on_event,
                            on_welcome=self._on_welcome, on_connection=self._on_connection,
                            dispatch=on_ui_thread).start()
        if s.printer_url:
            self.printer = PrinterWorker(
                s.printer_url,
                on_status=lambda status: on_ui_thread(lambda: self._printer_changed(status)))
        if s.idcard or s.idcard_backend == "keyboard":  # each device in its own thread;
            backend = make_backend(s.idcard_backend, s.idcard, s.idcard_baudrate)  # results
            if isinstance(backend, WedgeBackend):  # come to the UI thread
                self.wedge = backend
            self.reader = ReaderLine(
                backend,
                on_card=lambda card: on_ui_thread(lambda: self.card_read(card)),
                on_failure=lambda reason: on_ui_thread(lambda: self._refuse("card_failed")),
                on_state=lambda up, _detail: on_ui_thread(lambda: self._device_state("idcard", up)))
            self.reader.start()
        if s.scanner:
            self.scanner = ScannerLine(
                s.scanner, s.scanner_baudrate,
                on_scan=lambda scan: on_ui_thread(lambda: self.scanned(scan)),
                on_state=lambda up, _detail: on_ui_thread(lambda: self._device_state("scanner", up)))
            self.scanner.start()
        Clock.schedule_interval(self._tick, 0.25)
        self._tick(0)
        if self.script is not None:
            self.script.start(self)

    def on_stop(self) -> None:
        for line in (self.reader, self.scanner):
            if line is not None:
                line.stop()
        if self.hub is not None:
            self.hub.stop()
        if self.printer is not None:
            self.printer.close(timeout=10)

    # -- layout -------------------------------------------------------------------------

    def _layout(self) -> Any:
        u = self.units = w.Units.of(*Window.size)
        root = BoxLayout(orientation="vertical")
        root.add_widget(self._header(u))
        self.banner = w.Panel(w.ALERT_BACKGROUND, size_hint_y=None, height=0, padding=(u(32), 0))
        self.banner_text = w.tagged(w.text("", u(38), w.ALERT, bold=True, halign="center"),
                                    "connection_banner")
        self.banner.add_widget(self.banner_text)
        root.add_widget(self.banner)
        self.manager = ScreenManager(transition=NoTransition())
        self.home = HomeScreen(self)
        self.confirm = ConfirmScreen(self)
        self.result = ResultScreen(self)
        self.refused = RefusedScreen(self)
        self.checkin = CheckinScreen(self)
        self.ticket_state = TicketStateScreen(self)
        for screen in (self.home, self.confirm, self.result, self.refused, self.checkin,
                       self.ticket_state):
            self.manager.add_widget(screen)
        root.add_widget(self.manager)
        root.add_widget(self._footer(u))
        self.home.render()
        self._show_connection()
        self._show_printer()
        self._show_clock()
        return root

    def _header(self, u: w.Units) -> Any:
        header = w.Panel(w.HEADER, orientation="horizontal", size_hint_y=None, height=u(130),
                         padding=(u(36), u(14)), spacing=u(24))
        wide = u.landscape
        self.hall_label = w.tagged(w.text(self.state.hall_name, u(52 if wide else 46),
                                          w.HEADER_TEXT, bold=True, shorten=True,
                                          shorten_from="right"), "hall_name")
        header.add_widget(self.hall_label)
        clock = BoxLayout(orientation="vertical", size_hint_x=None, width=u(380 if wide else 300))
        self.time_label = w.tagged(w.text("", u(50 if wide else 44), w.HEADER_TEXT, bold=True,
                                          halign="right"), "clock")
        self.date_label = w.tagged(w.text("", u(26), w.HEADER_MUTED, halign="right"), "date")
        clock.add_widget(self.time_label)
        clock.add_widget(self.date_label)
        header.add_widget(clock)
        toggle = w.Action(self.t("language_button"), u(32), w.PRIMARY, w.PRIMARY_PRESSED,
                          radius=u(12), size_hint=(None, 1), width=u(180 if wide else 160))
        toggle.bind(on_release=lambda *_: self.toggle_language())
        header.add_widget(w.tagged(toggle, "lang"))
        return header

    def _footer(self, u: w.Units) -> Any:
        """The hall's notice, and in the corner the link to the hub and the printer."""
        wide = u.landscape
        footer = w.Panel(w.hex_colour("DFE6EF"), orientation="horizontal" if wide else "vertical",
                         size_hint_y=None, height=u(84 if wide else 140),
                         padding=(u(32), u(8)), spacing=u(24 if wide else 4))
        self.notice_label = w.tagged(w.text(self.state.notice, u(27), w.TEXT, max_lines=2),
                                     "notice")
        footer.add_widget(self.notice_label)
        corner = BoxLayout(orientation="horizontal", spacing=u(24))
        if wide:
            corner.size_hint_x, corner.width = None, u(700)
        else:
            corner.size_hint_y, corner.height = None, u(48)
        self.connection_label = w.tagged(w.text("", u(26), w.MUTED, halign="right",
                                                size_hint_x=None, width=u(220)), "connection")
        corner.add_widget(self.connection_label)
        self.printer_label = w.tagged(w.text("", u(28), w.MUTED, bold=True, halign="right",
                                             shorten=True, shorten_from="right"), "printer_status")
        corner.add_widget(self.printer_label)
        footer.add_widget(corner)
        return footer

    def rebuild(self) -> None:
        """Lay everything out again (language or window size changed), same screen."""
        Window.remove_widget(self.root)
        self.root = self._layout()
        Window.add_widget(self.root)
        self.show(self.current, keep_deadline=True)

    def _resized(self, _window: Any, size: tuple[int, int]) -> None:
        if w.Units.of(*size) != self.units:
            self._rebuild_later()

    # -- navigation ---------------------------------------------------------------------

    def show(self, name: str, keep_deadline: bool = False) -> None:
        self.current = name
        if name == "home":
            self.home.render()
        elif name == "confirm" and self.selected in self.state.services:
            self.confirm.render(self.state.services[self.selected], self.priority_mode)
        elif name == "result" and self.issued is not None:
            self.result.render(self.issued)
        elif name == "refused":
            self.refused.render(self.refusal, self.refusal_title)
        elif name == "checkin":
            self.checkin.render()
        elif name == "ticket_state" and self.scanned_ticket is not None:
            self.ticket_state.render(self.scanned_ticket)
        self.manager.current = name
        if not keep_deadline:  # home waits for nobody, unless it holds a visit (a card swiped)
            idle = name == "home" and not self.priority_mode and self.person is None
            self.deadline = None if idle else self._idle_end()
        self._show_countdown()

    def _idle_end(self, factor: float = 1.0) -> float:
        return time.monotonic() + self.settings.idle_timeout * factor

    def touched(self) -> None:
        """Any touch keeps the current screen up a full idle period longer."""
        if self.deadline is not None:
            failed = (self.current == "result" and self.issued is not None
                      and self.issued.print_state == "failed")
            self.deadline = max(self.deadline, self._idle_end(2 if failed else 1))

    def go_home(self) -> None:
        self.priority_mode = False
        self.selected = None
        self.person = None
        self.show("home")

    def enter_priority(self) -> None:
        self.priority_mode = True
        self.show("home")

    def toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"
        self.touched()
        self.rebuild()

    def choose(self, service_id: str) -> None:
        view = self.state.services.get(service_id)
        if view is None or not view.available or not self.state.can_issue:
            return
        self.selected = service_id
        self.show("confirm")

    # -- appointments: 预约签到 ------------------------------------------------------------

    def start_checkin(self) -> None:
        if not self.state.can_issue:
            return
        self.checkin.start()
        self.show("checkin")

    def check_in(self, **args: Any) -> None:
        """The one way an appointment checks in here: `code` (typed, or scanned from the
        booking's QR code), `phone` + `id_last6`, or `person` (an ID card swiped); the hub
        issues the ticket with the appointment's priority, and it prints like any other.
        A card with no booking today (or only ended ones) goes on as a walk-in's swipe."""
        if self.pending_issue or not self.state.can_issue or self.hub is None:
            return
        tapped = time.time_ns()
        self.pending_issue = True
        if self.current == "checkin":
            self.checkin.update()
        hall_name, notice, lang = self.state.hall_name, self.state.notice, self.lang
        card = args.get("person")
        self.hub.request("check_in", **args, lang=lang).add_done_callback(
            lambda request: self._answered(request, "", tapped, hall_name, notice, lang, card))

    # -- taking a number ----------------------------------------------------------------

    def take_number(self) -> None:
        if self.pending_issue or self.selected is None or not self.state.can_issue \
                or self.hub is None:
            return
        tapped = time.time_ns()
        self.pending_issue = True
        self.confirm.update()
        args = {"service": self.selected, "lang": self.lang}
        if self.priority_mode:
            args["priority"] = "priority"
        if self.person is not None:
            args["person"], self.person = self.person, None
        service, hall_name, notice = self.selected, self.state.hall_name, self.state.notice
        lang = self.lang  # the ticket prints in the language the citizen chose
        self.hub.request("issue_ticket", **args).add_done_callback(
            lambda request: self._answered(request, service, tapped, hall_name, notice, lang))

    def _answered(self, request: Future, service: str, tapped: int, hall_name: str,
                  notice: str, lang: str, card: dict | None = None) -> None:
        """On the hub client's thread: hand the ticket to the printer at once (the citizen is
        waiting for the paper), and the reply to the UI thread."""
        if request.cancelled() or request.exception() is not None:
            return  # the client was stopped with the app
        answered = time.time_ns()
        reply = request.result()
        issued = None
        if reply.get("ok"):
            ticket = reply["ticket"]
            issued = Issued(reply=reply, qr=qr_data(reply),
                            priority=ticket.get("priority") == "priority")
            if self.printer is None:
                issued.print_state = "none"
        on_ui_thread(lambda: self._issue_answered(service, reply, issued, card))
        if issued is None or self.printer is None:
            return
        s = self.settings
        ticket = ticket_print(reply, issued.qr, hall_name, notice)
        job = self.printer.submit(partial(ticket_bytes, ticket, s.print_mode, s.paper_mm, s.font_path,
                                          lang), job=ticket.number)
        job.add_done_callback(lambda future: self._print_finished(issued, (tapped, answered), future))

    def _issue_answered(self, service: str, reply: dict, issued: Issued | None,
                        card: dict | None = None) -> None:
        self.pending_issue = False
        self.replies.append(reply)
        if issued is None:
            error = reply.get("error", {})
            if card is not None and error.get("code") in NO_BOOKING:
                self._walk_in_swipe(card)
                return
            message = error.get("message", "")
            view = self.state.services.get(service)
            if error.get("code") == "daily_limit_reached":
                self.state.mark_full(service, message, self._today())
            elif error.get("code") == "service_closed" and view is not None:
                view.open, view.reason = False, message
            self.home.update({service})
            self.refusal = message
            self.refusal_title = "checkin_refused" if not service else "refused_title"
            self.show("refused")
            return
        self.issued = issued
        self.show("result")

    def _print_finished(self, issued: Issued, times: tuple[int, int], future: Future) -> None:
        """On the printer thread, the moment the job is done; the rest on the UI thread."""
        finished = time.time_ns()
        result: PrintResult = future.result()
        self.timings.append({"number": issued.number, "tap_ns": times[0], "reply_ns": times[1],
                             "done_ns": finished, "ok": result.ok})
        on_ui_thread(lambda: self._printed(issued, result))

    def _printed(self, issued: Issued, result: PrintResult) -> None:
        self.printed_count += 1
        if result.ok:
            issued.print_state = "printed"
        else:
            issued.print_state, issued.print_error = "failed", result.error or "print_failed"
            self._report(self.alerts.print_failed(issued.number, issued.print_error))
            if self.issued is issued and self.current == "result":
                self.deadline = self._idle_end(2)  # time to photograph the screen
                self._show_countdown()
        if self.issued is issued:
            self.result.update()

    # -- ID card and scanner --------------------------------------------------------

    def card_read(self, card: IdCard) -> None:
        """A card was swiped. On the confirm screen it takes that service's number; on the
        home or 预约签到 screen of a hall taking appointments it checks in the card's booking
        first, and without one it is kept for this visit (`_walk_in_swipe`)."""
        self.touched()
        person, refusal = swipe(card, self._today())
        if person is None:
            self._refuse(refusal)
            return
        if self.current in ("home", "checkin") and self.checkin_entry and self.state.can_issue:
            self.check_in(person=person)
        else:
            self._walk_in_swipe(person)

    def _walk_in_swipe(self, person: dict) -> None:
        """The card is kept for this visit (until the idle timeout): the next service tapped
        takes a number for it; on the confirm screen at once."""
        self.person = person
        if self.current == "confirm":
            self.take_number()
        else:
            self.show("home")

    def scanned(self, scan: Scan) -> None:
        """A scanned code: a booking's checks in, a ticket's shows where it stands."""
        self.touched()
        found = classify_scan(scan.code) if scan.ok else None
        if found is None:
            self._refuse("scan_unknown")
        elif self.hub is None or not self.state.can_issue:  # the hub cannot say more now
            if isinstance(found, ScannedBooking):
                self._refuse("offline")
            elif found.number:
                self._refuse("scan_ticket", number=found.number)
            else:
                self._refuse("scan_ticket_offline")
        elif isinstance(found, ScannedBooking):
            self.check_in(code=found.code)
        else:
            self.ask_ticket_state(found)

    def ask_ticket_state(self, found: ScannedTicket) -> None:
        """Show the scanned ticket at once, then where it stands when the hub answers (an
        answer that never comes leaves the screen to the idle timeout)."""
        assert self.hub is not None
        self.scanned_ticket = {"number": found.number, "state": "asking"}
        self.show("ticket_state")
        self.hub.request("ticket_state", self._ticket_state_answered, **found.query(),
                         lang=self.lang, timeout=TICKET_STATE_TIMEOUT_S)

    def _ticket_state_answered(self, reply: dict) -> None:
        if self.current != "ticket_state":
            return  # the citizen went on meanwhile
        if reply.get("ok"):
            self.scanned_ticket = reply["ticket"]
            self.show("ticket_state", keep_deadline=True)
        elif reply.get("error", {}).get("code") == "no_such_ticket":
            self.refusal, self.refusal_title = reply["error"]["message"], "refused_title"
            self.show("refused")
        else:
            self._refuse("scan_ticket", number=(self.scanned_ticket or {}).get("number", ""))

    def _key_down(self, _window: Any, key: int, _scancode: int, codepoint: str | None,
                  _modifiers: list) -> bool:
        """Keyboard-wedge scanners type the code: a fast burst ending in Enter is a scan; a
        keyboard-output ID-card reader types the ID number the same way."""
        char = "\r" if key == 13 else codepoint
        if not char:
            return False
        scan = self.key_burst.key(char, time.monotonic())
        if scan is None:
            return False
        if self.wedge is not None and scan.ok and looks_like_id_number(scan.code):
            self.wedge.feed(scan.code)
        else:
            self.scanned(scan)
        return False

    def _refuse(self, key: str, **values: object) -> None:
        self.refusal = self.t(key, **values)
        self.refusal_title = "refused_title"
        self.show("refused")

    def _device_state(self, device: str, up: bool) -> None:
        """The reader or the scanner went down or came back: tell the staff of a change."""
        kind = self.device_alerts.changed(device, up)
        if kind is not None:
            self._report(Alert(kind, staff_words()(f"{device}_{'online' if up else 'offline'}"),
                               part=device))

    # -- hub ----------------------------------------------------------------------------

    def _on_welcome(self, message: dict) -> None:
        self.hub_time.follow(message.get("now"))
        self.state.load_snapshot(message["snapshot"])
        self.hall_label.text = self.state.hall_name
        self.notice_label.text = self.state.notice
        if self.current == "home":
            self.home.render()
        self._show_connection()

    def _on_event(self, message: dict) -> None:
        self.hub_time.follow(message.get("at"))
        changed = self.state.apply_event(message)
        if "notice" in changed:
            self.notice_label.text = self.state.notice
        self.home.update(changed - {"notice"})

    def _on_connection(self, connected: bool) -> None:
        self.state.connection = "online" if connected else "offline"
        self._show_connection()

    def _show_connection(self) -> None:
        state = self.state.connection
        message = {"connecting": "connecting", "offline": "offline",
                   "refused": "refused_device"}.get(state)
        self.banner_text.text = self.t(message) if message else ""
        self.banner.height = self.units(84) if message else 0
        self.banner.opacity = 1 if message else 0
        short = "link_online" if self.state.can_issue else (
            "link_connecting" if state == "connecting" else "link_offline")
        self.connection_label.text = self.t(short)
        self.connection_label.color = w.GREEN if self.state.can_issue else w.ALERT
        self.home.update_all()
        self.confirm.update()

    def _report(self, alert: Alert) -> None:
        if self.hub is None:
            return
        record = {"kind": alert.kind, "message": alert.message, "ok": None}
        self.alerts_sent.append(record)
        where = {"part": alert.part} if alert.part else {}
        self.hub.request("report_alert", lambda reply: record.update(ok=reply.get("ok")),
                         kind=alert.kind, message=alert.message, **where)

    # -- printer ------------------------------------------------------------------------

    def _printer_changed(self, status: PrinterStatus) -> None:
        self.printer_status = status
        self._show_printer()
        alert = self.alerts.status_changed(status)
        if alert is not None:
            self._report(alert)

    def _show_printer(self) -> None:
        if not self.settings.printer_url:
            self.printer_label.text = ""
            return
        status = self.printer_status
        condition = printer_condition(status)
        # The citizen's corner gets the plain state, never a driver's technical detail.
        self.printer_label.text = describe_status(status, self.t) if status else ""
        self.printer_label.color = PRINTER_COLOURS[condition]

    # -- the clock ----------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.hub_time.now(self.settings.config.hall.tz)

    def _today(self) -> Any:
        return business_day(self.settings.config.hall, self._now())

    def _show_clock(self) -> None:
        now = self._now()
        self.time_label.text = now.strftime("%H:%M:%S")
        self.date_label.text = clock_date(self.t, now)

    def _tick(self, _dt: float) -> None:
        self._show_clock()
        cleared = self.state.expire_full(self._today())
        if cleared:
            self.home.update(cleared)
        if self.hub is not None and self.hub.client.fatal and self.state.connection != "refused":
            self.state.connection = "refused"
            self._show_connection()
        if self.pending_issue and self.deadline is not None:
            self.deadline = self._idle_end()  # the citizen is waiting for the hub's answer
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.go_home()
        self._show_countdown()

    def _show_countdown(self) -> None:
        screen = self.manager.current_screen
        label = getattr(screen, "countdown", None)
        if label is None:
            return
        if self.deadline is None:
            label.text = ""
            return
        left = max(0, math.ceil(self.deadline - time.monotonic()))
        label.text = self.t("countdown", n=left)
