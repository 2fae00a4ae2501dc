"""What the LED strip over each window shows, and how frames share the line (no I/O here).

What a strip shows follows its window (colours are the strip's three: red, green, yellow):

- a call or recall (``ticket_called``): ``请A023号办理`` in green (``请A023号张*三办理``
  when the hall shows masked names, ``[personal] wall_names``), flashed (written and
  blanked in turn, ``flashes`` times) and then steady; it stays while the ticket is served;
- paused: ``暂停服务`` in yellow, steady (a pause wins over a ticket still at the window);
- logged in with nothing to do (also after finish, skip, hold or transfer): the device's
  ``idle_text`` (default ``热情为您服务``) in red, alternating every ``rotate_s`` seconds
  with ``工号1001为您服务`` so citizens see who serves them;
- logged out (closed): ``窗口关闭`` in red, steady.

Windows without a strip address in the device's ``strips`` table are ignored. Hub and
config text is cleaned (``caller.core.text.clean``) and every line is cut to what a strip
shows, ``STRIP_COLUMNS`` half-width columns, so any staff id the hub sends fits a frame.

Pieces, from the pure core to the I/O edge:

- :class:`WindowBoard` mirrors every window's staff, pause and current ticket from the
  welcome snapshot and the hub's events, and says which windows now look different;
- :func:`program_for` turns a window's look into a :class:`Program`: timed frames, looping
  (idle rotation) or ending steady (a flash ends on the call text);
- :class:`StripSchedule` plays one program per strip, advancing a step only after its
  frame was written, so a busy line never swallows the blank half of a flash;
- :class:`WriteQueue` holds at most one frame per strip: a newer content for a strip
  whose frame has not gone out replaces it (coalescing), so the queue never outgrows the
  number of strips however fast the hall calls;
- :class:`StripLine` is the worker thread that owns the line: it paces frames
  ``frame_gap_s`` apart, reopens the line every ``reopen_s`` after an I/O error, repaints
  every strip when the line is back and every ``refresh_s`` (a strip that lost power
  shows again), and reports the line going offline and coming back;
- :class:`LedBridge` connects to the hub, feeds the board from the welcome snapshot
  (every strip repainted, steady, at start and after every reconnect) and from events,
  and reports the line's state to the hub as ``device_offline`` / ``device_online``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from caller.core.config import DEFAULT_IDLE_TEXT
from caller.core.protocol import Event, holder_name
from caller.core.text import clean
from drivers.led import Colour, StripText

# The config does not say how wide a strip is; 32 half-width columns is a 256-dot strip,
# 16 Chinese characters, as wide as window strips come.
STRIP_COLUMNS = 32
CALL_COLOUR: Colour = "green"
PAUSED_COLOUR: Colour = "yellow"
IDLE_COLOUR: Colour = "red"
CLOSED_COLOUR: Colour = "red"
BLANK = StripText()

# What citizens read on the strips and managers read in alerts, per language.
STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "call": "请{number}号办理",
        "call_named": "请{number}号{name}办理",
        "paused": "暂停服务",
        "closed": "窗口关闭",
        "staff": "工号{staff}为您服务",
        "line_offline": "LED条屏线路 {port} 断开（{error}），每秒重试",
        "line_online": "LED条屏线路 {port} 已恢复",
        "strip_failed": "LED条屏 {address}（窗口 {window}）有一帧无法发送（{error}），已跳过",
        "strip_ok": "LED条屏 {address}（窗口 {window}）已恢复显示",
    },
    "en": {
        "call": "No. {number} please",
        "call_named": "No. {number} {name} please",
        "paused": "Paused",
        "closed": "Closed",
        "staff": "Staff {staff} at your service",
        "line_offline": "LED strip line {port} is down ({error}); retrying every second",
        "line_online": "LED strip line {port} is back",
        "strip_failed": "LED strip {address} (window {window}) skipped a frame it could not "
                        "send ({error})",
        "strip_ok": "LED strip {address} (window {window}) shows again",
    },
}


# ---------------------------------------------------------------- windows -> looks

LookState = Literal["closed", "paused", "call", "idle"]


@dataclass(frozen=True)
class Look:
    """What a window's strip should say, before texts and timing are applied."""

    state: LookState
    number: str = ""
    staff: str = ""
    holder: str = ""  # the masked name (张*三), only when the hall shows names on walls


@dataclass(frozen=True)
class LookChange:
    """A window whose strip must be rewritten; ``flash`` for a fresh call or recall."""

    window: str
    look: Look
    flash: bool = False


