"""Open the line the strips hang on: a serial port (RS-485 adapter) or UDP.

:func:`open_line` takes what the hall configuration says:

- a serial device path (``/dev/ttyUSB0``, ``COM3``, a simulator's pty) or any pyserial
  URL (``rfc2217://host:port``, ``socket://host:port``, ``loop://``), opened at
  9600 8N1 unless told otherwise;
- ``udp://host:port`` for network strip controllers: every :meth:`LineTransport.write`
  is sent as one datagram, so write one frame per call.

Writes block until the bytes are handed to the device, so call them from the worker
thread that owns the line, never from an event loop. There is no pacing here:
strips on RS-485 need a quiet gap between frames (and at 9600 baud a frame takes about
1 ms per byte), so the LED bridge decides when to write. A failed write raises
OSError (pyserial's SerialException is one); the owner closes the line and opens it
again later.
"""

from __future__ import annotations

import socket
from typing import Protocol
from urllib.parse import urlsplit

import serial

DEFAULT_BAUDRATE = 9600
# Long enough for the longest frame at 9600 baud; a line that takes longer is stuck.
WRITE_TIMEOUT_S = 5.0


class LineTransport(Protocol):
    """Where frames go. One owner thread calls write; close is safe to call twice."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SerialLine:
    """A serial port or pyserial URL, 8N1."""

    def __init__(self, url: str, baudrate: int = DEFAULT_BAUDRATE) -> None:
        self.url = url
        self._port = serial.serial_for_url(
            url,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            write_timeout=WRITE_TIMEOUT_S,
        )

    def write(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    def close(self) -> None:
        self._port.close()


class UdpLine:
    """Datagrams to one strip controller (or a bridge box) on the network."""

    def __init__(self, host: str, port: int) -> None:
        self.url = f"udp://{host}:{port}"
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        self._address = address
        # Unconnected on purpose: a strip that is switched off must not turn the next
        # write into ConnectionRefusedError (from an ICMP reply to the previous one).
        self._sock = socket.socket(family, socket.SOCK_DGRAM)

    def write(self, data: bytes) -> None:
        self._sock.sendto(data, self._address)

    def close(self) -> None:
        self._sock.close()


def open_line(url: str, baudrate: int = DEFAULT_BAUDRATE) -> SerialLine | UdpLine:
    """Open the line named by ``url`` (see the module docstring)."""
    if url.startswith("udp://"):
        parts = urlsplit(url)
        if not parts.hostname or parts.port is None:
            raise ValueError(f"UDP line must look like udp://host:port, not {url!r}")
        return UdpLine(parts.hostname, parts.port)
    return SerialLine(url, baudrate)
