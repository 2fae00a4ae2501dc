"""Scripted runs of the wall (headless tests, demos, the voice benchmark).

A script is a JSON list of steps, run one after the other on the Kivy loop (or, with the path
"-", steps read from stdin one JSON object per line, so a driving process can decide the next
step from what it saw; the run ends at end of input):

    [{"name": "ready", "until": {"connected": true}},
     {"name": "calls", "until": {"called_received": 3}, "shot": true},
     {"name": "burst", "until": {"called_received": 100, "voice.idle": true}, "timings": true}]

- `until`: wait until the wall's `status()` matches: a number means "at least", anything else
  "equal"; a dotted key looks inside (`voice.idle`). `timeout` (s, default 90) bounds the wait.
- `settle`: seconds to wait after that (default 0.4 before a screenshot, so two frames are drawn).
- `shot`: save the screen as `OUT/<name>.png`. `timings`: also record the voice timings.

After each step its status and visible texts go to `OUT/record.json`, and a line
`{"step": NAME, "ok": true, "status": …, "texts": …}` is printed on stdout so a driving process
can follow. A step that times out prints `"ok": false` and ends the run with exit status 1.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

from kivy.clock import Clock

from caller.kivyapp import screenshot

POLL_S = 0.05
DEFAULT_TIMEOUT_S = 90.0

DEFAULT_SCRIPT = [{"name": "wall", "until": {"connected": True}, "settle": 1.5, "shot": True}]


def load_script(path: str | None) -> queue.Queue:
    """The steps, queued; None marks the end. With "-" a thread queues stdin's lines as they come."""
    steps: queue.Queue = queue.Queue()
    if path == "-":
        threading.Thread(target=_read_lines, args=(steps,), name="wall-script", daemon=True).start()
        return steps
    listed = DEFAULT_SCRIPT if path is None else json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(listed, list) or not all(_is_step(s) for s in listed):
        raise ValueError(f"{path}: expected a JSON list of steps, each with a \"name\"")
    for step in listed:
        steps.put(step)
    steps.put(None)
    return steps


def _is_step(step: Any) -> bool:
    return isinstance(step, dict) and isinstance(step.get("name"), str)


def _read_lines(steps: queue.Queue) -> None:
    for line in sys.stdin:
        try:
            step = json.loads(line) if line.strip() else None
        except ValueError:
            step = None
        if _is_step(step):
            steps.put(step)
        elif line.strip():
            print(f"wall script: skipped a line that is not a step: {line!r}", file=sys.stderr)
    steps.put(None)


def matches(status: dict, wanted: dict) -> bool:
    for key, expected in wanted.items():
        value: Any = status
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(expected, int | float) and not isinstance(expected, bool):
            if not isinstance(value, int | float) or value < expected:
                return False
        elif value != expected:
            return False
    return True


class ScriptRunner:
    """Runs the steps against a running WallApp; `exit_code` is set when it stops the app."""

    def __init__(self, app: Any, steps: queue.Queue, out: str | Path) -> None:
        self.app = app
        self.steps = steps
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.record: dict[str, dict] = {}
        self.exit_code: int | None = None
        self._step: dict | None = None
        self._deadline = 0.0
        self._event = None

    def start(self) -> None:
        self._event = Clock.schedule_interval(self._poll, POLL_S)

    def _poll(self, _dt: float) -> bool:
        if self._step is None:
            try:
                self._step = self.steps.get_nowait()
            except queue.Empty:
                return True
            if self._step is None:
                self._finish(0)
                return False
            self._deadline = time.monotonic() + float(self._step.get("timeout", DEFAULT_TIMEOUT_S))
        step = self._step
        if matches(self.app.status(), step.get("until", {})):
            settle = float(step.get("settle", 0.4 if step.get("shot") else 0.0))
            self._event.cancel()
            Clock.schedule_once(lambda _dt: self._act(step), settle)
            return False
        if time.monotonic() > self._deadline:
            self._write(step, ok=False)
            self._finish(1)
            return False
        return True

    def _act(self, step: dict) -> None:
        if step.get("shot"):
            screenshot(self.out / f"{step['name']}.png")
        self._write(step, ok=True)
        self._step = None
        self._event = Clock.schedule_interval(self._poll, POLL_S)

    def _write(self, step: dict, ok: bool) -> None:
        entry = {"ok": ok, "status": self.app.status(), "texts": self.app.texts()}
        if step.get("timings"):
            entry["timings"] = self.app.voice_timings()
        self.record[step["name"]] = entry
        path = self.out / "record.json"
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(self.record, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(path)
        print(json.dumps({"step": step["name"], **entry}, ensure_ascii=False), flush=True)

    def _finish(self, code: int) -> None:
        self.exit_code = code
        self.app.stop()