@dataclass
class _Window:
    staff: str | None = None
    paused: bool = False
    number: str | None = None  # the current ticket's number and id
    ticket_id: int | None = None
    holder: str = ""

    def look(self) -> Look:
        if self.staff is None:
            return Look("closed")
        if self.paused:
            return Look("paused")
        if self.number is not None:
            return Look("call", number=self.number, holder=self.holder)
        return Look("idle", staff=self.staff)


# Events after which the window has no current ticket, and the key naming that window.
_TICKET_LEAVES = {
    Event.TICKET_FINISHED: "window",
    Event.TICKET_SKIPPED: "window",
    Event.TICKET_HELD: "window",
    Event.TICKET_TRANSFERRED: "from_window",
    Event.TICKET_CANCELLED: None,  # the window is the ticket's own
}


class WindowBoard:
    """Every window's state as the strips need it, kept from snapshots and events (no I/O)."""

    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}

    def look(self, window: str) -> Look:
        """The look of ``window`` (closed when the hub never mentioned it)."""
        return self._windows.get(window, _Window()).look()

    def load(self, snapshot: dict) -> None:
        """Replace everything with the hub's snapshot (welcome or ``snapshot`` reply)."""
        self._windows = {}
        for view in snapshot.get("windows", []):
            ticket = view.get("ticket")
            self._windows[view["id"]] = _Window(
                staff=view.get("staff"),
                paused=view.get("state") == "paused",
                number=ticket["number"] if ticket else None,
                ticket_id=ticket["id"] if ticket else None,
                holder=holder_name(ticket),
            )

    def apply(self, event: dict) -> list[LookChange]:
        """Take one event; return the windows whose strip must change."""
        name = event.get("event")
        if name == Event.TICKET_CALLED:
            window = self._window(event["window"])
            window.number, window.ticket_id = event["ticket"]["number"], event["ticket"]["id"]
            window.holder = holder_name(event["ticket"])
            look = window.look()
            return [LookChange(event["window"], look, flash=look.state == "call")]
        wid = self._window_of(name, event)
        if wid is None:
            return []
        window = self._window(wid)
        before = window.look()
        if name in _TICKET_LEAVES:
            if window.ticket_id == event["ticket"]["id"]:
                window.number = window.ticket_id = None
                window.holder = ""
        elif name == Event.WINDOW_PAUSED:
            window.paused = True
        elif name == Event.WINDOW_RESUMED:
            window.paused = False
        elif name == Event.WINDOW_LOGIN:  # a clerk taking over a paused window keeps the pause
            window.staff, window.paused = event["staff"], bool(event.get("paused"))
        elif name == Event.WINDOW_LOGOUT:
            window.staff, window.paused = None, False
        after = window.look()
        return [LookChange(wid, after)] if after != before else []

    def _window(self, wid: str) -> _Window:
        return self._windows.setdefault(wid, _Window())

    @staticmethod
    def _window_of(name: str | None, event: dict) -> str | None:
        if name in _TICKET_LEAVES:
            key = _TICKET_LEAVES[name]
            return event.get(key) if key else (event.get("ticket") or {}).get("window")
        if name in (Event.WINDOW_PAUSED, Event.WINDOW_RESUMED, Event.WINDOW_LOGIN, Event.WINDOW_LOGOUT):
            return event.get("window")
        return None


# ---------------------------------------------------------------- looks -> programs


@dataclass(frozen=True)
class StripTiming:
    """How the bridge paces the line and animates strips (seconds)."""

    frame_gap_s: float = 0.05  # quiet time between frames on the shared line (9600 baud)
    flashes: int = 3  # content/blank pairs before a call goes steady
    flash_on_s: float = 0.5
    flash_off_s: float = 0.3
    rotate_s: float = 5.0  # idle text <-> staff text; 0 shows the idle text only
    refresh_s: float = 30.0  # rewrite every strip: one that lost power shows again
    reopen_s: float = 1.0  # retry period after the line failed

    def __post_init__(self) -> None:
        if min(self.frame_gap_s, self.flash_on_s, self.flash_off_s, self.rotate_s) < 0:
            raise ValueError("LED strip timings cannot be negative")
        if self.refresh_s <= 0 or self.reopen_s <= 0:
            raise ValueError("LED strip refresh and reopen periods must be positive")


DEFAULT_TIMING = StripTiming()


@dataclass(frozen=True)
class Program:
    """Frames to show in turn, each held for its seconds; the last frame of a program that
    does not loop stays (its hold is ignored)."""

    frames: tuple[tuple[StripText, float], ...]
    loop: bool = False

    @classmethod
    def steady(cls, content: StripText) -> Program:
        return cls(((content, 0.0),))


