"""A terminal device's options from the hall config, checked as `hallq terminal` needs them."""

from __future__ import annotations

from dataclasses import dataclass

from caller.core.config import Device, HallConfig, device_for, device_key
from caller.terminal.shortcuts import parse_shortcuts


@dataclass(frozen=True)
class TerminalOptions:
    windows: tuple[str, ...]  # the windows this terminal may work at, the first by default
    shortcuts: dict[str, str]  # action -> key name, defaults merged in


def parse(config: HallConfig, device: Device) -> TerminalOptions:
    """The options of a terminal the loader accepted; ConfigError naming each bad shortcut."""
    return TerminalOptions(windows=device.windows, shortcuts=parse_shortcuts(
        device.options.get("shortcuts"), device_key(device.id), config.path))


def terminal_options(config: HallConfig, device_id: str) -> TerminalOptions:
    return parse(config, device_for(config, device_id, "terminal"))
