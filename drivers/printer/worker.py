"""One thread owns the printer; callers hand it jobs and never wait on it."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal

from drivers.printer.backends import PrinterBackend, check_printer_url, open_printer
from drivers.printer.status import PrinterStatus

log = logging.getLogger(__name__)

StatusCallback = Callable[[PrinterStatus], None]
Render = Callable[[], bytes]
# Why a job did not print; the caller words it for people.
PrintError = Literal["paper_out", "printer_unavailable", "print_failed", "worker_closed"]
_STOP = object()


@dataclass(frozen=True)
class PrintResult:
    """How one job went: `error` says why it did not print."""

    ok: bool
    bytes_written: int = 0
    error: PrintError | None = None


class PrinterWorker:
    """Prints jobs on its own thread, watches the printer, and reconnects after faults.

    `submit()` returns at once with a Future that always resolves to a PrintResult (it does
    not raise for printer trouble). A job is a function returning its bytes, called on the
    worker thread, so laying a ticket out never holds up the caller. `on_status` is called
    from the worker thread whenever the printer's status changes, starting with the first status read.
    """

    def __init__(
        self,
        url: str,
        on_status: StatusCallback | None = None,
        poll_interval: float = 3.0,
    ) -> None:
        check_printer_url(url)
        self.url = url
        self._on_status = on_status
        self._poll_interval = poll_interval
        self._backend: PrinterBackend | None = None
        self._status: PrinterStatus | None = None
        self._queue: queue.Queue[object] = queue.Queue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"printer {url}", daemon=True)
        self._thread.start()

    @property
    def status(self) -> PrinterStatus | None:
        """The last status read (None before the first one)."""
        return self._status

    def submit(self, render: Render, job: str = "") -> Future[PrintResult]:
        """Queue the job `render()` makes for printing; never blocks. `job` names it (`A023`)."""
        future: Future[PrintResult] = Future()
        if self._closed.is_set():
            future.set_result(PrintResult(ok=False, error="worker_closed"))
        else:
            self._queue.put((render, job, future))
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Finish the job being printed, answer the queued ones as failed, stop the thread."""
        self._closed.set()
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def __enter__(self) -> PrinterWorker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the worker thread -----------------------------------------------------------

    def _run(self) -> None:
        self._check_status()
        while True:
            try:
                item = self._queue.get(timeout=self._poll_interval)
            except queue.Empty:
                self._check_status()
                continue
            if item is _STOP:
                break
            render, job, future = item
            if future.set_running_or_notify_cancel():
                future.set_result(self._print(render, job))
        self._drain_queue()
        self._drop_backend()

    def _drain_queue(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and item[2].set_running_or_notify_cancel():
                item[2].set_result(PrintResult(ok=False, error="worker_closed"))

    def _print(self, render: Render, job: str) -> PrintResult:
        try:
            data = render()
        except Exception:
            log.exception("could not make print job %s", job)
            return PrintResult(ok=False, error="print_failed")
        status = self._check_status()
        if status.paper == "out":
            return PrintResult(ok=False, error="paper_out")
        if self._backend is None or not status.online:
            return PrintResult(ok=False, error="printer_unavailable")
        try:
            self._backend.write(data, job=job)
        except Exception as exc:
            log.warning("printing %s on %s failed: %s", job, self.url, exc)
            self._drop_backend()
            self._report(PrinterStatus(online=False, paper="unknown", error=str(exc)))
            return PrintResult(ok=False, error="print_failed")
        return PrintResult(ok=True, bytes_written=len(data))

    def _check_status(self) -> PrinterStatus:
        """Open the printer if needed and read its status; any fault reads as offline."""
        try:
            if self._backend is None:
                self._backend = open_printer(self.url)
            status = self._backend.status()
        except Exception as exc:  # a device that fails must not stop the worker
            self._drop_backend()
            status = PrinterStatus(online=False, paper="unknown", error=str(exc))
        self._report(status)
        return status

    def _report(self, status: PrinterStatus) -> None:
        if status == self._status:
            return
        self._status = status
        if self._on_status is None:
            return
        try:
            self._on_status(status)
        except Exception:
            log.exception("printer status callback failed")

    def _drop_backend(self) -> None:
        if self._backend is None:
            return
        backend, self._backend = self._backend, None
        try:
            backend.close()
        except Exception as exc:
            log.debug("closing %s: %s", self.url, exc)
