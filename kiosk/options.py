"""A kiosk device's options from the hall config, checked as `hallq kiosk` needs them."""

from __future__ import annotations

from dataclasses import dataclass

from caller.core.config import ConfigError, Device, HallConfig, device_for, device_key


@dataclass(frozen=True)
class KioskOptions:
    printer: str  # "" for none
    paper_mm: int
    print_mode: str  # "raster" | "text"
    priority_entry: bool
    idcard: str = ""  # serial port or service URL of the ID-card reader, "" for none
    idcard_backend: str = "serial"  # caller.core.config.READER_BACKENDS
    idcard_baudrate: int = 115200
    scanner: str = ""  # serial port of the code scanner, "" for none
    scanner_baudrate: int = 9600


def parse(config: HallConfig, device: Device) -> KioskOptions:
    """The options of a kiosk the loader accepted; ConfigError when its printer URL cannot work."""
    # Imported here: drivers.printer loads python-escpos, a second's work a check needs not.
    from drivers.printer.backends import check_printer_url

    options = device.options
    try:
        if options["printer"]:
            check_printer_url(options["printer"])
    except ValueError as e:
        raise ConfigError(config.path, [f"{device_key(device.id)}.printer: {e}"]) from None
    return KioskOptions(printer=options["printer"], paper_mm=options["paper_mm"],
                        print_mode=options["print_mode"], priority_entry=options["priority_entry"],
                        idcard=options["idcard"], idcard_backend=options["idcard_backend"],
                        idcard_baudrate=options["idcard_baudrate"],
                        scanner=options["scanner"], scanner_baudrate=options["scanner_baudrate"])


def kiosk_options(config: HallConfig, device_id: str) -> KioskOptions:
    return parse(config, device_for(config, device_id, "kiosk"))
