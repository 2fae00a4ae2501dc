"""Run a set of programs as child processes; restart the ones that crash and say so.

Used by `hallq demo`. Each program's output goes to its own log file; a program that
exits on its own while the supervisor is running is restarted (up to a limit) unless
it was started as a one-shot job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hallq.harness.process import ProcessHarness, hallq_argv

__all__ = ["Program", "Supervisor", "hallq_argv"]

log = logging.getLogger("hallq.supervisor")


@dataclass
class Program:
    name: str
    argv: list[str]
    restart: bool = True  # False for one-shot jobs (a scripted kiosk run)
    stdin: bool = False  # give it a pipe the supervisor can write to
    env: dict[str, str] = field(default_factory=dict)
    harness: ProcessHarness | None = None
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
        program.harness = ProcessHarness(program.argv, self.log_dir / f"{program.name}.log",
                                         stdin=program.stdin, env=program.env).start()

    def write(self, name: str, line: str) -> None:
        """Send a line to a program's standard input."""
        harness = self.programs[name].harness
        if harness is not None and not harness.write(line):
            self.on_report(f"[{name}] cannot be written to (exited)")

    def retire(self, name: str, timeout: float = 30.0) -> int | None:
        """Let a program finish on purpose: no restart, end of its input, wait for it."""
        with self._lock:
            program = self.programs[name]
            program.restart = False
        if program.harness is not None:
            program.harness.close_input()
        return self.wait(name, timeout)

    def wait(self, name: str, timeout: float | None = None) -> int | None:
        harness = self.programs[name].harness
        return harness.wait(timeout) if harness is not None else None

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            with self._lock:
                for program in self.programs.values():
                    if program.harness is None or program.finished or self._stopping.is_set():
                        continue
                    code = program.harness.proc.poll()
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
        """SIGTERM every program (newest first), then SIGKILL what is left after `timeout`."""
        self._stopping.set()
        with self._lock:
            running = [p for p in reversed(self.programs.values())
                       if p.harness is not None and p.harness.running]
            for p in running:
                p.harness.terminate()
            deadline = time.monotonic() + timeout
            for p in running:
                if p.harness.wait(max(0.1, deadline - time.monotonic())) is None:
                    self.on_report(f"[{p.name}] did not stop; killing it")
                    p.harness.kill()
