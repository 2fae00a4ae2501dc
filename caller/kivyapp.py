"""What every hallq Kivy program shares: start-up flags, the CJK font, the hub
connection on the UI thread, and the headless script grammar and its runner, which the
kiosk, the terminal and the wall extend with their own verbs and conditions (docs/scripts.md).

Call `prepare()` before anything imports `kivy.core.window`. The script parser needs no Kivy.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caller.core.errors import HallqError


def prepare(*, headless: bool = False, size: tuple[int, int] | None = None,
            fullscreen: bool = False) -> None:
    """Configure Kivy before its window exists."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    from kivy.config import Config

    # Kivy swaps stderr for its logger when console logging is off; keep tracebacks visible.
    sys.stderr = sys.__stderr__
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    if size:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "auto" if fullscreen and not headless else "0")


def use_cjk_font(configured: str | None = None) -> str:
    """Make the system CJK font Kivy's default, so every label renders Chinese."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    from drivers.fonts import find_cjk_font

    path = find_cjk_font(configured)
    LabelBase.register(DEFAULT_FONT, path)
    return path


def on_ui_thread(fn: Callable[[], None]) -> None:
    """Dispatch for ThreadedHubClient: run `fn` on Kivy's main loop."""
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: fn(), 0)


def visible_texts(root: Any) -> list[str]:
    """The text of every label and button shown under `root` (for tests)."""
    out: list[str] = []

    def walk(widget: Any) -> None:
        if getattr(widget, "opacity", 1) == 0 or getattr(widget, "disabled_hidden", False):
            return
        text = getattr(widget, "text", None)
        if isinstance(text, str) and text.strip():
            out.append(text)
        for child in reversed(widget.children):
            walk(child)

    walk(root)
    return out


def screenshot(path: str | Path) -> Path:
    """Save the window as `path` (PNG). Kivy numbers its files; we rename."""
    from kivy.core.window import Window

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = Window.screenshot(name=str(path.with_name(path.stem + "-%(counter)04d.png")))
    Path(written).replace(path)
    return path


# ---------------------------------------------------------------------- headless scripts

COMMON_VERBS = ("wait", "sleep", "shot", "mark")
STEP_TIMEOUT_S = 60.0  # a hang guard: a step ends as soon as what it waits for is there
FRAMES_BEFORE_SHOT = 3  # a change shows on screen only once the next frames are drawn
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # shot and mark names become file names
JSON_LITERAL = re.compile(r"-?\d|true$|false$|null$|[\[{\"]")


class ScriptError(HallqError, ValueError):
    """A script step that cannot be run, with where it is."""


@dataclass(frozen=True)
class Step:
    verb: str
    arg: Any  # wait: {condition: value}; sleep: seconds; everything else: a string
    timeout: float = STEP_TIMEOUT_S
    line: int = 0

    def __str__(self) -> str:
        return f"{self.verb} {json.dumps(self.arg, ensure_ascii=False)}"


def parse_step(text: str, verbs: Collection[str], line: int = 0) -> Step | None:
    """One line of a script (None for a blank or comment line); ScriptError when it is wrong."""
    where = f"line {line}: " if line else ""
    text = text.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise ScriptError(f"{where}not valid JSON ({e})") from None
        return step_from_object(obj, verbs, line)
    text = text.split("#", 1)[0].strip()
    if not text:
        return None
    verb, _, rest = text.partition(" ")
    rest = rest.strip()
    if verb == "wait":
        name, _, value = rest.partition(" ")
        arg: Any = {name: _value(value.strip())} if name else {}
    else:
        arg = rest
    return _checked(verb, arg, STEP_TIMEOUT_S, verbs, line, where)


