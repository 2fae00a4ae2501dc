"""A terminal device's options from the hall config, checked as `hallq terminal` needs them."""

from __future__ import annotations

from dataclasses import dataclass

from caller.core.config import ConfigError, Device, HallConfig, device_for, device_key
from caller.terminal.shortcuts import parse_shortcuts


@dataclass(frozen=True)
class TerminalOptions:
    windows: tuple[str, ...]  # the windows this terminal may work at, the first by default
    shortcuts: dict[str, str]  # action -> key name, defaults merged in
    ask_case_no: bool = False  # finish asks for the 办件编号 (typed or scanned; may be left empty)


def parse(config: HallConfig, device: Device) -> TerminalOptions:
    """The options of a terminal the loader accepted; ConfigError naming each bad key."""
    shortcuts = parse_shortcuts(device.options.get("shortcuts"), device_key(device.id), config.path)
    ask = device.options.get("ask_case_no", False)
    if not isinstance(ask, bool):
        raise ConfigError(config.path, [f"{device_key(device.id)}.ask_case_no: expected true or "
                                        f"false, got {ask!r}"])
    return TerminalOptions(windows=device.windows, shortcuts=shortcuts, ask_case_no=ask)


def terminal_options(config: HallConfig, device_id: str) -> TerminalOptions:
    return parse(config, device_for(config, device_id, "terminal"))
