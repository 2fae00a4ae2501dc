"""Drive a headless `hallq display` from another process: script steps go to its stdin
(`--script -`), what it did comes back on stdout. Used by the tests and the voice bench."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

from caller.core.config import default_config_path
from caller.core.errors import HallqError
from hallq.harness.hub import REPO

STEP_TIMEOUT_S = 120.0  # a hang guard only: every step ends as soon as the wall gets there


class WallStepFailed(HallqError, RuntimeError):
    """The wall did not reach a step (it timed out or stopped)."""


class WallProcess:
    def __init__(self, hub_url: str, out: Path, *extra: str, config: str | None = None,
                 device: str = "wall-1", env: dict | None = None) -> None:
        self.out = out
        cmd = [sys.executable, "-m", "hallq", "display", "--config",
               config or str(default_config_path()), "--device", device, "--hub", hub_url,
               "--headless", "--shots", str(out), "--script", "-", *extra]
        self.log = out.with_suffix(".log")
        out.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log, text=True, cwd=REPO,
                                         env={**os.environ, **(env or {})})
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))
        self.lines.put(None)

    def step(self, name: str, until: dict, **options) -> dict:
        """Ask the wall to wait until `until` holds (then act); return what it recorded."""
        self.proc.stdin.write(json.dumps({"name": name, "until": until, **options},
                                         ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        try:
            done = self.lines.get(timeout=STEP_TIMEOUT_S)
        except queue.Empty:
            raise WallStepFailed(f"no report of step {name}: {self.tail()}") from None
        if done is None:
            raise WallStepFailed(f"the wall stopped before {name}: {self.tail()}")
        if done.get("step") != name or not done.get("ok"):
            raise WallStepFailed(f"step {name} failed: {done}")
        return done

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def close(self) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()  # end of script: the wall exits by itself
        try:
            code = self.proc.wait(20)
        except subprocess.TimeoutExpired:  # still waiting in a step
            self.proc.kill()
            code = self.proc.wait(10)
        self.reader.join(10)
        self.proc.stdout.close()
        return code
