"""Run a set of programs as child processes; restart the ones that crash and say so.

Used by `hallq demo`. Each program's output goes to its own log file; a program that
exits on its own while the supervisor is running is restarted (up to a limit) unless
it was started as a one-shot job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("hallq.supervisor")


@dataclass
class Program:
    name: str
    argv: list[str]
    restart: bool = True  # False for one-shot jobs (a scripted kiosk run)
    stdin: bool = False  # give it a pipe the supervisor can write to
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    restarts: int = 0
    exit_codes: list[int] = field(default_factory=list)
    finished: bool = False  # exited and will not be restarted


class Supervisor:
    def __init__(self, log_dir: Path, max_restarts: int = 5,
                 on_report: Callable[[str], None] | None = None) -> None:
        self.log_dir = log_dir
        self.max_restarts = max_restarts
        self.programs: dict[str, Program] = {}
        self.on_report = on_report or (lambda line: print(line, flush=True))
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, program: Program) -> Program:
        with self._lock:
            self.programs[program.name] = program
            self._spawn(program)
        if not self._watcher.is_alive():
            self._watcher.start()
        return program

    def _spawn(self, program: Program) -> None:
        logfile = open(self.log_dir / f"{program.name}.log", "a", encoding="utf-8")  # noqa: SIM115
        program.proc = subprocess.Popen(
            program.argv, stdout=logfile, stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if program.stdin else subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **program.env},
            text=True, start_new_session=True)
        logfile.close()

    def write(self, name: str, line: str) -> None:
        """Send a line to a program's standard input."""
        proc = self.programs[name].proc
        if proc and proc.stdin and proc.poll() is None:
            try:
                proc.stdin.write(line.rstrip("\n") + "\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.on_report(f"[{name}] cannot be written to (exited)")

    def retire(self, name: str, timeout: float = 30.0) -> int | None:
        """Let a program finish on purpose: no restart, end of its input, wait for it."""
        with self._lock:
            program = self.programs[name]
            program.restart = False
        proc = program.proc
        if proc and proc.stdin:
            with contextlib.suppress(BrokenPipeError, OSError):
                proc.stdin.close()
        return self.wait(name, timeout)

    def wait(self, name: str, timeout: float | None = None) -> int | None:
        proc = self.programs[name].proc
        try:
            return proc.wait(timeout) if proc else None
        except subprocess.TimeoutExpired:
            return None

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            with self._lock:
                for program in self.programs.values():
                    if program.proc is None or program.finished or self._stopping.is_set():
                        continue
                    code = program.proc.poll()
                    if code is None:
                        continue
                    program.exit_codes.append(code)
                    if not program.restart or program.restarts >= self.max_restarts:
                        program.finished = True
                        if code != 0:
                            gave_up = f"; gave up after {program.restarts} restarts" \
                                if program.restart else ""
                            self.on_report(f"[{program.name}] exited with status {code}{gave_up}")
                        continue
                    program.restarts += 1
                    self.on_report(f"[{program.name}] exited with status {code}; restarting "
                                   f"({program.restarts}/{self.max_restarts}), see "
                                   f"{self.log_dir / (program.name + '.log')}")
                    self._spawn(program)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every program (newest first), then SIGKILL what is left."""
        self._stopping.set()
        with self._lock:
            running = [p for p in reversed(self.programs.values())
                       if p.proc and p.proc.poll() is None]
            for p in running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for p in running:
                try:
                    p.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.on_report(f"[{p.name}] did not stop; killing it")
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.proc.pid, signal.SIGKILL)
                    p.proc.wait(5)


def hallq_argv(*args: str) -> list[str]:
    """The command line that runs `hallq ARGS` with this Python."""
    return [sys.executable, "-m", "hallq", *args]