@dataclass(frozen=True)
class StripTexts:
    """The texts strips show, in one language."""

    idle_text: str = DEFAULT_IDLE_TEXT
    lang: str = "zh"

    def say(self, key: str, **values: object) -> str:
        """The sentence ``key`` with the (cleaned) values filled in."""
        return STRINGS[self.lang][key].format(**{k: clean(v) for k, v in values.items()})

    def call(self, number: str, holder: str = "") -> StripText:
        if holder:
            return strip_line(self.say("call_named", number=number, name=holder), CALL_COLOUR)
        return strip_line(self.say("call", number=number), CALL_COLOUR)

    def paused(self) -> StripText:
        return strip_line(self.say("paused"), PAUSED_COLOUR)

    def closed(self) -> StripText:
        return strip_line(self.say("closed"), CLOSED_COLOUR)

    def idle(self) -> StripText:
        return strip_line(self.idle_text, IDLE_COLOUR)

    def staff(self, staff: str) -> StripText:
        return strip_line(self.say("staff", staff=staff), IDLE_COLOUR)


def strip_line(text: str, colour: Colour) -> StripText:
    """``text`` cleaned, in one colour, cut to what a strip shows."""
    return StripText.plain(clean(text), colour).cut(STRIP_COLUMNS)


def program_for(look: Look, flash: bool, texts: StripTexts, timing: StripTiming) -> Program:
    """How a strip plays ``look``: see the module docstring for the rules."""
    if look.state == "call":
        content = texts.call(look.number, look.holder)
        if not flash or timing.flashes <= 0:
            return Program.steady(content)
        blink = ((content, timing.flash_on_s), (BLANK, timing.flash_off_s)) * timing.flashes
        return Program((*blink, (content, 0.0)))
    if look.state == "paused":
        return Program.steady(texts.paused())
    if look.state == "idle":
        if timing.rotate_s <= 0:
            return Program.steady(texts.idle())
        rotation = ((texts.idle(), timing.rotate_s), (texts.staff(look.staff), timing.rotate_s))
        return Program(rotation, loop=True)
    return Program.steady(texts.closed())


# ---------------------------------------------------------------- playing and queuing


@dataclass
class _Playing:
    program: Program
    step: int = 0
    due: float | None = 0.0  # when the step is to be shown; None: waiting or finished
    awaiting: bool = False  # the step's frame is queued and not yet written
    showing: StripText | None = None  # the last frame queued; None before the first


class StripSchedule:
    """One program per strip. Time is passed in; nothing here sleeps or writes.

    A step's hold starts when its frame was written (:meth:`written`), not when it was
    queued, so every step of a flash is on the strip for its full time.
    """

    def __init__(self) -> None:
        self._strips: dict[int, _Playing] = {}

    def set(self, address: int, program: Program, now: float) -> None:
        """Play ``program`` on strip ``address`` from its first frame, due ``now``."""
        self._strips[address] = _Playing(program, due=now)

    def due(self, now: float) -> list[tuple[int, StripText]]:
        """The frames to queue now: one per strip whose next step is due."""
        out = []
        for address, playing in self._strips.items():
            if playing.due is not None and playing.due <= now:
                content = playing.program.frames[playing.step][0]
                playing.showing, playing.due, playing.awaiting = content, None, True
                out.append((address, content))
        return out

    def written(self, address: int, now: float) -> None:
        """The frame of the strip's current step went out at ``now``: start its hold."""
        playing = self._strips.get(address)
        if playing is None or not playing.awaiting:
            return  # a refresh or repaint of a step already held
        playing.awaiting = False
        frames = playing.program.frames
        hold = frames[playing.step][1]
        if playing.step + 1 < len(frames):
            playing.step, playing.due = playing.step + 1, now + hold
        elif playing.program.loop and len(frames) > 1:
            playing.step, playing.due = 0, now + hold

    def program(self, address: int) -> Program | None:
        """What strip ``address`` plays (None before its first program)."""
        playing = self._strips.get(address)
        return playing.program if playing else None

    def next_due(self) -> float:
        """When :meth:`due` will next have something (``inf``: nothing planned)."""
        return min((p.due for p in self._strips.values() if p.due is not None), default=math.inf)

    def showing(self) -> dict[int, StripText]:
        """What every strip shows (or is about to), for a repaint."""
        return {address: p.showing for address, p in self._strips.items() if p.showing is not None}


class WriteQueue:
    """Frames waiting for the line, at most one per strip, oldest strip first."""

    def __init__(self) -> None:
        self._pending: OrderedDict[int, StripText] = OrderedDict()
        self.high_water = 0  # the longest the queue has been

    def put(self, address: int, content: StripText) -> None:
        """Queue ``content``; replaces (in place) a frame for the strip not yet sent."""
        self._pending[address] = content
        self.high_water = max(self.high_water, len(self._pending))

    def pop(self) -> tuple[int, StripText]:
        return self._pending.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pending)
