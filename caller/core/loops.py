"""Which asyncio event loop the hall's servers (`hallq hub`, `hallq web`) run on.

uvloop's costs the hub less CPU per ticket and per call, and `hallq web` less per page
update (BENCHMARKS.md); asyncio's own is the fallback where uvloop is not installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable

LOOPS = ("uvloop", "asyncio")
UVLOOP_INSTALLED = importlib.util.find_spec("uvloop") is not None
DEFAULT_LOOP = "uvloop" if UVLOOP_INSTALLED else "asyncio"


def loop_factory(name: str = DEFAULT_LOOP) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop called `name`, for `asyncio.Runner`; None for asyncio's own."""
    if name == "asyncio":
        return None
    import uvloop

    return uvloop.new_event_loop
