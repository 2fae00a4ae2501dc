"""Runs a `kiosk.script` inside the running app, on Kivy's clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kivy.core.window import Window

from caller.kivyapp import ScriptRunner, visible_texts
from kiosk.printing import printer_condition
from kiosk.script import APP_VERBS, CONDITIONS


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


class KioskScript(ScriptRunner):
    VERBS = APP_VERBS
    CONDITIONS = CONDITIONS

    def view(self) -> dict:
        app = self.app
        return {
            "screen": app.manager.current,
            "connected": app.state.can_issue,
            "connection": app.state.connection,
            "printed": app.printed_count,
            "printer": (printer_condition(app.printer_status)
                        if app.printer and app.printer_status is not None else None),
            "lang": app.lang,
        }

    def condition(self, name: str, value: Any) -> bool:
        app = self.app
        if name == "offline":
            return (app.state.connection == "offline") == bool(value)
        if name == "text":
            return any(str(value) in shown for shown in visible_texts(app.root))
        if name == "alerted":
            return any(a["kind"] == value and a["ok"] for a in app.alerts_sent)
        widget = find(app.root, str(value))  # enabled / disabled
        return widget is not None and widget.disabled == (name == "disabled")

    def describe(self) -> dict:
        """What a person would see now, as data: screen, texts, and the named widgets."""
        widgets = {}
        for widget, shown in tagged_widgets(self.app.root):
            entry = {"shown": shown, "disabled": bool(widget.disabled)}
            if isinstance(getattr(widget, "text", None), str):
                entry["text"] = widget.text
            if hasattr(widget, "qr_data"):
                entry["qr_data"] = widget.qr_data
            entry["size"] = [round(widget.width), round(widget.height)]
            widgets[widget.kiosk_id] = entry
        return {**self.view(), "window": list(Window.size),
                "texts": visible_texts(self.app.root), "widgets": widgets}

    def result(self) -> dict:
        app = self.app
        return {"timings": list(app.timings), "alerts": list(app.alerts_sent),
                "replies": list(app.replies)}

    def do_keys(self, text: str) -> bool:
        """Type ``text`` and Enter through the window's key events, all in one burst."""
        for char in text:
            Window.dispatch("on_key_down", ord(char), 0, char, [])
        Window.dispatch("on_key_down", 13, 40, None, [])
        return True

    def do_tap(self, kiosk_id: str) -> bool:
        """Press the widget once it is shown and enabled."""
        widget = find(self.app.root, kiosk_id)
        if widget is None or widget.disabled:
            return False
        self.app.touched()
        widget.trigger_action(0)
        return True
