"""What every hallq Kivy program shares: start-up flags, the CJK font, the hub
connection on the UI thread, and a headless script runner for tests and the demo.

Call `prepare()` before anything imports `kivy.core.window`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


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


Step = Callable[[Any], Any]


def run_script(app: Any, steps: Iterable[tuple[float, Step]], out: str | Path | None = None,
               timeout: float = 60.0) -> None:
    """Run `app` and, on its loop, each step after waiting its delay in seconds; then stop.

    A step gets the app. Tests use it to press buttons, take screenshots with
    `screenshot()` and write `visible_texts()` to `out/texts.json`."""
    from kivy.clock import Clock

    pending = list(steps)
    record: dict[str, list[str]] = {}

    def next_step(_dt: float = 0) -> None:
        if not pending:
            if out is not None:
                Path(out).mkdir(parents=True, exist_ok=True)
                (Path(out) / "texts.json").write_text(
                    json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
            app.stop()
            return
        delay, step = pending.pop(0)

        def run(_dt: float) -> None:
            result = step(app)
            if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str):
                record[result[0]] = result[1]
            next_step()

        Clock.schedule_once(run, delay)

    Clock.schedule_once(next_step, 0.5)
    Clock.schedule_once(lambda _dt: app.stop(), timeout)
    app.run()
