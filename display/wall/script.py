"""The wall's part of the shared headless script grammar (docs/scripts.md, `caller.kivyapp`):
headless tests, demos and the voice benchmark. The wall adds no verbs. What `wait` compares
is the wall's `status()`, e.g. `{"wait": {"called_received": 3, "voice.idle": true}}`
(a number means "at least"; a dotted key looks inside). A shot or a mark records
`{"status": …, "texts": …, "timings": […the voice timings]}`.

With the script path "-" the steps are read from stdin one line at a time, so a driving
process can decide the next step from what it saw (`hallq.harness.wall`); the run ends at
end of input. Without a script, `--shots DIR` runs `DEFAULT_SCRIPT`: one screenshot once
connected.
"""

from __future__ import annotations

from queue import Queue

from caller.kivyapp import COMMON_VERBS, ScriptRunner, Step, load_script, queued

VERBS = COMMON_VERBS

DEFAULT_SCRIPT = [Step("wait", {"connected": True}), Step("sleep", 1.5), Step("shot", "wall")]


def load(path: str | None) -> Queue:
    """The steps of `path` ("-": stdin as it comes), or the default script for None."""
    return queued(DEFAULT_SCRIPT) if path is None else load_script(path, VERBS)


class WallScript(ScriptRunner):
    def view(self) -> dict:
        return self.app.status()

    def describe(self) -> dict:
        return {"status": self.app.status(), "texts": self.app.texts(),
                "timings": self.app.voice_timings()}
