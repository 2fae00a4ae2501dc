"""The one interface every printer transport implements, and the bits they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from urllib.parse import parse_qs, unquote

from drivers.closing import Closing
from drivers.errors import DeviceError
from drivers.printer.status import PrinterStatus


class PrinterUnavailable(DeviceError, OSError):
    """The transport cannot be used here (missing library, other platform, no device)."""


class PrinterBackend(Closing, ABC):
    """A printer reached one way (USB, serial, TCP, ...). Owned by one thread at a time."""

    url: str

    @abstractmethod
    def write(self, data: bytes, job: str = "") -> None:
        """Send `data`; raise OSError if it did not all go. `job` names it (e.g. `A023`)."""

    def status(self) -> PrinterStatus:
        """Ask the printer how it is; transports that cannot ask report `unknown` paper."""
        return PrinterStatus(online=True, paper="unknown")

    @abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""



def url_options(url: str, query: str, allowed: dict[str, type]) -> dict[str, object]:
    """Parse `?name=value` flags; ValueError naming the URL for unknown names or bad values."""
    options: dict[str, object] = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name not in allowed:
            raise ValueError(
                f"printer URL {url!r}: unknown option {name!r}; allowed: {', '.join(allowed)}"
            )
        kind = allowed[name]
        raw = unquote(values[-1])
        try:
            if kind is bool:
                options[name] = raw.lower() in ("1", "true", "yes", "on")
            elif kind is int:
                options[name] = int(raw, 0)
            else:
                options[name] = kind(raw)
        except ValueError:
            raise ValueError(
                f"printer URL {url!r}: option {name}={raw!r} is not a {kind.__name__}"
            ) from None
    return options
