"""The LED strip protocols by the name the hall configuration uses."""

from __future__ import annotations

from drivers.led import bx5, gbk_color
from drivers.led.base import LedProtocol

PROTOCOLS: dict[str, LedProtocol] = {
    proto.name: proto
    for proto in (
        LedProtocol("gbk-color", gbk_color.encode, gbk_color.Decoder, gbk_color.MAX_ADDRESS),
        LedProtocol("bx5", bx5.encode, bx5.Decoder, bx5.MAX_ADDRESS),
    )
}


def get_protocol(name: str) -> LedProtocol:
    """The protocol called ``name`` in the configuration; ValueError names the valid ones."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        valid = ", ".join(sorted(PROTOCOLS))
        raise ValueError(f"unknown LED strip protocol {name!r}; valid: {valid}") from None