def _value(text: str) -> Any:
    """A line's condition value: JSON when it looks like JSON (1, true, null, [..]), else text."""
    if not text:
        return True
    if JSON_LITERAL.match(text):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def step_from_object(obj: Any, verbs: Collection[str], line: int = 0,
                     unit: str = "line") -> Step:
    """A step written as JSON: {"VERB": ARGUMENT} and optionally "timeout": seconds. `line` is
    where it is: a line, or (`unit="step"`) its place in a JSON list."""
    where = f"{unit} {line}: " if line else ""
    if not isinstance(obj, dict):
        raise ScriptError(f"{where}expected an object like {{\"wait\": {{...}}}}, got {obj!r}")
    keys = [k for k in obj if k != "timeout"]
    if len(keys) != 1:
        raise ScriptError(f"{where}expected one verb ({', '.join(verbs)}) and at most "
                          f"\"timeout\", got {sorted(obj)}")
    timeout = obj.get("timeout", STEP_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < 3600:
        raise ScriptError(f"{where}timeout: expected seconds between 0 and 3600, got {timeout!r}")
    return _checked(keys[0], obj[keys[0]], float(timeout), verbs, line, where)


def _checked(verb: str, arg: Any, timeout: float, verbs: Collection[str], line: int,
             where: str) -> Step:
    if verb not in verbs:
        raise ScriptError(f"{where}unknown step {verb!r}; expected one of {', '.join(verbs)}")
    if verb == "wait":
        if not isinstance(arg, dict) or not arg or not all(isinstance(k, str) and k for k in arg):
            raise ScriptError(f"{where}wait: expected conditions like {{\"connected\": true}}, "
                              f"got {arg!r}")
    elif verb == "sleep":
        try:
            arg = float(arg)
        except (TypeError, ValueError):
            arg = math.nan
        if not 0 <= arg <= 3600:
            raise ScriptError(f"{where}sleep: expected seconds between 0 and 3600")
    elif not isinstance(arg, str) or not arg:
        raise ScriptError(f"{where}{verb}: expected a text argument, got {arg!r}")
    elif verb in ("shot", "mark") and not NAME.fullmatch(arg):
        raise ScriptError(f"{where}{verb}: {arg!r} is not a name (letters, digits, _ . -; "
                          f"64 at most)")
    return Step(verb, arg, timeout, line)


def parse_script(source: str, verbs: Collection[str]) -> list[Step]:
    """A whole script: a JSON list of step objects, or one step a line."""
    if source.lstrip().startswith("["):
        try:
            listed = json.loads(source)
        except ValueError as e:
            raise ScriptError(f"not valid JSON ({e})") from None
        if not isinstance(listed, list):
            raise ScriptError("expected a JSON list of steps")
        return [step_from_object(obj, verbs, number, unit="step")
                for number, obj in enumerate(listed, 1)]
    steps = (parse_step(text, verbs, number)
             for number, text in enumerate(source.splitlines(), start=1))
    return [step for step in steps if step is not None]


def load_script(path: str | Path, verbs: Collection[str]) -> queue.Queue:
    """The steps of the file at `path`, queued and ended by None; with "-" a thread queues
    stdin's lines as they come, so a driving process can decide each step from what it saw.
    A wrong stdin line is reported (stderr, and `{"rejected": ...}` on stdout) and skipped."""
    steps: queue.Queue = queue.Queue()
    if str(path) == "-":
        threading.Thread(target=_read_stdin, args=(steps, verbs), name="script-stdin",
                         daemon=True).start()
        return steps
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScriptError(f"cannot read it: {e}") from None
    for step in parse_script(source, verbs):
        steps.put(step)
    steps.put(None)
    return steps


def queued(steps: list[Step]) -> queue.Queue:
    """`steps` as the queue a ScriptRunner reads."""
    q: queue.Queue = queue.Queue()
    for step in [*steps, None]:
        q.put(step)
    return q


def _read_stdin(steps: queue.Queue, verbs: Collection[str]) -> None:
    for number, text in enumerate(sys.stdin, start=1):
        try:
            step = parse_step(text, verbs, number)
        except ScriptError as e:
            print(f"script: skipped {e}", file=sys.stderr, flush=True)
            print(json.dumps({"rejected": str(e)}, ensure_ascii=False), flush=True)
            continue
        if step is not None:
            steps.put(step)
    steps.put(None)


def matches(view: dict, key: str, wanted: Any) -> bool:
    """Whether `view` meets one condition: a dotted key looks inside (`voice.idle`); a number
    means "at least", anything else "equal"."""
    value: Any = view
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(wanted, int | float) and not isinstance(wanted, bool):
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= wanted
    return value == wanted


class ScriptRunner:
    """Runs queued steps in a running Kivy app, one step at a time on its clock.

    An app extends it: `VERBS` adds verbs, each run by a method `do_VERB(arg)` returning True
    when done, False to be asked again next frame (until the step's timeout) or raising
    ScriptError to fail; `view()` is what `wait` compares with; `condition()` answers the
    app's own conditions; `describe()` is what a shot or a mark records; `result()` adds to
    record.json. At the end OUT/record.json says whether every step passed and the app stops;
    `exit_code` is then 0 or 1."""

    VERBS: tuple[str, ...] = ()
    CONDITIONS: tuple[str, ...] = ()

    def __init__(self, app: Any, steps: queue.Queue, out: str | Path) -> None:
        self.app = app
        self.steps = steps
        self.out = Path(out)
        self.shots: dict[str, dict] = {}
        self.done = 0
        self.error: str | None = None
        self.exit_code: int | None = None
        self._step: Step | None = None
        self._began = 0.0
        self._mark: float | None = None
        self._last_frame = 0
        self._event: Any = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def start(self, app: Any = None) -> None:
        """Begin on the app's clock (`app`: when it was not known at construction)."""
        from kivy.clock import Clock

        if app is not None:
            self.app = app
        self.out.mkdir(parents=True, exist_ok=True)
        self._last_frame = Clock.frames_displayed
        self._event = Clock.schedule_interval(self._tick, 0)

    @property
    def frames_since_step(self) -> int:
        """Frames drawn since the previous step ended."""
        from kivy.clock import Clock

        return Clock.frames_displayed - self._last_frame

    # ------------------------------------------------------------------ app hooks

    def view(self) -> dict:
        return {}

    def condition(self, name: str, value: Any) -> bool:
        raise ScriptError(f"unknown condition {name!r}")

    def describe(self) -> dict:
        return {**self.view(), "texts": visible_texts(self.app.root)}

    def result(self) -> dict:
        return {}

    # ------------------------------------------------------------------ the loop

    def _tick(self, _dt: float) -> bool | None:
        if self._step is None:
            try:
                self._step = self.steps.get_nowait()
            except queue.Empty:
                return None  # the next step has not come yet (stdin)
            if self._step is None:
                self._finish()
                return False
            self._began, self._mark = time.monotonic(), None
        step = self._step
        try:
            done = self._run(step)
        except Exception as exc:  # a broken step ends the run with its reason
            reason = str(exc) if isinstance(exc, ScriptError) else repr(exc)
            self._finish(f"step {self.done + 1} ({step}): {reason}")
            return False
        if done:
            from kivy.clock import Clock

            self.done += 1
            self._step = None
            self._last_frame = Clock.frames_displayed
        elif time.monotonic() - self._began > step.timeout + (step.arg if step.verb == "sleep" else 0):
            self._finish(f"step {self.done + 1} ({step}) did not happen within "
                         f"{step.timeout:g} s; now {json.dumps(self.view(), ensure_ascii=False)}")
            return False
        return None

    def _run(self, step: Step) -> bool:
        if step.verb == "wait":
            return all(self._holds(name, value) for name, value in step.arg.items())
        if step.verb == "sleep":
            if self._mark is None:
                self._mark = time.monotonic() + step.arg
            return time.monotonic() >= self._mark
        if step.verb == "shot":
            if self.frames_since_step < FRAMES_BEFORE_SHOT:
                return False
            self.take_shot(step.arg)
            return True
        if step.verb == "mark":
            self._say({"mark": step.arg, **self.describe()})
            return True
        return bool(getattr(self, f"do_{step.verb}")(step.arg))

    def _holds(self, name: str, value: Any) -> bool:
        if name in self.CONDITIONS:
            return self.condition(name, value)
        view = self.view()
        if name.split(".", 1)[0] not in view:
            raise ScriptError(f"unknown condition {name!r}; expected one of "
                              + ", ".join([*view, *self.CONDITIONS]))
        return matches(view, name, value)

    def take_shot(self, name: str) -> None:
        """OUT/NAME.png, and what is shown in OUT/NAME.json, record.json and on stdout."""
        screenshot(self.out / f"{name}.png")
        shown = self.describe()
        self.shots[name] = shown
        _write_json(self.out / f"{name}.json", shown)
        _write_json(self.out / "record.json", self._record())
        self._say({"shot": name, **shown})

    def _record(self) -> dict:
        return {"ok": self.exit_code == 0 if self.exit_code is not None else None,
                "error": self.error, "steps_done": self.done, "shots": self.shots,
                **self.result()}

    @staticmethod
    def _say(line: dict) -> None:
        print(json.dumps(line, ensure_ascii=False), flush=True)

    def _finish(self, error: str | None = None) -> None:
        self._event.cancel()
        self.error = error
        self.exit_code = 0 if error is None else 1
        if error is not None:
            print(f"script failed: {error}", file=sys.stderr, flush=True)
            self._say({"error": error})
        _write_json(self.out / "record.json", self._record())
        self.app.stop()


def _write_json(path: Path, data: Any) -> None:
    """Whole or not at all: a reader never sees half a file."""
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)
