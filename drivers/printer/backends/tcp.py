"""`tcp://HOST:9100`: a network printer on its raw port (JetDirect / AppSocket)."""

from __future__ import annotations

import socket
from urllib.parse import SplitResult

from drivers.printer.backends.base import PrinterBackend, url_options
from drivers.printer.status import PrinterStatus, read_status

DEFAULT_PORT = 9100


class TcpBackend(PrinterBackend):
    def __init__(
        self, host: str, port: int = DEFAULT_PORT, timeout: float = 10.0,
        status_timeout: float = 0.5,
    ) -> None:
        self.url = f"tcp://{host}:{port}"
        self._timeout = timeout
        self._status_timeout = status_timeout
        self._sock = socket.create_connection((host, port), timeout=timeout)

    def write(self, data: bytes, job: str = "") -> None:
        self._sock.settimeout(self._timeout)
        self._sock.sendall(data)

    def status(self) -> PrinterStatus:
        return read_status(self._exchange)

    def _exchange(self, request: bytes) -> int | None:
        self._discard_stale_answers()
        self._sock.settimeout(self._timeout)
        self._sock.sendall(request)
        self._sock.settimeout(self._status_timeout)
        try:
            answer = self._sock.recv(1)
        except TimeoutError:
            return None
        if not answer:
            raise ConnectionError(f"{self.url} closed the connection")
        return answer[0]

    def _discard_stale_answers(self) -> None:
        """Drop bytes left from an earlier request that was answered after its timeout."""
        self._sock.setblocking(False)
        try:
            while True:
                if not self._sock.recv(256):
                    raise ConnectionError(f"{self.url} closed the connection")
        except BlockingIOError:
            pass

    def close(self) -> None:
        self._sock.close()


def open_url(url: str, parts: SplitResult) -> TcpBackend:
    if not parts.hostname:
        raise ValueError(f"printer URL {url!r} names no host; write tcp://HOST:9100")
    options = url_options(url, parts.query, {"timeout": float})
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"printer URL {url!r} has a bad port") from None
    return TcpBackend(parts.hostname, port, **options)
