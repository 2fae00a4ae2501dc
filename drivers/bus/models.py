"""Key codes of caller keypads (呼叫器) and evaluators (评价器) on the counter line.

Which byte means which key differs between makers, so each device model is data: a
``KeypadModel`` or ``EvaluatorModel`` picked by name from ``KEYPAD_MODELS`` /
``EVALUATOR_MODELS`` (the hall config names it, e.g. ``evaluator = "5key"``).

Keypad → host (``FC 01``): optional digit bytes ``00``–``09``, then the key as the
last byte. A confirm key carries a code just before it (digits before the code, if any,
name the held ticket to call back). Host → keypad: ``FC 02`` with the six display cells,
``FC 03`` beep. Evaluator → host (``FC 11``): one key. Host → evaluator: ``FC 12``
``01`` start rating, ``00`` stop. The host acknowledges each key frame by echoing it
unchanged: ``encode_frame(frame)``.

Decoders return ``None`` for anything that is not a well-formed press of a known key,
so noise or an unknown key never turns into an action.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from drivers.bus.ft12 import Frame, encode_frame

LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
"""The national 好差评 scale, best first, as named in the hub protocol."""

KEYPAD_ACTIONS = (
    "call_next", "call_number", "recall", "finish", "pause_toggle",
    "transfer", "skip", "hold", "call_held", "login",
)
DIGITS_REQUIRED = frozenset({"call_number", "transfer", "login"})
"""Actions that need digits: the ticket number to call, the target window, the 工号."""
DIGITS_OPTIONAL = frozenset({"call_held", "finish"})
"""Actions that may carry digits: which held ticket (none: the host picks); the case
number (办件编号) of the service being finished."""

DISPLAY_CELLS = 6


@dataclass(frozen=True)
class KeypadModel:
    """Bytes of one caller keypad model."""

    name: str
    call_key: int
    """Alone: call next. After digits: call that number."""
    transfer_key: int
    """After digits naming the target window."""
    confirm_key: int
    confirm_codes: Mapping[int, str]
    """Code byte sent just before the confirm key → action."""
    plain_keys: Mapping[int, str]
    """Keys that take no digits → action."""
    press_function: int = 0x01
    display_function: int = 0x02
    beep_function: int = 0x03
    blank: int = 0x0A


@dataclass(frozen=True)
class EvaluatorModel:
    """Bytes of one evaluator model."""

    name: str
    keys: Mapping[int, str]
    """Key byte → level (one of ``LEVELS``)."""
    press_function: int = 0x11
    control_function: int = 0x12
    start: int = 0x01
    stop: int = 0x00


@dataclass(frozen=True)
class KeypadAction:
    """What a clerk asked for on the keypad at ``address``."""

    address: int
    action: str
    """One of ``KEYPAD_ACTIONS``; ``pause_toggle`` means pause or resume."""
    digits: str = ""
    """Target window (transfer), ticket number digits (call_number, call_held) or the case
    number (finish)."""


DEFAULT_KEYPAD = KeypadModel(
    name="default",
    call_key=0x0C,
    transfer_key=0x13,
    confirm_key=0x0F,
    confirm_codes=MappingProxyType({0x06: "skip", 0x00: "hold", 0x03: "call_held",
                                    0x01: "login"}),
    plain_keys=MappingProxyType({0x0D: "recall", 0x0B: "finish", 0x12: "pause_toggle"}),
)

FIVE_KEY = EvaluatorModel(
    name="5key",
    keys=MappingProxyType({
        0x01: "very_satisfied",  # 非常满意
        0x02: "satisfied",  # 满意
        0x03: "basic",  # 基本满意
        0x04: "dissatisfied",  # 不满意
        0x05: "very_dissatisfied",  # 非常不满意
    }),
)

FOUR_KEY = EvaluatorModel(
    name="4key",
    keys=MappingProxyType({
        0x03: "very_satisfied",  # 很好
        0x02: "satisfied",  # 好
        0x01: "basic",  # 一般
        0x00: "dissatisfied",  # 差
    }),
)

KEYPAD_MODELS: Mapping[str, KeypadModel] = MappingProxyType({DEFAULT_KEYPAD.name: DEFAULT_KEYPAD})
EVALUATOR_MODELS: Mapping[str, EvaluatorModel] = MappingProxyType(
    {FIVE_KEY.name: FIVE_KEY, FOUR_KEY.name: FOUR_KEY}
)


_Model = TypeVar("_Model", KeypadModel, EvaluatorModel)


def keypad_model(name: str) -> KeypadModel:
    """The keypad model called ``name``; ValueError naming the known ones otherwise."""
    return _lookup(KEYPAD_MODELS, name, "keypad")


def evaluator_model(name: str) -> EvaluatorModel:
    """The evaluator model called ``name``; ValueError naming the known ones otherwise."""
    return _lookup(EVALUATOR_MODELS, name, "evaluator")


def _lookup(models: Mapping[str, _Model], name: str, kind: str) -> _Model:
    try:
        return models[name]
    except KeyError:
        known = ", ".join(sorted(models))
        raise ValueError(f"unknown {kind} model {name!r}; known: {known}") from None


# --- keypad --------------------------------------------------------------------------


def decode_keypad(frame: Frame, model: KeypadModel = DEFAULT_KEYPAD) -> KeypadAction | None:
    """The action of a keypad press frame, or None if it is not a valid press."""
    if frame.function != model.press_function or not frame.data:
        return None
    *digit_bytes, key = frame.data
    if key == model.confirm_key:
        if not digit_bytes:
            return None
        code = digit_bytes.pop()
        action = model.confirm_codes.get(code)
    elif key == model.call_key:
        action = "call_number" if digit_bytes else "call_next"
    elif key == model.transfer_key:
        action = "transfer"
    else:
        action = model.plain_keys.get(key)
    if action is None or any(b > 9 for b in digit_bytes):
        return None
    digits = "".join(str(b) for b in digit_bytes)
    if not _digits_fit(action, digits):
        return None
    return KeypadAction(frame.address, action, digits)


def keypad_press(
    address: int, action: str, digits: str = "", model: KeypadModel = DEFAULT_KEYPAD
) -> bytes:
    """The frame a keypad sends for ``action`` (what the simulator puts on the line)."""
    if action not in KEYPAD_ACTIONS:
        raise ValueError(f"unknown keypad action {action!r}")
    if not _digits_fit(action, digits) or any(c not in string.digits for c in digits):
        raise ValueError(f"digits {digits!r} do not fit action {action!r}")
    if action in ("call_next", "call_number"):
        keys = [model.call_key]
    elif action == "transfer":
        keys = [model.transfer_key]
    elif action in model.confirm_codes.values():
        keys = [_key_for(model.confirm_codes, action), model.confirm_key]
    else:
        keys = [_key_for(model.plain_keys, action)]
    data = bytes(int(c) for c in digits) + bytes(keys)
    return encode_frame(Frame(address, model.press_function, data))


def keypad_display(
    address: int, ticket_number: str | None, waiting: int, model: KeypadModel = DEFAULT_KEYPAD
) -> bytes:
    """Show the last 3 digits of the ticket (blank if None) and the waiting count.

    ``A023`` with 12 waiting shows ``023 12``; the count is capped at 999.
    """
    if waiting < 0:
        raise ValueError(f"waiting must not be negative, got {waiting}")
    ticket_digits = "".join(c for c in ticket_number or "" if c in string.digits)[-3:]
    text = ticket_digits.rjust(3) + str(min(waiting, 999)).rjust(3)
    cells = bytes(model.blank if c == " " else int(c) for c in text)
    return encode_frame(Frame(address, model.display_function, cells))


def keypad_beep(address: int, model: KeypadModel = DEFAULT_KEYPAD) -> bytes:
    """One beep."""
    return encode_frame(Frame(address, model.beep_function))


def keypad_success(
    address: int, ticket_number: str | None, waiting: int, model: KeypadModel = DEFAULT_KEYPAD
) -> bytes:
    """A key was carried out: show the new state and beep once."""
    return keypad_display(address, ticket_number, waiting, model) + keypad_beep(address, model)


def keypad_fail(address: int, model: KeypadModel = DEFAULT_KEYPAD) -> bytes:
    """A key was refused (queue empty, no ticket…): all cells blank and two beeps.

    The blank display and the double beep tell the clerk apart from success without
    reading anything; the host redraws the normal display with the next update.
    """
    cells = bytes([model.blank] * DISPLAY_CELLS)
    blank = encode_frame(Frame(address, model.display_function, cells))
    return blank + keypad_beep(address, model) * 2


LOGIN_REFUSALS = {"unknown_staff": 1, "staff_disabled": 2, "staff_not_here": 3}
"""Why a login was refused → the number a keypad shows (``000001`` …)."""


def keypad_login_refused(address: int, reason: str, model: KeypadModel = DEFAULT_KEYPAD) -> bytes:
    """A login was refused: ``00000N`` (N from ``LOGIN_REFUSALS``) and two beeps, kept until a
    login succeeds; no ticket ever shows ``000``."""
    cells = bytes([0] * (DISPLAY_CELLS - 1) + [LOGIN_REFUSALS[reason]])
    return encode_frame(Frame(address, model.display_function, cells)) + keypad_beep(address, model) * 2


def decode_display(frame: Frame, model: KeypadModel = DEFAULT_KEYPAD) -> str | None:
    """The six characters a display frame shows (blank as space), or None if it is not one."""
    if frame.function != model.display_function or len(frame.data) != DISPLAY_CELLS:
        return None
    if any(b > 9 and b != model.blank for b in frame.data):
        return None
    return "".join(" " if b == model.blank else str(b) for b in frame.data)


def _digits_fit(action: str, digits: str) -> bool:
    if action in DIGITS_REQUIRED:
        return bool(digits)
    return action in DIGITS_OPTIONAL or not digits


def _key_for(keys: Mapping[int, str], action: str) -> int:
    for key, name in keys.items():
        if name == action:
            return key
    raise ValueError(f"action {action!r} has no key on this model")


# --- evaluator -----------------------------------------------------------------------


def decode_evaluator(
    frame: Frame, model: EvaluatorModel = FIVE_KEY
) -> tuple[int, str] | None:
    """``(address, level)`` of an evaluator press frame, or None if it is not one."""
    if frame.function != model.press_function or len(frame.data) != 1:
        return None
    level = model.keys.get(frame.data[0])
    return None if level is None else (frame.address, level)


def evaluator_press(address: int, level: str, model: EvaluatorModel = FIVE_KEY) -> bytes:
    """The frame an evaluator sends when ``level`` is pressed."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; levels: {', '.join(LEVELS)}")
    key = _key_for(model.keys, level)
    return encode_frame(Frame(address, model.press_function, bytes([key])))


def evaluator_start(address: int, model: EvaluatorModel = FIVE_KEY) -> bytes:
    """Light the evaluator: the citizen may rate now."""
    return encode_frame(Frame(address, model.control_function, bytes([model.start])))


def evaluator_stop(address: int, model: EvaluatorModel = FIVE_KEY) -> bytes:
    """Put the evaluator out (rated or timed out)."""
    return encode_frame(Frame(address, model.control_function, bytes([model.stop])))


def decode_evaluator_control(frame: Frame, model: EvaluatorModel = FIVE_KEY) -> bool | None:
    """True for start, False for stop, None if the frame is neither."""
    if frame.function != model.control_function or len(frame.data) != 1:
        return None
    return {model.start: True, model.stop: False}.get(frame.data[0])
