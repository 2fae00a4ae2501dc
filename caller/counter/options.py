"""A counter device's options from the hall config, checked as `hallq counter` needs them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from caller.core.config import ConfigError, Device, HallConfig, device_for, device_key
from drivers.bus.models import EvaluatorModel, KeypadModel, evaluator_model, keypad_model


@dataclass(frozen=True)
class CounterOptions:
    """One RS-485 line of keypads (and evaluators) as the config describes it."""

    windows: tuple[str, ...]
    port: str
    baudrate: int
    addresses: Mapping[str, int]  # window id -> bus address of its keypad (and evaluator)
    keypad: KeypadModel
    evaluator: EvaluatorModel | None  # None: no evaluators on this line


def parse(config: HallConfig, device: Device) -> CounterOptions:
    """The options of a counter the loader accepted; ConfigError naming an unknown model."""
    options = device.options
    key = device_key(device.id)
    problems = []
    keypad = evaluator = None
    try:
        if not isinstance(options["keypad"], str):
            raise ValueError(f"expected the name of a keypad model, got {options['keypad']!r}")
        keypad = keypad_model(options["keypad"])
    except ValueError as e:
        problems.append(f"{key}.keypad: {e}")
    try:
        evaluator = evaluator_model(options["evaluator"]) if options["evaluator"] else None
    except ValueError as e:
        problems.append(f"{key}.evaluator: {e}")
    if problems or keypad is None:
        raise ConfigError(config.path, problems)
    return CounterOptions(windows=device.windows, port=options["port"],
                          baudrate=options["baudrate"],
                          addresses={w: options["addresses"][w] for w in device.windows},
                          keypad=keypad, evaluator=evaluator)


def counter_options(config: HallConfig, device_id: str) -> CounterOptions:
    return parse(config, device_for(config, device_id, "counter"))
