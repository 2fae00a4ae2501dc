"""What the keys of a counter line mean, what each keypad shows, and how frames wait for
the shared line: the pure side of the counter bridge (`caller.counter.bridge`), no I/O.

What the keys mean (keypads only have digits):

- call: the next ticket. Digits + call: the waiting ticket with that sequence number;
  the prefix letter is found by trying the services this window serves, highest weight
  first, then the other services (a ticket transferred to this window may be of any),
  and calling the first one that is waiting: ``23`` or ``023`` at a civil window calls
  ``A023``.
- call back held (confirm code 03): with digits, the held ticket with that sequence
  number; without, the ticket held longest.
- transfer: digits name the target window (``04`` is window ``4``).
- pause: pause the window, or resume it when it is paused.
- finish: the hub then lights the window's evaluator, if it has one. Digits before the
  finish key are the 办件编号 (case number) of the 受理 system, kept with the ticket.

Staff: a window must be logged in before it can call. The config names no clerk per
keypad, so the bridge logs each of its windows in as ``staff[window]`` (``hallq counter
--staff 3=1003``; default ``K3`` for window 3) when nobody is logged in at start, and
again whenever the hub answers ``not_logged_in``. A clerk who logged in on a terminal
keeps the window. A clerk logs in at the keypad with their 工号's digits, the confirm code
``01`` and the confirm key. Where the hall checks logins against its roster (`[staff]
roster_required`), a refused login shows ``00000N`` (1: unknown 工号, 2: disabled, 3: not
allowed at this window) with two beeps until a login succeeds.

Display: the last three digits of the window's ticket and how many can be called there
(``001  1``); two beeps and a blank display for two seconds when the hub refused a key.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from caller.core.config import ConfigError, HallConfig
from caller.counter.options import counter_options
from drivers.bus.ft12 import Frame
from drivers.bus.models import (
    EvaluatorModel,
    KeypadAction,
    KeypadModel,
    decode_evaluator,
    decode_keypad,
)

# --- settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class CounterSettings:
    """One counter line: its hub identity, port, and who sits at which address."""

    device: str
    token: str
    port: str
    baudrate: int
    addresses: Mapping[str, int]
    """Window id → bus address of its keypad (and evaluator)."""
    keypad: KeypadModel
    evaluator: EvaluatorModel | None
    staff: Mapping[str, str]
    """Window id → staff number the bridge logs the window in with."""

    def window_at(self, address: int) -> str | None:
        for window, at in self.addresses.items():
            if at == address:
                return window
        return None


def counter_settings(config: HallConfig, device_id: str, *, port: str | None = None,
                     staff: Mapping[str, str] | None = None) -> CounterSettings:
    """The settings of counter device ``device_id``; ConfigError naming the key otherwise.

    ``port`` overrides the config's port; ``staff`` maps window → staff number (windows
    left out log in as ``K<window>``).
    """
    options = counter_options(config, device_id)
    wrong = [w for w in staff or {} if w not in options.windows]
    if wrong:
        raise ConfigError(config.path, [f"--staff {w}=…: window {w!r} is not on this line "
                                        f"(its windows: {', '.join(options.windows)})"
                                        for w in wrong])
    return CounterSettings(
        device=device_id, token=config.devices[device_id].token, port=port or options.port,
        baudrate=options.baudrate, addresses=options.addresses,
        keypad=options.keypad, evaluator=options.evaluator,
        staff={w: (staff or {}).get(w, f"K{w}") for w in options.windows},
    )


# --- what a frame means ---------------------------------------------------------------


@dataclass(frozen=True)
class KeyPress:
    window: str
    action: KeypadAction


@dataclass(frozen=True)
class RatingPress:
    window: str
    address: int
    level: str


Press = KeyPress | RatingPress


def classify(frame: Frame, settings: CounterSettings) -> Press | None:
    """The press a frame carries from one of our devices, or None (noise, other address)."""
    window = settings.window_at(frame.address)
    if window is None:
        return None
    action = decode_keypad(frame, settings.keypad)
    if action is not None:
        return KeyPress(window, action)
    if settings.evaluator is not None:
        rated = decode_evaluator(frame, settings.evaluator)
        if rated is not None:
            return RatingPress(window, frame.address, rated[1])
    return None


# --- what a window shows and what a key asks for --------------------------------------


@dataclass(frozen=True)
class WindowView:
    """What the bridge knows of one window, from the hub's snapshot."""

    ticket: str | None = None
    waiting: int = 0
    paused: bool = False
    staff: str | None = None
    held: tuple[str, ...] = ()
    """Held ticket numbers, longest held first."""
    rating_pending: bool = False


def window_view(entry: Mapping[str, Any], previous: WindowView) -> WindowView:
    """The view of a snapshot ``windows[]`` entry; held tickets keep the order first seen."""
    numbers = [t["number"] for t in entry.get("held") or ()]
    held = tuple(n for n in previous.held if n in numbers)
    held += tuple(n for n in numbers if n not in held)
    ticket = entry.get("ticket")
    return WindowView(
        ticket=ticket["number"] if ticket else None, waiting=entry.get("waiting", 0),
        paused=entry.get("state") == "paused", staff=entry.get("staff"), held=held,
        rating_pending=bool(entry.get("rating_pending")),
    )


