"""drivers.led only re-exports: its modules load in any order, with no cycle between them."""

from __future__ import annotations

import subprocess
import sys

import pytest

import drivers.led as led
from drivers.led import base, bx5, gbk_color, protocols


def test_the_package_hands_out_the_same_objects_as_its_modules() -> None:
    assert led.StripText is base.StripText is bx5.StripText is gbk_color.StripText
    assert led.get_protocol is protocols.get_protocol
    assert led.PROTOCOLS["bx5"].encode is bx5.encode
    assert [name for name in led.__all__ if not hasattr(led, name)] == []


@pytest.mark.parametrize("first", ["drivers.led.bx5", "drivers.led.gbk_color", "drivers.led.protocols"])
def test_a_protocol_module_imported_first_works(first: str) -> None:
    code = (f"import {first}\nfrom drivers.led import get_protocol, StripText\n"
            "frame = get_protocol('gbk-color').encode(1, StripText.plain('请A001号'))\n"
            "print(frame.hex())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("a09001a5")
