"""Run the real kiosk program headless in its own process, driven by a script.

Kivy allows one app per process, so every scenario is `hallq kiosk --headless --script`;
the program writes a screenshot and a JSON description of the screen per `shot` step and
`run.json` at the end, which the tests read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.hubproc import DEMO_CONFIG, REPO

LANDSCAPE, PORTRAIT, TABLET = "1920x1080", "1080x1920", "1280x800"
WAIT_S = 90  # only a bound for a broken build; never reached when things work


def config_with(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the demo hall with one line of the kiosk's options changed."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in the demo config once"
    path = tmp_path / "hall.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@dataclass
class KioskRun:
    shots: Path
    returncode: int
    stderr: str

    def shot(self, name: str) -> dict:
        return json.loads((self.shots / f"{name}.json").read_text(encoding="utf-8"))

    @property
    def run(self) -> dict:
        return json.loads((self.shots / "run.json").read_text(encoding="utf-8"))


class KioskProcess:
    """`hallq kiosk` in a subprocess; `finish()` waits for its script to end."""

    def __init__(self, tmp_path: Path, hub_url: str, steps: list[str], *, size: str = LANDSCAPE,
                 printer: str = "", config: Path = DEMO_CONFIG, extra: tuple[str, ...] = ()) -> None:
        self.shots = tmp_path / f"shots-{size}"
        script = tmp_path / f"script-{size}.txt"
        script.write_text("\n".join(steps) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "hallq", "kiosk", "--config", str(config),
                   "--device", "kiosk-1", "--hub", hub_url, "--headless", "--size", size,
                   "--printer", printer, "--script", str(script), "--shots", str(self.shots),
                   *extra]
        self._stderr = tmp_path / f"kiosk-{size}.log"
        with open(self._stderr, "w") as log:
            self.proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def wait_for_shot(self, name: str) -> dict:
        """Block until the script has taken the shot `name` (the kiosk is still running)."""
        path = self.shots / f"{name}.json"
        deadline = time.monotonic() + WAIT_S
        while not path.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"kiosk ended before shot {name!r}: {self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no shot {name!r}: {self.log()}")
            time.sleep(0.05)
        return json.loads(path.read_text(encoding="utf-8"))

    def log(self) -> str:
        return self._stderr.read_text(encoding="utf-8", errors="replace")[-3000:]

    def finish(self) -> KioskRun:
        try:
            code = self.proc.wait(WAIT_S)
        finally:
            self.kill()
        run = KioskRun(self.shots, code, self.log())
        assert code == 0, f"kiosk script failed ({code}): {run.stderr}"
        return run

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> KioskProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def run_kiosk(tmp_path: Path, hub_url: str, steps: list[str], **kwargs: object) -> KioskRun:
    with KioskProcess(tmp_path, hub_url, steps, **kwargs) as kiosk:
        return kiosk.finish()


def widget(shot: dict, kiosk_id: str) -> dict:
    found = shot["widgets"].get(kiosk_id)
    assert found is not None, f"no widget {kiosk_id!r} on screen {shot['screen']!r}"
    return found


def shown(shot: dict, kiosk_id: str) -> bool:
    found = shot["widgets"].get(kiosk_id)
    return bool(found and found["shown"])
