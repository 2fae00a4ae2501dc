"""One program of the hall as a child process, for tests, benchmarks and the demo.

`ProcessHarness` starts a command in a session of its own (so it and anything it starts can be
stopped together), sends its standard error (and, unless its lines are followed, its standard
output) to a log file, follows the JSON lines it prints on standard output, waits for the one
that says it is ready, and stops it with SIGTERM, then SIGKILL when it does not end in time.
The hub, wall, kiosk and terminal harnesses and the demo's supervisor are built on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from caller.core.errors import HallqError

STOP_S = 10.0  # how long a program may take to stop after SIGTERM before it gets SIGKILL


class HarnessError(HallqError, RuntimeError):
    """The program did not do what was waited for: it ended first, or the wait timed out."""


def hallq_argv(*args: str, python_args: Sequence[str] = ()) -> list[str]:
    """The command line that runs `hallq ARGS` with this Python (and `python_args` before
    `-m hallq`, e.g. a profiler)."""
    return [sys.executable, *python_args, "-m", "hallq", *args]


class ProcessHarness:
    """`argv` as a child process; `log` receives what it writes that is not followed.

    With `follow=True` its standard output is read line by line: JSON objects are queued for
    `next_line()`/`wait_for()`, anything else goes to the log. With `stdin=True` it gets a pipe
    that `write()` sends lines to. `start()` may be called again once it has stopped."""

    def __init__(self, argv: Sequence[str], log: Path, *, follow: bool = False,
                 stdin: bool = False, env: dict[str, str] | None = None) -> None:
        self.argv = [str(a) for a in argv]
        self.log = log
        self.follow = follow
        self.stdin = stdin
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.ready_line: dict | None = None  # the line `start(ready=...)` waited for
        self._lines: queue.Queue[dict | None] = queue.Queue()
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ starting

    def start(self, ready: Callable[[dict], bool] | None = None,
              timeout: float = 60.0) -> ProcessHarness:
        """Start the program; with `ready`, return only once it printed a line `ready` accepts."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._lines = queue.Queue()
        with open(self.log, "a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(
                self.argv, text=True, encoding="utf-8", errors="replace",
                stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE if self.follow else log, stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                start_new_session=True)
        if self.follow:
            self._reader = threading.Thread(target=self._read, args=(self.proc,),
                                            name=f"harness-{self.proc.pid}", daemon=True)
            self._reader.start()
        if ready is not None:
            self.ready_line = self.wait_for(ready, timeout, what="its ready line")
        return self

    def _read(self, proc: subprocess.Popen) -> None:
        with contextlib.suppress(ValueError, OSError), open(self.log, "a", encoding="utf-8") as log:
            for line in proc.stdout:
                try:
                    parsed = json.loads(line)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    self._lines.put(parsed)
                elif line.strip():
                    log.write(line)
                    log.flush()
        self._lines.put(None)  # end of output

    # ------------------------------------------------------------------ talking to it

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def next_line(self, timeout: float) -> dict | None:
        """The next JSON line it printed; None once its output has ended."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise HarnessError(f"{self.name}: printed nothing for {timeout:.1f} s; "
                               f"{self.tail()}") from None

    def wait_for(self, wanted: Callable[[dict], bool], timeout: float,
                 what: str = "the line waited for") -> dict:
        """Skip lines until one `wanted` accepts; HarnessError if it ends or times out first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.next_line(max(0.0, deadline - time.monotonic()))
            except HarnessError:
                raise HarnessError(f"{self.name}: {what} did not come within {timeout:g} s; "
                                   f"{self.tail()}") from None
            if line is None:
                raise HarnessError(f"{self.name} ended before {what}: {self.tail()}")
            if wanted(line):
                return line

    def write(self, line: str) -> bool:
        """Send a line to its standard input; False when it can no longer read."""
        if not (self.running and self.proc.stdin):
            return False
        try:
            self.proc.stdin.write(line.rstrip("\n") + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def close_input(self) -> None:
        """End of its standard input (a script read from stdin ends there)."""
        if self.proc and self.proc.stdin:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.proc.stdin.close()

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    @property
    def name(self) -> str:
        return Path(self.argv[0]).name + " " + " ".join(self.argv[1:4])

    # ------------------------------------------------------------------ ending

    def wait(self, timeout: float | None = None) -> int | None:
        """Its exit status once it ends, or None if it is still running after `timeout`."""
        if self.proc is None:
            return None
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._release()
        return code

    def terminate(self) -> None:
        """SIGTERM to it and to everything it started."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as in a power cut: no chance to clean up."""
        self._signal(signal.SIGKILL)
        self.wait(STOP_S)

    def finish(self, timeout: float = STOP_S) -> int | None:
        """Wait for it to end after `terminate()`; SIGKILL when it does not in `timeout`."""
        if self.proc is None:
            return None
        code = self.wait(timeout)
        if code is None:
            self.kill()
            code = self.proc.returncode
        self._release()
        return code

    def stop(self, timeout: float = STOP_S) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; its exit status."""
        self.terminate()
        return self.finish(timeout)

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)  # its session's group: its own children too

    def _release(self) -> None:
        """Close the pipes of a program that has ended."""
        if self.proc.poll() is None:
            return
        self.close_input()
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self.proc.stdout:
            with contextlib.suppress(OSError):
                self.proc.stdout.close()

    def __enter__(self) -> ProcessHarness:
        return self if self.proc else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
