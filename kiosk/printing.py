"""What the kiosk tells the hub about its ticket printer, decided with no I/O.

The printer itself is owned by `drivers.printer.PrinterWorker` on its own thread; the
app feeds every status it reports and every failed ticket through `PrinterAlerts`, and
sends the `report_alert` requests it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from caller.core.protocol import AlertKind
from drivers.printer import PrinterStatus, describe_status
from kiosk.strings import STAFF


def printer_condition(status: PrinterStatus | None) -> str:
    """One word for the corner of the screen and for deciding what to report."""
    if status is None:
        return "unknown"
    if status.paper == "out":
        return "out"
    if not status.online:
        return "offline"
    if status.paper == "low":
        return "low"
    return "ok"  # online; paper "ok" or not reported (many printers never answer)


@dataclass(frozen=True)
class Alert:
    """The arguments of one `report_alert` request."""

    kind: AlertKind  # PRINTER_FAULT or PRINTER_OK
    message: str


class PrinterAlerts:
    """Reports each change of condition once: a fault (offline, paper out or low) as
    `printer_fault`, the way back to normal as `printer_ok`. A printer that starts fine
    says nothing."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._reported = "ok"

    def status_changed(self, status: PrinterStatus) -> Alert | None:
        condition = printer_condition(status)
        if condition == self._reported:
            return None
        self._reported = condition
        kind = AlertKind.PRINTER_OK if condition == "ok" else AlertKind.PRINTER_FAULT
        plain = replace(status, error=None)  # the driver's detail is English, for the log
        return Alert(kind, STAFF["printer_status"].format(device=self.device,
                                                          status=describe_status(plain)))

    def print_failed(self, number: str, error: str) -> Alert:
        """A ticket did not print: staff must know even if the status looks fine."""
        return Alert(AlertKind.PRINTER_FAULT, STAFF["print_failed"].format(
            device=self.device, number=number, error=error))
