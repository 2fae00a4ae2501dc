"""Start a real hub as a child process on loopback, and stop it: for tests, benchmarks
and tools that need a hall running beside them."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hallq.harness.process import ProcessHarness, hallq_argv

__all__ = ["HubProcess"]


@dataclass
class HubProcess:
    config: Path
    db: Path
    start_time: str | None = None  # a hall clock starting at this ISO time
    port: int = 0  # 0: a free port (kept across restarts once known)
    extra: list[str] = field(default_factory=list)
    python_args: list[str] = field(default_factory=list)  # before `-m hallq`, e.g. a profiler
    harness: ProcessHarness | None = None
    ready_s: float = 0.0  # from spawning to the hub saying it listens

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def log_path(self) -> Path:
        return self.db.with_suffix(".log")

    @property
    def proc(self) -> subprocess.Popen | None:
        return self.harness.proc if self.harness is not None else None

    def start(self) -> HubProcess:
        """Start it (again: on the same port) and wait until it says it listens."""
        argv = hallq_argv("hub", "--config", str(self.config), "--db", str(self.db),
                          "--port", str(self.port), *self.extra, python_args=self.python_args)
        if self.start_time:
            argv += ["--start-time", self.start_time]
        self.harness = ProcessHarness(argv, self.log_path, follow=True)
        started = time.perf_counter()
        self.harness.start(ready=lambda line: "port" in line, timeout=30)
        self.ready_s = time.perf_counter() - started
        self.port = self.harness.ready_line["port"]
        return self

    def rss_mb(self) -> float:
        """Resident memory of the hub process (Linux)."""
        for line in Path(f"/proc/{self.harness.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def kill(self) -> None:
        """SIGKILL: the hub gets no chance to clean up."""
        if self.harness is not None:
            self.harness.kill()

    def stop(self) -> int | None:
        """SIGTERM (the hub closes its clients and the database), SIGKILL if it hangs."""
        return self.harness.stop() if self.harness is not None else None

    def __enter__(self) -> HubProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
