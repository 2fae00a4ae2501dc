"""Runs a parsed `kiosk.script` inside the running app, on Kivy's clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window

from caller.kivyapp import screenshot, visible_texts
from kiosk.printing import printer_condition
from kiosk.script import ScriptError

STEP_TIMEOUT_S = 30.0


def tagged_widgets(root: Any) -> Iterator[tuple[Any, bool]]:
    """Every widget with a `kiosk_id` under `root`, and whether it can be seen."""
    def walk(widget: Any, shown: bool) -> Iterator[tuple[Any, bool]]:
        shown = shown and getattr(widget, "opacity", 1) > 0
        if getattr(widget, "kiosk_id", None):
            yield widget, shown
        for child in reversed(widget.children):
            yield from walk(child, shown)
    yield from walk(root, True)


def find(root: Any, kiosk_id: str) -> Any | None:
    for widget, shown in tagged_widgets(root):
        if widget.kiosk_id == kiosk_id and shown:
            return widget
    return None


def describe(app: Any) -> dict:
    """What a person would see now, as data: screen, texts, and the named widgets."""
    widgets = {}
    for widget, shown in tagged_widgets(app.root):
        entry = {"shown": shown, "disabled": bool(widget.disabled)}
        if isinstance(getattr(widget, "text", None), str):
            entry["text"] = widget.text
        if hasattr(widget, "qr_data"):
            entry["qr_data"] = widget.qr_data
        entry["size"] = [round(widget.width), round(widget.height)]
        widgets[widget.kiosk_id] = entry
    return {
        "screen": app.manager.current,
        "window": list(Window.size),
        "lang": app.lang,
        "connection": app.state.connection,
        "printer": printer_condition(app.printer_status) if app.printer else None,
        "texts": visible_texts(app.root),
        "widgets": widgets,
    }


class ScriptRunner:
    def __init__(self, steps: list[tuple[str, str]], shots: str | Path) -> None:
        self.steps = steps
        self.shots = Path(shots)
        self.index = 0
        self.app: Any = None
        self.error: str | None = None
        self._started = 0.0
        self._mark: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.index >= len(self.steps)

    def start(self, app: Any) -> None:
        self.app = app
        self.shots.mkdir(parents=True, exist_ok=True)
        self._started = time.monotonic()
        self._event = Clock.schedule_interval(self._tick, 0.05)

    def _tick(self, _dt: float) -> None:
        if self.index >= len(self.steps):
            self._finish()
            return
        verb, arg = self.steps[self.index]
        try:
            done = getattr(self, f"_{verb}")(arg)
        except Exception as exc:  # a broken step ends the run with its reason
            self._finish(f"step {self.index + 1} ({verb} {arg}): {exc!r}")
            return
        if done:
            self.index += 1
            self._started = time.monotonic()
            self._mark = None
        elif time.monotonic() - self._started > STEP_TIMEOUT_S:
            self._finish(f"step {self.index + 1} ({verb} {arg}) did not happen within "
                         f"{STEP_TIMEOUT_S:.0f} s; screen {self.app.manager.current!r}, "
                         f"texts {visible_texts(self.app.root)}")

    def _finish(self, error: str | None = None) -> None:
        self._event.cancel()
        self.error = error
        run = {"ok": error is None, "error": error, "steps_done": self.index,
               "timings": list(self.app.timings), "alerts": list(self.app.alerts_sent),
               "replies": list(self.app.replies)}
        (self.shots / "run.json").write_text(json.dumps(run, ensure_ascii=False, indent=1),
                                             encoding="utf-8")
        self.app.stop()

    # -- steps: each returns True when done ----------------------------------------------

    def _tap(self, kiosk_id: str) -> bool:
        widget = find(self.app.root, kiosk_id)
        if widget is None or widget.disabled:
            return False
        self.app.touched()
        widget.trigger_action(0)
        return True

    def _shot(self, name: str) -> bool:
        # A change shows on screen only after the next frames are drawn.
        if self._mark is None:
            self._mark = Clock.frames_displayed + 3
            return False
        if Clock.frames_displayed < self._mark:
            return False
        screenshot(self.shots / f"{name}.png")
        (self.shots / f"{name}.json").write_text(
            json.dumps(describe(self.app), ensure_ascii=False, indent=1), encoding="utf-8")
        return True

    def _sleep(self, seconds: str) -> bool:
        if self._mark is None:
            self._mark = time.monotonic() + float(seconds)
        return time.monotonic() >= self._mark

    def _wait(self, condition: str) -> bool:
        app = self.app
        name, _, arg = condition.partition(" ")
        if name == "screen":
            return app.manager.current == arg
        if name == "connected":
            return app.state.can_issue
        if name == "offline":
            return app.state.connection == "offline"
        if name == "printed":
            return app.printed_count >= int(arg)
        if name == "printer":
            return app.printer_status is not None and printer_condition(app.printer_status) == arg
        if name == "text":
            return any(arg in shown for shown in visible_texts(app.root))
        if name == "alerted":
            return any(a["kind"] == arg and a["ok"] for a in app.alerts_sent)
        if name in ("enabled", "disabled"):
            widget = find(app.root, arg)
            return widget is not None and widget.disabled == (name == "disabled")
        raise ScriptError(f"unknown condition {name!r}")
