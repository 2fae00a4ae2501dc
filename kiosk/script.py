"""The kiosk's verbs and conditions for the shared headless script grammar (docs/scripts.md,
`caller.kivyapp`), for tests, the bench and demos (`--script`). For example:

    wait connected            # wait until the condition holds (60 s at most)
    shot home                 # SHOTS/home.png, and what is on screen in SHOTS/home.json
    tap service:civil         # wait until the widget is shown and enabled, then press it
    wait screen confirm
    tap confirm
    wait printed 1            # a number means "at least"
    sleep 0.5

The kiosk's verbs: `tap ID` (widget ids are the `kiosk_id`s the screens give their widgets);
`keys TEXT` types TEXT and Enter as one fast burst, as a keyboard-wedge scanner or a
keyboard-output ID-card reader does.
What `wait` compares: `screen`, `connected` (a number can be taken), `connection`, `printed`
(print jobs finished), `printer` (ok|low|out|offline), `lang`; and its own conditions:
`offline`, `text SUBSTRING` (shown somewhere), `alerted KIND` (the hub accepted a
report_alert of that kind), `enabled ID`, `disabled ID`. SHOTS/record.json also holds the
print timings, the alerts sent and the hub's replies. Parsing needs no Kivy;
`kiosk.script_runner` runs the steps in the app.
"""

from __future__ import annotations

from pathlib import Path
from queue import Queue

from caller.kivyapp import COMMON_VERBS, ScriptError, Step, load_script, parse_script

APP_VERBS = ("tap", "keys")
CONDITIONS = ("offline", "text", "alerted", "enabled", "disabled")
VERBS = COMMON_VERBS + APP_VERBS

__all__ = ["APP_VERBS", "CONDITIONS", "VERBS", "ScriptError", "load", "parse"]


def parse(source: str) -> list[Step]:
    """A kiosk script's steps; ScriptError names the line that is wrong."""
    return parse_script(source, VERBS)


def load(path: str | Path) -> Queue:
    return load_script(path, VERBS)
