"""The terminal's verbs and conditions for the shared headless script grammar (docs/scripts.md,
`caller.kivyapp`): headless tests, demos and screenshots. For example, as a JSON list:

    [{"wait": {"state": "serving", "ticket": "A001"}},
     {"press": "call_next"}, {"key": "F1"}, {"type": "1001"}, {"choose": "service:family"},
     {"shot": "serving"}, {"mark": "name"}]

The terminal's verbs: `press ACTION` (its button; an error if it is disabled), `key NAME`
(a key press as the keyboard sends it: "F1", "enter", "escape", "down", ...), `type TEXT`
(into the open prompt's field), `choose OPTION` (of the open chooser). What `wait` compares:
the keys of WindowModel.summary(), `message`, `popup` (the open popup's name) and `busy`; its
own condition: `message_has TEXT`. A shot records the texts shown, the enabled buttons and
that view in DIR/record.json.
"""

from __future__ import annotations

from typing import Any

from kivy.core.window import Keyboard, Window

from caller.kivyapp import COMMON_VERBS, FRAMES_BEFORE_SHOT, ScriptError, ScriptRunner, visible_texts
from caller.terminal.shortcuts import keycode


class TerminalScript(ScriptRunner):
    VERBS = ("press", "key", "type", "choose")
    CONDITIONS = ("message_has",)

    def view(self) -> dict:
        app = self.app
        return {**app.terminal.model.summary(), "message": app.terminal.message,
                "popup": getattr(app.popup, "name", None), "busy": app.terminal.in_flight > 0}

    def condition(self, name: str, value: Any) -> bool:
        return str(value) in self.app.terminal.message  # message_has

    def describe(self) -> dict:
        return {"texts": visible_texts(Window),
                "enabled": [a for a, b in self.app.bar.buttons.items() if not b.disabled],
                **self.view()}

    def take_shot(self, name: str) -> None:
        self.app.bar.render()
        super().take_shot(name)

    def do_press(self, action: str) -> bool:
        button = self.app.bar.buttons.get(action)
        if button is None:
            raise ScriptError(f"no {action!r} button; buttons: {', '.join(self.app.bar.buttons)}")
        if button.disabled:
            raise ScriptError(f"the {action} button is disabled ({self.app.terminal.model.summary()})")
        button.trigger_action(0)
        return True

    def do_key(self, name: str) -> bool:
        code = Keyboard.keycodes.get(name.lower()) or keycode(name)
        if code is None:
            raise ScriptError(f"unknown key {name!r}")
        Window.dispatch("on_key_down", code, 0, None, [])
        Window.dispatch("on_key_up", code, 0)
        return True

    def do_type(self, text: str) -> bool:
        popup = self.app.popup
        if popup is None or not hasattr(popup, "field"):
            raise ScriptError("no prompt is open")
        if self.frames_since_step < FRAMES_BEFORE_SHOT:  # the field takes text once laid out
            return False
        for char in text:  # as the keyboard delivers it, to the focused field
            Window.dispatch("on_textinput", char)
        if not popup.field.text.endswith(text):
            raise ScriptError(f"typed {text!r} but the field shows {popup.field.text!r}")
        return True

    def do_choose(self, option: str) -> bool:
        popup = self.app.popup
        if popup is None or not hasattr(popup, "values"):
            raise ScriptError("no chooser is open")
        if option not in popup.values:
            raise ScriptError(f"{option!r} is not offered; offered: {popup.values}")
        popup.choose(option)
        return True


VERBS = COMMON_VERBS + TerminalScript.VERBS
