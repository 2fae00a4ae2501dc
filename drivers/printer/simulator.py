"""Simulated ESC/POS ticket printers that speak the real bytes.

`NetworkPrinterSimulator` listens like a printer's raw port 9100; `SerialPrinterSimulator`
sits on the far end of a pseudo-terminal. Both answer DLE EOT / GS r with the status bytes
a printer in their paper state sends, cut the stream into jobs at GS V, and decode each
job (text, raster, QR) with the same decoder as the virtual `image://` printer. While the
paper is out, jobs are held, as a printer holds its buffer, and print when paper is back.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import tty
from pathlib import Path

from drivers.closing import Closing
from drivers.printer.decode import EscPosDecoder, PrintedJob, StatusRequest
from drivers.printer.jobs import paper_dots
from drivers.printer.paper import save_job
from drivers.printer.status import PaperState, status_reply


class _SimulatedPrinter(Closing):
    """State shared by every connection, and the one thread that serves them all."""

    def __init__(self, out_dir: str | Path | None, paper_mm: int) -> None:
        self.out_dir = Path(out_dir) if out_dir is not None else None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        self._width = paper_dots(paper_mm)
        self._paper: PaperState = "ok"
        self._jobs: list[PrintedJob] = []
        self._held: list[PrintedJob] = []
        self._received = 0
        self._status_requests = 0
        self._changed = threading.Condition()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)

    # -- what a test or demo sees and sets -------------------------------------------

    def set_paper(self, state: PaperState) -> None:
        """Load paper ("ok"), let it run low ("low") or out ("out")."""
        if state not in ("ok", "low", "out"):
            raise ValueError(f"paper state must be ok, low or out, not {state!r}")
        with self._changed:
            self._paper = state
            if state != "out":
                for job in self._held:
                    self._print(job)
                self._held.clear()

    @property
    def paper(self) -> PaperState:
        return self._paper

    @property
    def jobs(self) -> list[PrintedJob]:
        """Jobs printed so far, oldest first."""
        with self._changed:
            return list(self._jobs)

    @property
    def received_bytes(self) -> int:
        """Bytes of print data received (status requests not counted)."""
        with self._changed:
            return self._received

    @property
    def status_requests(self) -> int:
        with self._changed:
            return self._status_requests

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[PrintedJob]:
        """Block until `count` jobs have printed; TimeoutError names how many did."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._jobs) >= count, timeout):
                raise TimeoutError(f"{len(self._jobs)} of {count} jobs printed in {timeout} s")
            return list(self._jobs)

    def close(self) -> None:
        """Stop the thread and close every connection; a second call does nothing."""
        if self._wake_w.fileno() < 0:
            return
        self._wake_w.send(b"x")
        self._thread.join()
        for key in list(self._selector.get_map().values()):
            self._close_source(key.fileobj)
        self._selector.close()
        self._wake_w.close()


    # -- the printer's side of the wire ----------------------------------------------

    def _receive(self, decoder: EscPosDecoder, data: bytes) -> bytes:
        """Take bytes from the host; return what the printer answers."""
        replies = bytearray()
        with self._changed:
            before = decoder.job_bytes
            for event in decoder.feed(data):
                if isinstance(event, StatusRequest):
                    self._status_requests += 1
                    replies += status_reply(event.command, event.n, self._paper)
                else:
                    self._job_done(event)
            self._received += decoder.job_bytes - before
        return bytes(replies)

    def _job_done(self, job: PrintedJob) -> None:
        if self._paper == "out":
            self._held.append(job)
        else:
            self._print(job)

    def _print(self, job: PrintedJob) -> None:
        if self.out_dir is not None:
            save_job(self.out_dir, job, "job", self._width)
        self._jobs.append(job)
        self._changed.notify_all()

    def _end_of_stream(self, decoder: EscPosDecoder) -> None:
        with self._changed:
            job = decoder.flush()
            if job is not None:
                self._job_done(job)

    # -- the serving thread ----------------------------------------------------------

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.fileobj is self._wake_r:
                    return
                self._ready(key)

    def _ready(self, key: selectors.SelectorKey) -> None:
        """Handle one readable source; each simulator knows its own."""
        raise NotImplementedError

    def _close_source(self, source: object) -> None:
        self._selector.unregister(source)
        if isinstance(source, socket.socket):
            source.close()
        else:
            os.close(source)


class NetworkPrinterSimulator(_SimulatedPrinter):
    """A printer on TCP (port 9100 on a real one; any free loopback port by default)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, out_dir: str | Path | None = None,
        paper_mm: int = 80,
    ) -> None:
        super().__init__(out_dir, paper_mm)
        self._server = socket.create_server((host, port))
        self._server.setblocking(False)
        self.host, self.port = self._server.getsockname()[:2]
        self._selector.register(self._server, selectors.EVENT_READ, None)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def _ready(self, key: selectors.SelectorKey) -> None:
        if key.fileobj is self._server:
            conn, _ = self._server.accept()
            conn.setblocking(True)  # replies are a byte or two; sendall may simply wait
            self._selector.register(conn, selectors.EVENT_READ, EscPosDecoder())
            return
        conn, decoder = key.fileobj, key.data
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._end_of_stream(decoder)
            self._close_source(conn)
            return
        reply = self._receive(decoder, data)
        try:
            conn.sendall(reply)
        except OSError:  # the host hung up before reading its answer
            self._end_of_stream(decoder)
            self._close_source(conn)


class SerialPrinterSimulator(_SimulatedPrinter):
    """A printer on a serial line: the host opens `device` (a pty) like /dev/ttyUSB0."""

    def __init__(self, out_dir: str | Path | None = None, paper_mm: int = 80) -> None:
        super().__init__(out_dir, paper_mm)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation
        self.device = os.ttyname(self._slave)
        self._decoder = EscPosDecoder()
        self._selector.register(self._master, selectors.EVENT_READ, None)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"serial://{self.device}?baudrate=9600"

    def _ready(self, key: selectors.SelectorKey) -> None:
        try:
            data = os.read(self._master, 65536)
        except OSError:  # EIO while no process has the line open
            return
        reply = self._receive(self._decoder, data)
        if reply:
            os.write(self._master, reply)

    def close(self) -> None:
        if self._wake_w.fileno() >= 0:
            super().close()
            os.close(self._slave)


def main(argv: list[str] | None = None) -> int:
    """`hallq sim printer`: a network ESC/POS printer on port 9100 (or any), saving each
    job as .bin and .png; type `ok`, `low` or `out` to change its paper."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="hallq sim printer", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--out", default="out/printer", help="folder for the printed jobs")
    parser.add_argument("--paper-mm", type=int, choices=(58, 80), default=80)
    parser.add_argument("--paper", choices=("ok", "low", "out"), default="ok")
    args = parser.parse_args(argv)
    with NetworkPrinterSimulator(args.host, args.port, args.out, args.paper_mm) as printer:
        printer.set_paper(args.paper)
        print(f"printer at {printer.url}, jobs to {args.out}; type ok, low or out "
              "to change the paper, Ctrl-D to stop", flush=True)
        try:
            for line in sys.stdin:
                state = line.strip()
                if state in ("ok", "low", "out"):
                    printer.set_paper(state)
                    print(f"paper {state}", flush=True)
                elif state:
                    print("type ok, low or out", flush=True)
        except KeyboardInterrupt:
            pass
        print(f"{len(printer.jobs)} jobs printed", flush=True)
    return 0
