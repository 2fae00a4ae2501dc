"""One thread owns the ticket printer; the kiosk hands it tickets and never waits on it."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from drivers.printer.backends import PrinterBackend, check_printer_url, open_printer
from drivers.printer.labels import labels
from drivers.printer.status import PrinterStatus
from drivers.printer.ticket import PrintMode, TicketPrint, paper_dots, ticket_bytes

log = logging.getLogger(__name__)

StatusCallback = Callable[[PrinterStatus], None]
_STOP = object()


@dataclass(frozen=True)
class PrintResult:
    """How one ticket went. `error` is ready for the citizen's screen (Chinese by default)."""

    ok: bool
    bytes_written: int = 0
    error: str | None = None


class PrinterWorker:
    """Prints tickets on its own thread, watches the printer, and reconnects after faults.

    `submit()` returns at once with a Future that always resolves to a PrintResult (it does
    not raise for printer trouble). `on_status` is called from the worker thread whenever
    the printer's status changes, starting with the first status read.
    """

    def __init__(
        self,
        url: str,
        paper_mm: int = 80,
        mode: PrintMode = "raster",
        font_path: str | None = None,
        on_status: StatusCallback | None = None,
        lang: str = "zh",
        poll_interval: float = 3.0,
    ) -> None:
        check_printer_url(url)
        paper_dots(paper_mm)
        if mode not in ("raster", "text"):
            raise ValueError(f"print mode {mode!r} is not supported; use 'raster' or 'text'")
        self.url = url
        self._paper_mm = paper_mm
        self._mode = mode
        self._font_path = font_path
        self._on_status = on_status
        self._text = labels(lang)
        self._lang = lang
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

    def submit(self, ticket: TicketPrint) -> Future[PrintResult]:
        """Queue `ticket` for printing; never blocks."""
        future: Future[PrintResult] = Future()
        if self._closed.is_set():
            future.set_result(PrintResult(ok=False, error=self._text["worker_closed"]))
        else:
            self._queue.put((ticket, future))
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Finish the ticket being printed, answer the queued ones as failed, stop the thread."""
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
            ticket, future = item
            if future.set_running_or_notify_cancel():
                future.set_result(self._print(ticket))
        self._drain_queue()
        self._drop_backend()

    def _drain_queue(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP and item[1].set_running_or_notify_cancel():
                item[1].set_result(PrintResult(ok=False, error=self._text["worker_closed"]))

    def _print(self, ticket: TicketPrint) -> PrintResult:
        try:
            data = ticket_bytes(ticket, self._mode, self._paper_mm, self._font_path, self._lang)
        except Exception:
            log.exception("could not lay out ticket %s", ticket.number)
            return PrintResult(ok=False, error=self._text["print_failed"])
        status = self._check_status()
        if status.paper == "out":
            return PrintResult(ok=False, error=self._text["paper_out"])
        if self._backend is None or not status.online:
            return PrintResult(ok=False, error=self._text["printer_unavailable"])
        try:
            self._backend.write(data, job=ticket.number)
        except Exception as exc:
            log.warning("printing %s on %s failed: %s", ticket.number, self.url, exc)
            self._drop_backend()
            self._report(PrinterStatus(online=False, paper="unknown", error=str(exc)))
            return PrintResult(ok=False, error=self._text["print_failed"])
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
