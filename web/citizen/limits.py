"""Rate limits of the public routes: one sliding window per bucket, keyed by the caller's
address (or, for a booking, by a phone number too)."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request

from web.security import Throttle

# bucket -> (requests, per seconds). A phone polls its ticket page once in a while and
# keeps one event stream open; a scanner of codes makes many different requests.
DEFAULT_BUCKETS: dict[str, tuple[int, float]] = {
    "page": (60, 60.0),  # public pages of any kind, per address
    "stream": (30, 60.0),  # event streams opened, per address
    "miss": (20, 300.0),  # codes that find no ticket, per address: guessing is futile and slow
}


class PublicLimits:
    """`allow(bucket, key)`: one more request of that kind from that key, within its limit?"""

    def __init__(self, buckets: dict[str, tuple[int, float]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._throttles = {name: Throttle(limit, window, clock)
                           for name, (limit, window) in {**DEFAULT_BUCKETS, **(buckets or {})}.items()}

    def allow(self, bucket: str, key: str) -> bool:
        return self._throttles[bucket].allow(key)

    def blocked(self, bucket: str, key: str) -> bool:
        """Over the limit already, without counting this look as a request."""
        return self._throttles[bucket].full(key)

    def retry_after(self, bucket: str) -> int:
        return int(self._throttles[bucket].window_s)


def address(request: Request) -> str:
    """The caller's address (uvicorn puts the proxy's X-Forwarded-For there when the proxy
    is trusted: `--forwarded-allow-ips`, docs/deployment.md)."""
    return request.client.host if request.client else "-"
