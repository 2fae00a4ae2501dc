"""Run the real kiosk program headless in its own process, on a script (`kiosk.script`).

Kivy allows one app per process, so every scenario is `hallq kiosk --headless --script`; it
writes a screenshot and a JSON description of the screen per `shot` step, reports each on
stdout, and writes `record.json` at the end. Used by the tests and the printing bench."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from caller.core.config import default_config_path
from hallq.harness.process import HarnessError, ProcessHarness, hallq_argv

RUN_S = 90.0  # a hang guard only: a script that works ends long before


class KioskProcess:
    """`hallq kiosk` running `steps` (script lines); `finish()` waits for the script to end."""

    def __init__(self, hub_url: str, shots: Path, steps: Sequence[str], *,
                 size: str = "1920x1080", printer: str = "", config: Path | None = None,
                 device: str = "kiosk-1", extra: Sequence[str] = ()) -> None:
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)
        script = shots.with_name(shots.name + "-script.txt")
        script.write_text("\n".join(steps) + "\n", encoding="utf-8")
        self.harness = ProcessHarness(
            hallq_argv("kiosk", "--config", str(config or default_config_path()),
                       "--device", device, "--hub", hub_url, "--headless", "--size", size,
                       "--printer", printer, "--script", str(script), "--shots", str(shots),
                       *extra),
            shots.with_suffix(".log"), follow=True).start()

    def wait_for_shot(self, name: str, timeout: float = RUN_S) -> dict:
        """Block until the script has taken the shot `name` (the kiosk is still running)."""
        try:
            line = self.harness.wait_for(lambda line: line.get("shot") == name or "error" in line,
                                         timeout, what=f"shot {name!r}")
        except HarnessError as e:
            raise AssertionError(str(e)) from None
        if "error" in line:
            raise AssertionError(f"the kiosk script failed before shot {name!r}: {line['error']}")
        return json.loads((self.shots / f"{name}.json").read_text(encoding="utf-8"))

    def finish(self, timeout: float = RUN_S) -> tuple[int | None, dict]:
        """Wait for the script to end (stop it after `timeout`); its exit status and record."""
        code = self.harness.wait(timeout)
        if code is None:
            code = self.harness.stop()
        path = self.shots / "record.json"
        record = (json.loads(path.read_text(encoding="utf-8")) if path.exists()
                  else {"ok": False, "error": "no record.json", "shots": {}})
        return code, record

    def log(self) -> str:
        return self.harness.tail()

    def stop(self) -> None:
        self.harness.stop()

    def __enter__(self) -> KioskProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
