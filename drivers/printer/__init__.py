"""Printers that take ESC/POS bytes: raster and text jobs, backends by URL, and the worker
thread that owns the printer. What is printed (the kiosk's ticket) is not known here.

    worker = PrinterWorker("tcp://192.0.2.10:9100", on_status=print)
    result = worker.submit(lambda: raster_job(image), job="A023").result()  # PrintResult
"""

from drivers.printer.backends import PrinterBackend, PrinterUnavailable, open_printer
from drivers.printer.jobs import TextJob, paper_dots, raster_job
from drivers.printer.status import PrinterStatus
from drivers.printer.worker import PrintError, PrinterWorker, PrintResult

__all__ = [
    "PrintError",
    "PrintResult",
    "PrinterBackend",
    "PrinterStatus",
    "PrinterUnavailable",
    "PrinterWorker",
    "TextJob",
    "open_printer",
    "paper_dots",
    "raster_job",
]
