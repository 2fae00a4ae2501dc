"""Start a real `hallq web` as a child process on loopback, with accounts made by its own
`user add` command: for tests, benchmarks and the demo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


def add_user(db: Path, name: str, role: str, password: str) -> None:
    """`hallq web user add`, the password on stdin; raise with its message if refused."""
    done = subprocess.run([sys.executable, "-m", "hallq", "web", "user", "add", name, "--role", role,
                           "--db", str(db)], input=password + "\n", capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"user add {name}: {done.stderr.strip()}")


@dataclass
class WebProcess:
    config: Path
    db: Path
    hub_url: str
    device: str = "web-1"
    port: int = 0
    extra: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> WebProcess:
        cmd = [sys.executable, "-m", "hallq", "web", "--config", str(self.config), "--device",
               self.device, "--hub", self.hub_url, "--db", str(self.db), "--port", str(self.port),
               *self.extra]
        self.log_path = self.db.with_name(self.db.stem + "-web.log")
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise RuntimeError(f"hallq web did not start: {self.log_path.read_text()[-2000:]}")
        self.port = json.loads(line)["port"]
        return self

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

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

    def __enter__(self) -> WebProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def publishing_config(config: Path, folder: Path, public_url: str) -> Path:
    """A copy of `config` in `folder` that publishes ticket pages at `public_url`, with a
    fresh hall secret (mode 0600) beside it: for tests, the bench and the demo."""
    from caller.core.personal import new_secret

    secret = folder / "hall.secret"
    secret.unlink(missing_ok=True)
    new_secret(secret)
    text = config.read_text(encoding="utf-8")
    path = folder / "hall.toml"
    path.write_text(text + f'\n[personal]\nsecret_file = "{secret.name}"\n', encoding="utf-8")
    return publish_pages(path, public_url)


def publish_pages(config: Path, public_url: str) -> Path:
    """Add `[web] public_url` to a config that has a hall secret already; the same path."""
    with config.open("a", encoding="utf-8") as out:
        out.write(f'\n[web]\npublic_url = "{public_url}"\n')
    return config


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
