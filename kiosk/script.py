"""Drive the running kiosk from a script, for tests, the bench and demos (`--script`).

A script is a text file, one step per line (`#` starts a comment):

    wait connected            # wait until the condition holds (30 s at most)
    shot home                 # screenshot SHOTS/home.png + what is on screen, SHOTS/home.json
    tap service:civil         # wait until the widget is shown and enabled, then press it
    wait screen confirm
    tap confirm
    wait printed 1
    sleep 0.5

Conditions: `screen NAME`, `connected`, `offline`, `printed N` (N print jobs finished),
`printer ok|low|out|offline`, `text SUBSTRING` (shown somewhere), `alerted KIND` (the hub
accepted a report_alert of that kind), `enabled ID`, `disabled ID`. Widget ids are the
`kiosk_id`s the screens give their widgets. At the end SHOTS/run.json says whether every
step passed, plus the print timings, the alerts sent and the hub's replies; the app then
stops. Parsing is here (no Kivy); `kiosk.script_runner` runs the steps in the app.
"""

from __future__ import annotations

from caller.core.errors import HallqError

VERBS = ("wait", "tap", "shot", "sleep")


class ScriptError(HallqError, ValueError):
    """A script line that cannot be run."""


def parse_script(source: str) -> list[tuple[str, str]]:
    steps = []
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        verb, _, arg = line.partition(" ")
        if verb not in VERBS:
            raise ScriptError(f"line {number}: unknown step {verb!r}; expected one of "
                              + ", ".join(VERBS))
        steps.append((verb, arg.strip()))
    return steps
