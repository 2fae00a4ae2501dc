"""Start a real hub process on loopback for end-to-end tests, and stop it afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config" / "hall.toml"
MONDAY_9AM = "2026-11-23T09:00:00+08:00"


@dataclass
class HubProcess:
    config: Path
    db: Path
    start_time: str | None = MONDAY_9AM
    port: int = 0
    extra: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def start(self) -> HubProcess:
        cmd = [sys.executable, "-m", "hallq", "hub", "--config", str(self.config),
               "--db", str(self.db), "--port", str(self.port), *self.extra]
        if self.start_time:
            cmd += ["--start-time", self.start_time]
        self.log_path = self.db.with_suffix(".log")
        log = open(self.log_path, "a")  # noqa: SIM115 - the process owns it
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                     cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"hub did not start: {self.log_path.read_text()[-2000:]}")
        self.port = json.loads(line)["port"]
        return self

    def kill(self) -> None:
        """SIGKILL: the hub gets no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        return self.proc.returncode if self.proc else None

    def __enter__(self) -> HubProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
