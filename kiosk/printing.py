"""What the kiosk says about its ticket printer, to the citizen and to the hub, with no I/O.

The printer itself is owned by `drivers.printer.PrinterWorker` on its own thread, which
reports states and error codes; the words for them are the kiosk's (`kiosk.printer.*`).
The app feeds every status and every failed ticket through `PrinterAlerts`, and sends the
`report_alert` requests it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from caller.core.i18n import Translator
from caller.core.protocol import AlertKind
from drivers.printer import PrintError, PrinterStatus
from kiosk.strings import staff_words


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


def describe_status(status: PrinterStatus, t: Translator) -> str:
    """One line for a screen, in `t`'s language, e.g. `打印机缺纸，请更换纸卷`; the driver's
    technical detail (`status.error`) is left to the log."""
    condition = printer_condition(status)
    if condition == "ok" and status.paper != "ok":
        condition = "unknown"  # online, but the printer does not say how its paper is
    return t(f"printer.status_{condition}")


def print_error(error: PrintError | None, t: Translator) -> str:
    """Why a ticket did not print, for the citizen (or the staff), in `t`'s language."""
    return t(f"printer.{error or 'print_failed'}")


@dataclass(frozen=True)
class Alert:
    """The arguments of one `report_alert` request."""

    kind: AlertKind  # PRINTER_FAULT or PRINTER_OK, or a part's DEVICE_OFFLINE / _ONLINE
    message: str
    part: str | None = None  # the reader's or the scanner's (the printer is the kiosk's only)


class PrinterAlerts:
    """Reports each change of condition once: a fault (offline, paper out or low) as
    `printer_fault`, the way back to normal as `printer_ok`. A printer that starts fine
    says nothing."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._reported = "ok"
        self._staff = staff_words()
        self._words = self._staff.scoped("kiosk")

    def status_changed(self, status: PrinterStatus) -> Alert | None:
        condition = printer_condition(status)
        if condition == self._reported:
            return None
        self._reported = condition
        kind = AlertKind.PRINTER_OK if condition == "ok" else AlertKind.PRINTER_FAULT
        return Alert(kind, self._staff("printer_status", device=self.device,
                                       status=describe_status(status, self._words)))

    def print_failed(self, number: str, error: PrintError | None) -> Alert:
        """A ticket did not print: staff must know even if the status looks fine."""
        return Alert(AlertKind.PRINTER_FAULT, self._staff(
            "print_failed", device=self.device, number=number,
            error=print_error(error, self._words)))
