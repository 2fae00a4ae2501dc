"""Thermal ticket printing: the ticket's layout and bytes, printer backends by URL, and
the worker thread that owns the printer.

    worker = PrinterWorker("tcp://192.0.2.10:9100", paper_mm=80, on_status=print)
    result = worker.submit(TicketPrint(...)).result()   # PrintResult(ok=..., error=...)
"""

from drivers.printer.backends import PrinterBackend, PrinterUnavailable, open_printer
from drivers.printer.status import PrinterStatus, describe_status
from drivers.printer.ticket import TicketPrint, render_raster, ticket_bytes
from drivers.printer.worker import PrinterWorker, PrintResult

__all__ = [
    "PrintResult",
    "PrinterBackend",
    "PrinterStatus",
    "PrinterUnavailable",
    "PrinterWorker",
    "TicketPrint",
    "describe_status",
    "open_printer",
    "render_raster",
    "ticket_bytes",
]
