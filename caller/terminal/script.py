"""Drive the terminal from a list of steps: headless tests, demos and screenshots.

A script is a JSON list; each step is an object with one of these keys:

    {"wait": {"state": "serving", "ticket": "A001"}}  until the window summary matches
                                                      (keys of WindowModel.summary(), plus
                                                      "message_has": text, "popup": name)
    {"press": "call_next"}     press the action's button (an error if it is disabled)
    {"key": "F1"}              a key press, as the keyboard sends it ("enter", "escape",
                               "down", ... too)
    {"type": "1001"}           type into the open prompt (its focused field)
    {"choose": "service:family"}  pick an option of the open chooser
    {"shot": "serving"}        save DIR/serving.png and record what is shown
    {"mark": "name"}           print {"mark": "name"} on stdout (to sync with a test)
    {"sleep": 0.5}             (demos only)

What was recorded goes to DIR/record.json: {"shots": {name: {texts, enabled, summary,
message, popup}}, "errors": [...]}. Steps run on the Kivy loop, one per frame at most.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Keyboard, Window

from caller.core.errors import HallqError
from caller.kivyapp import screenshot, visible_texts
from caller.terminal.app import TerminalApp
from caller.terminal.shortcuts import keycode

WAIT_TIMEOUT_S = 20.0
FRAMES_BEFORE_SHOT = 3


class ScriptError(HallqError):
    pass


class ScriptRunner:
    def __init__(self, app: TerminalApp, steps: list[dict], out: Path,
                 timeout: float = 90.0) -> None:
        self.app = app
        self.steps = list(steps)
        self.out = out
        self.timeout = timeout
        self.record: dict[str, Any] = {"shots": {}, "errors": []}
        self.index = 0
        self.frames = 0  # frames since the last step that changed something
        self.wait_started: float | None = None
        self.started = time.monotonic()

    def start(self) -> None:
        Clock.schedule_interval(self._tick, 0)

    @property
    def ok(self) -> bool:
        return not self.record["errors"]

    def _tick(self, _dt: float) -> bool | None:
        self.frames += 1
        if self.index >= len(self.steps) or time.monotonic() - self.started > self.timeout:
            if self.index < len(self.steps):
                self._fail(f"script timed out at step {self.index}: {self.steps[self.index]}")
            self._finish()
            return False
        step = self.steps[self.index]
        try:
            done = self._run(step)
        except ScriptError as e:
            self._fail(f"step {self.index} {step}: {e}")
            self._finish()
            return False
        if done:
            self.index += 1
            self.wait_started = None
        return None

    def _run(self, step: dict) -> bool:
        (kind, arg), = step.items()
        app, t = self.app, self.app.terminal
        if kind == "wait":
            return self._wait(arg)
        if kind == "shot":
            if self.frames < FRAMES_BEFORE_SHOT:
                return False
            self._shot(arg)
        elif kind == "press":
            button = app.bar.buttons[arg]
            if button.disabled:
                raise ScriptError(f"the {arg} button is disabled ({t.model.summary()})")
            button.trigger_action(0)
        elif kind == "key":
            code = Keyboard.keycodes.get(arg.lower()) or keycode(arg)
            if code is None:
                raise ScriptError(f"unknown key {arg!r}")
            Window.dispatch("on_key_down", code, 0, None, [])
            Window.dispatch("on_key_up", code, 0)
        elif kind == "type":
            if app.popup is None or not hasattr(app.popup, "field"):
                raise ScriptError("no prompt is open")
            if self.frames < FRAMES_BEFORE_SHOT:  # the field takes text once it is laid out
                return False
            for char in arg:  # as the keyboard delivers it, to the focused field
                Window.dispatch("on_textinput", char)
            if not app.popup.field.text.endswith(arg):
                raise ScriptError(f"typed {arg!r} but the field shows {app.popup.field.text!r}")
        elif kind == "choose":
            if app.popup is None or not hasattr(app.popup, "values"):
                raise ScriptError("no chooser is open")
            if arg not in app.popup.values:
                raise ScriptError(f"{arg!r} is not offered; offered: {app.popup.values}")
            app.popup.choose(arg)
        elif kind == "mark":
            print(json.dumps({"mark": arg}), flush=True)
        elif kind == "sleep":
            if self.wait_started is None:
                self.wait_started = time.monotonic()
            return time.monotonic() - self.wait_started >= float(arg)
        else:
            raise ScriptError(f"unknown step {kind!r}")
        self.frames = 0
        return True

    def _wait(self, expected: dict) -> bool:
        if self.wait_started is None:
            self.wait_started = time.monotonic()
        now = self._view()
        if all(self._matches(now, k, v) for k, v in expected.items()):
            self.frames = 0
            return True
        if time.monotonic() - self.wait_started > float(expected.get("timeout", WAIT_TIMEOUT_S)):
            raise ScriptError(f"still waiting; now {now}")
        return False

    @staticmethod
    def _matches(now: dict, key: str, value: Any) -> bool:
        if key == "timeout":
            return True
        if key == "message_has":
            return value in now["message"]
        return now.get(key) == value

    def _view(self) -> dict:
        app = self.app
        return {**app.terminal.model.summary(), "message": app.terminal.message,
                "popup": getattr(app.popup, "name", None), "busy": app.terminal.in_flight > 0}

    def _shot(self, name: str) -> None:
        app = self.app
        app.bar.render()
        screenshot(self.out / f"{name}.png")
        self.record["shots"][name] = {
            "texts": visible_texts(Window),
            "enabled": [a for a, b in app.bar.buttons.items() if not b.disabled],
            **self._view(),
        }

    def _fail(self, message: str) -> None:
        self.record["errors"].append(message)
        print(json.dumps({"error": message}, ensure_ascii=False), file=sys.stderr, flush=True)

    def _finish(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "record.json").write_text(
            json.dumps(self.record, ensure_ascii=False, indent=1), encoding="utf-8")
        self.app.stop()


def load_steps(path: str | Path) -> list[dict]:
    steps = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(steps, list) or not all(isinstance(s, dict) and len(s) == 1 for s in steps):
        raise ValueError(f"{path}: expected a JSON list of one-key objects")
    return steps
