"""An LED device's options from the hall config, checked as `hallq led` needs them: every
strip address within the protocol's range and the idle text fitting one strip."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from caller.core.config import (
    DEFAULT_BAUDRATE,
    DEFAULT_IDLE_TEXT,
    DEVICE_DEFAULTS,
    ConfigError,
    Device,
    HallConfig,
    device_for,
    device_key,
)
from display.led.rules import STRIP_COLUMNS
from drivers.led import StripText, get_protocol


@dataclass(frozen=True)
class LedSettings:
    """An ``led`` device's options from the hall config."""

    port: str
    strips: Mapping[str, int] = field(default_factory=dict)  # window id -> strip address
    protocol: str = DEVICE_DEFAULTS["led"]["protocol"]
    baudrate: int = DEFAULT_BAUDRATE
    idle_text: str = DEFAULT_IDLE_TEXT

    @classmethod
    def from_device(cls, device: Device) -> LedSettings:
        """Read the options of a device the loader accepted (it filled in the defaults)."""
        options = device.options
        return cls(port=options["port"], strips=dict(options["strips"]),
                   protocol=options["protocol"], baudrate=options["baudrate"],
                   idle_text=options["idle_text"])

    def problems(self) -> list[str]:
        """What stops these settings from working, as ``key: expected`` lines."""
        try:
            protocol = get_protocol(self.protocol)
        except ValueError as e:
            return [f"protocol: {e}"]
        found = []
        for window, address in self.strips.items():
            if not 0 <= address <= protocol.max_address:
                found.append(f"strips.{window}: expected a {self.protocol} address "
                             f"0-{protocol.max_address}, got {address}")
        shown = StripText.plain(self.idle_text).columns
        if shown > STRIP_COLUMNS:
            found.append(f"idle_text: expected at most {STRIP_COLUMNS} columns for one strip "
                         f"(a Chinese character takes 2), got {shown}")
        return found


def parse(config: HallConfig, device: Device) -> LedSettings:
    """The settings of an LED line the loader accepted; ConfigError naming what cannot work."""
    settings = LedSettings.from_device(device)
    if problems := settings.problems():
        raise ConfigError(config.path, [f"{device_key(device.id)}.{p}" for p in problems])
    return settings


def led_settings(config: HallConfig, device_id: str, port: str | None = None) -> LedSettings:
    """The settings of LED device ``device_id``; ``port`` overrides the configured line."""
    settings = parse(config, device_for(config, device_id, "led"))
    return replace(settings, port=port) if port else settings
