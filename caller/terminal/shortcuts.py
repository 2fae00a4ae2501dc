"""Keyboard shortcuts: every action on one key, so a clerk never needs the mouse.

A terminal device may override any of them in the hall config:

    [[devices]]
    id = "term-1"
    role = "terminal"
    shortcuts = { call_next = "F1", finish = "F9" }

Keys are F1-F15, a letter or a digit. Pure data: no Kivy here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caller.core.config import ConfigError

# The clerk's actions, in the order the bar shows them. `pause` toggles pause/resume,
# `login` toggles login/logout.
ACTIONS = ("call_next", "recall", "skip", "transfer", "hold", "call_held", "pause", "start",
           "finish", "request_rating", "call_number", "login")

DEFAULT_SHORTCUTS = {action: f"F{i}" for i, action in enumerate(ACTIONS, start=1)}

# Kivy's keycodes (SDL's, as kivy.core.window.Keyboard.keycodes lists them).
_FUNCTION_KEYS = {f"F{i}": 281 + i for i in range(1, 16)}


def keycode(name: str) -> int | None:
    """The keycode of a key name such as "F1", "a" or "7"; None when not supported."""
    upper = name.strip().upper()
    if upper in _FUNCTION_KEYS:
        return _FUNCTION_KEYS[upper]
    if len(upper) == 1 and (upper.isascii() and upper.isalnum()):
        return ord(upper.lower())
    return None


def parse_shortcuts(raw: Any, where: str, path: str) -> dict[str, str]:
    """Merge a device's `shortcuts` table over the defaults; raise ConfigError naming the key."""
    if raw is None:
        return dict(DEFAULT_SHORTCUTS)
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise ConfigError(path, [f"{where}.shortcuts: expected a table like "
                                 f"{{ call_next = \"F1\" }}, got {raw!r}"])
    merged = dict(DEFAULT_SHORTCUTS)
    for action, key in raw.items():
        if action not in ACTIONS:
            problems.append(f"{where}.shortcuts.{action}: unknown action; expected one of "
                            + ", ".join(ACTIONS))
        elif not isinstance(key, str) or keycode(key) is None:
            problems.append(f"{where}.shortcuts.{action}: expected a key F1-F15, a letter or a "
                            f"digit, got {key!r}")
        else:
            merged[action] = key.strip().upper()
    by_key: dict[str, str] = {}
    for action, key in merged.items():
        if key in by_key:
            problems.append(f"{where}.shortcuts: {key} is used by both {by_key[key]} and {action}"
                            " (overrides replace defaults; move the other action to a free key)")
        by_key[key] = action
    if problems:
        raise ConfigError(path, problems)
    return merged


def actions_by_keycode(shortcuts: Mapping[str, str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for action, key in shortcuts.items():
        code = keycode(key)
        if code is not None:
            out[code] = action
    return out