@dataclass(frozen=True)
class Plan:
    """Commands to try in order; the next is tried only when the hub answers a code in
    ``next_on`` (the first guess did not apply)."""

    commands: tuple[tuple[str, dict[str, Any]], ...]
    next_on: frozenset[str] = frozenset()


def _sequence(number: str) -> int | None:
    digits = "".join(c for c in number if c.isdigit())
    return int(digits) if digits else None


def call_number_candidates(config: HallConfig, window: str, digits: str) -> list[str]:
    """Ticket numbers the keypad digits may mean at ``window``, most likely first."""
    value = int(digits)
    weights = config.windows[window].services
    ranked = sorted(config.services.values(), key=lambda s: -weights.get(s.id, -1))
    return [f"{s.prefix}{value:0{s.digits}d}" for s in ranked
            if s.numbers[0] <= value <= s.numbers[1]]


def pick_held(held: Sequence[str], digits: str) -> str | None:
    """The held ticket to call back: sequence number ``digits``, or without digits the first."""
    if not digits:
        return held[0] if held else None
    return next((n for n in held if _sequence(n) == int(digits)), None)


def target_window(config: HallConfig, digits: str) -> str:
    """The window id the transfer digits name (``04`` → ``4``); unknown ones pass through."""
    if digits in config.windows:
        return digits
    stripped = digits.lstrip("0") or "0"
    return stripped if stripped in config.windows else digits


def plan_key(action: KeypadAction, window: str, view: WindowView, config: HallConfig) -> Plan | None:
    """The hub commands for a key, or None when there is nothing to ask (no such held ticket)."""
    kind, digits = action.action, action.digits
    if kind == "call_number":
        numbers = call_number_candidates(config, window, digits)
        if not numbers:
            return None
        return Plan(tuple(("call_next", {"number": n}) for n in numbers), frozenset({"unknown_ticket"}))
    if kind == "call_held":
        number = pick_held(view.held, digits)
        return None if number is None else Plan((("call_held", {"ticket": number}),))
    if kind == "pause_toggle":
        order = ("resume", "pause") if view.paused else ("pause", "resume")
        return Plan(tuple((k, {}) for k in order), frozenset({"window_paused", "window_not_paused"}))
    if kind == "transfer":
        return Plan((("transfer", {"to_window": target_window(config, digits)}),))
    if kind == "login":
        return Plan((("login", {"staff": digits}),))
    if kind == "finish" and digits:
        return Plan((("finish", {"case_no": digits}),))
    return Plan(((kind, {}),))  # call_next, recall, finish, skip, hold: the same name


def key_name(action: KeypadAction) -> str:
    return f"{action.action} {action.digits}" if action.digits else action.action


# --- frames waiting for the line ------------------------------------------------------


@dataclass
class Outbox:
    """Frames for the line, shared by the bridge (puts) and the line thread (takes).

    State frames (a keypad's display, an evaluator's light) are kept per key: only the
    newest is written, and not at all when the device already shows it. One-shot frames
    (beeps) go out in order, before state frames.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _desired: dict[tuple[str, int], bytes] = field(default_factory=dict)
    _written: dict[tuple[str, int], bytes] = field(default_factory=dict)
    _dirty: dict[tuple[str, int], None] = field(default_factory=dict)
    _once: deque[tuple[bytes, tuple[str, int] | None]] = field(default_factory=deque)

    def set(self, key: tuple[str, int], data: bytes, first: bool = False) -> None:
        """The device ``key`` should show ``data`` (written once, when it changes);
        ``first``: before every other state waiting to be written."""
        with self._lock:
            self._desired[key] = data
            if self._written.get(key) == data:
                self._dirty.pop(key, None)
            elif first:
                self._dirty = {key: None, **self._dirty}
            else:
                self._dirty[key] = None

    def send(self, data: bytes, overwrites: tuple[str, int] | None = None) -> None:
        """Write ``data`` once; ``overwrites`` names the state it changes on the device."""
        with self._lock:
            self._once.append((data, overwrites))

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._once or self._dirty)

    def take(self) -> bytes | None:
        """The next frame(s) to write, or None."""
        with self._lock:
            if self._once:
                data, overwrites = self._once.popleft()
                if overwrites is not None:
                    self._written.pop(overwrites, None)
                return data
            if not self._dirty:
                return None
            key = next(iter(self._dirty))
            del self._dirty[key]
            self._written[key] = self._desired[key]
            return self._desired[key]

    def line_reset(self) -> None:
        """The port was (re)opened: the devices' state is unknown, stale beeps are dropped."""
        with self._lock:
            self._once.clear()
            self._written.clear()
            self._dirty = dict.fromkeys(self._desired)


def line_time(size: float, baudrate: int) -> float:
    """Seconds ``size`` bytes take on the wire at 8N1 (10 bits a byte)."""
    return size * 10 / baudrate
