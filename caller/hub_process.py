"""Start a real hub as a child process on loopback, and stop it: for tests, benchmarks
and tools that need a hall running beside them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class HubProcess:
    config: Path
    db: Path
    start_time: str | None = None  # a hall clock starting at this ISO time
    port: int = 0  # 0: a free port (kept across restarts once known)
    extra: list[str] = field(default_factory=list)
    python_args: list[str] = field(default_factory=list)  # before `-m hallq`, e.g. a profiler
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    ready_s: float = 0.0  # from spawning to the hub saying it listens

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def start(self) -> HubProcess:
        cmd = [sys.executable, *self.python_args, "-m", "hallq", "hub", "--config", str(self.config),
               "--db", str(self.db), "--port", str(self.port), *self.extra]
        if self.start_time:
            cmd += ["--start-time", self.start_time]
        self.log_path = self.db.with_suffix(".log")
        started = time.perf_counter()
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                         cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline()
        self.ready_s = time.perf_counter() - started
        if not line:
            raise RuntimeError(f"hub did not start: {self.log_path.read_text()[-2000:]}")
        self.port = json.loads(line)["port"]
        return self

    def rss_mb(self) -> float:
        """Resident memory of the hub process (Linux)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

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
