"""Drive a headless `hallq display` from another process: script steps go to its stdin
(`--script -`), what it did comes back on stdout. Used by the tests and the voice bench."""

from __future__ import annotations

import json
from pathlib import Path

from caller.core.config import default_config_path
from caller.core.errors import HallqError
from hallq.harness.process import HarnessError, ProcessHarness, hallq_argv

STEP_TIMEOUT_S = 120.0  # a hang guard only: every step ends as soon as the wall gets there
CLOSE_S = 20.0  # after the end of its script the wall stops by itself within this


class WallStepFailed(HallqError, RuntimeError):
    """The wall did not reach a step (it timed out, refused it or stopped)."""


class WallProcess:
    def __init__(self, hub_url: str, out: Path, *extra: str, config: str | None = None,
                 device: str = "wall-1", env: dict | None = None) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.harness = ProcessHarness(
            hallq_argv("display", "--config", config or str(default_config_path()),
                       "--device", device, "--hub", hub_url, "--headless", "--shots", str(out),
                       "--script", "-", *extra),
            out.with_suffix(".log"), follow=True, stdin=True, env=env).start()

    def step(self, name: str, until: dict, *, shot: bool = False, settle: float = 0.0,
             timeout: float = STEP_TIMEOUT_S) -> dict:
        """Ask the wall to wait until `until` holds, to settle, then to take the shot `name`
        (or just report, as mark `name`); return what it recorded."""
        steps = [{"wait": until, "timeout": timeout}] if until else []
        if settle:
            steps.append({"sleep": settle})
        steps.append({"shot" if shot else "mark": name})
        for step in steps:
            if not self.harness.write(json.dumps(step, ensure_ascii=False)):
                raise WallStepFailed(f"the wall stopped before {name}: {self.tail()}")
        try:
            done = self.harness.wait_for(
                lambda line: name in (line.get("shot"), line.get("mark"))
                or "error" in line or "rejected" in line, timeout + settle + 30, what=name)
        except HarnessError as e:
            raise WallStepFailed(str(e)) from None
        if "error" in done or "rejected" in done:
            raise WallStepFailed(f"step {name} failed: {done.get('error') or done.get('rejected')}"
                                 f"\n{self.tail()}")
        return done

    def tail(self) -> str:
        return self.harness.tail()

    def close(self) -> int | None:
        """End its script; it stops by itself (SIGTERM, then SIGKILL, if it does not)."""
        self.harness.close_input()
        code = self.harness.wait(CLOSE_S)
        return code if code is not None else self.harness.stop()
