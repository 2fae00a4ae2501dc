"""LED strip screens: the one-line dot-matrix strip above each window.

Many strips share one RS-485 line (or a UDP port); each frame carries the strip's
address. Two wire protocols are supported, one module each, both sans-I/O:

- ``gbk-color`` (:mod:`drivers.led.gbk_color`): per-character colour, addresses 0-255.
- ``bx5`` (:mod:`drivers.led.bx5`): Onbon BX-5/6 controllers, dynamic area, addresses
  0-0xFFFF.

What a strip shows is a :class:`StripText` (:mod:`drivers.led.base`, with the GBK
character codec both formats share). Every protocol offers
``encode(address, content) -> bytes`` and a streaming ``Decoder`` whose
``feed(data) -> list[(address, StripText)]`` resynchronises after garbage (the
simulator uses it). Neither wire format can make a strip flash by itself: the caller
(the LED bridge) flashes a strip by alternating writes; encoders accept the effect
and ignore it, decoders always report ``"steady"``.

Pick a protocol by the name used in the hall configuration
(:mod:`drivers.led.protocols`); this package only re-exports::

    >>> proto = get_protocol("gbk-color")
    >>> frame = proto.encode(1, StripText.plain("请A001号办理"))
"""

from drivers.led.base import (
    COLOURS,
    EFFECTS,
    Colour,
    Effect,
    LedProtocol,
    StreamDecoder,
    StripText,
    char_columns,
    gbk_char,
    read_gbk_char,
)
from drivers.led.protocols import PROTOCOLS, get_protocol

__all__ = [
    "COLOURS",
    "EFFECTS",
    "PROTOCOLS",
    "Colour",
    "Effect",
    "LedProtocol",
    "StreamDecoder",
    "StripText",
    "char_columns",
    "gbk_char",
    "get_protocol",
    "read_gbk_char",
]
