"""Which device alert a state change calls for: the one rule every device program follows.

A device program (the kiosk's ID-card reader and scanner, the counter bridge's line and
keypads) reports each part's state as it changes; ``DeviceAlerts.changed(part, up)``
says what to send the hub: ``device_offline`` when a part goes down, ``device_online``
when it comes back after that, and nothing for a part that starts fine or for a repeat.
The program sends the part with the alert (`report_alert part=`): the hub closes the open
fault of that part only when its recovery arrives (docs/protocol.md, report_alert).
"""

from __future__ import annotations

from caller.core.protocol import AlertKind


class DeviceAlerts:
    def __init__(self) -> None:
        self._down: set[str] = set()

    def changed(self, part: str, up: bool) -> AlertKind | None:
        if up:
            if part not in self._down:
                return None
            self._down.discard(part)
            return AlertKind.DEVICE_ONLINE
        if part in self._down:
            return None
        self._down.add(part)
        return AlertKind.DEVICE_OFFLINE

    def down(self, part: str) -> bool:
        return part in self._down
