"""Shortcut keys from the hall config: defaults, overrides, and errors that name the key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from caller.core.config import ConfigError, load_config
from caller.terminal.options import terminal_options
from caller.terminal.shortcuts import (
    ACTIONS,
    DEFAULT_SHORTCUTS,
    actions_by_keycode,
    parse_shortcuts,
)
from tests.hubproc import DEMO_CONFIG, REPO


def with_shortcuts(tmp_path, table: str):
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'token = "demo-term-1"\n', f'token = "demo-term-1"\nshortcuts = {table}\n', 1)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_action_has_a_function_key_by_default():
    shortcuts = terminal_options(load_config(DEMO_CONFIG), "term-1").shortcuts
    assert shortcuts == DEFAULT_SHORTCUTS
    assert [shortcuts[a] for a in ACTIONS] == [f"F{i}" for i in range(1, 13)]
    assert actions_by_keycode(shortcuts)[282] == "call_next"  # Kivy's keycode for F1
    assert actions_by_keycode(shortcuts)[293] == "login"  # F12


def test_a_device_moves_actions_to_other_keys(tmp_path):
    cfg = load_config(with_shortcuts(tmp_path, '{ call_next = "F5", hold = "f1", finish = "Z" }'))
    shortcuts = terminal_options(cfg, "term-1").shortcuts
    assert shortcuts["call_next"] == "F5" and shortcuts["hold"] == "F1" and shortcuts["finish"] == "Z"
    keys = actions_by_keycode(shortcuts)
    assert keys[286] == "call_next" and keys[282] == "hold" and keys[ord("z")] == "finish"
    assert shortcuts["recall"] == "F2"  # untouched actions keep their defaults


@pytest.mark.parametrize(("table", "expected"), [
    ('{ call_nxt = "F1" }', "devices (id 'term-1').shortcuts.call_nxt: unknown action"),
    ('{ recall = "F42" }', "devices (id 'term-1').shortcuts.recall: expected a key F1-F15"),
    ('{ recall = "F1" }', "devices (id 'term-1').shortcuts: F1 is used by both call_next and recall"),
    ('"F1"', "devices (id 'term-1').shortcuts: expected a table"),
])
def test_a_bad_shortcut_names_the_file_and_the_key(tmp_path, table, expected):
    path = with_shortcuts(tmp_path, table)
    with pytest.raises(ConfigError) as e:
        terminal_options(load_config(path), "term-1")
    assert e.value.path == str(path)
    assert any(p.startswith(expected) for p in e.value.problems), e.value.problems


def test_parse_shortcuts_lists_every_problem_at_once():
    with pytest.raises(ConfigError) as e:
        parse_shortcuts({"recall": 5, "nope": "F3"}, "devices (id 'x')", "hall.toml")
    assert len(e.value.problems) == 2


def test_the_terminal_refuses_to_start_with_a_bad_shortcut(tmp_path):
    path = with_shortcuts(tmp_path, '{ skip = "F99" }')
    done = subprocess.run([sys.executable, "-m", "hallq", "terminal", "--config", str(path),
                           "--device", "term-1", "--headless"], cwd=REPO, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 2
    assert str(path) in done.stderr and "shortcuts.skip" in done.stderr


def test_the_terminal_refuses_a_device_that_is_not_a_terminal():
    done = subprocess.run([sys.executable, "-m", "hallq", "terminal", "--device", "kiosk-1",
                           "--headless"], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "expected \"terminal\"" in done.stderr
