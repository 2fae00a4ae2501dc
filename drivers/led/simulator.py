"""Simulated LED strips: a line of strips that reads the real frames.

:class:`LedLineSimulator` stands in for an RS-485 line: it opens a pseudo-terminal
pair and reads whatever is written to its :attr:`~LedLineSimulator.port` (give that
path, or the stable ``link``, to the LED bridge as its serial port).
:class:`LedUdpSimulator` listens for datagrams instead. Both decode every frame with
the configured protocol, keep what each strip shows and the history of writes, and
draw a strip as a PNG that looks like the dot-matrix original.

From a shell (``hallq sim led`` runs :func:`main`)::

    $ hallq sim led --protocol gbk-color --link /tmp/hallq-led --png-dir /tmp/strips
    LED strips (gbk-color) listening on /tmp/hallq-led
    strip 1: 请A001号办理 (red)
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import select
import signal
import socket
import threading
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Self

from PIL import Image, ImageDraw, ImageFont

from drivers.closing import Closing
from drivers.fonts import find_cjk_font
from drivers.led.base import COLOURS, StripText
from drivers.led.protocols import PROTOCOLS, get_protocol

DOTS_HIGH = 16
MIN_DOTS_WIDE = 64
DOT_PITCH_PX = 8
DOT_DIAMETER_PX = 6
BORDER_DOTS = 1
BACKGROUND = (0, 0, 0)
UNLIT = (34, 12, 10)  # an LED that is off still shows as a dark dot
LIT = {"red": (255, 36, 24), "green": (40, 230, 70), "yellow": (255, 196, 16)}

OnChange = Callable[[int, StripText], None]


@dataclass(frozen=True)
class StripWrite:
    """One frame the line carried: when (wall clock), to which strip, showing what."""

    at: float
    address: int
    content: StripText


@lru_cache(maxsize=4)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, DOTS_HIGH)


def draw_strip(content: StripText | None, font_path: str | None = None) -> Image.Image:
    """The strip as it looks in the hall: coloured dots on black, unlit dots dark.

    The text is rasterised at the strip's resolution (16 dots high), then every dot is
    drawn as a round LED; the strip is as wide as the text, at least 64 dots.
    """
    font = _font(find_cjk_font(font_path))
    segments = content.segments if content else ()
    text_width = sum(font.getlength(text) for text, _ in segments)
    dots_wide = max(MIN_DOTS_WIDE, 8 * math.ceil((text_width + 2) / 8))
    masks = {colour: Image.new("L", (dots_wide, DOTS_HIGH)) for colour in COLOURS}
    x = 1.0
    for text, colour in segments:
        ImageDraw.Draw(masks[colour]).text((x, DOTS_HIGH / 2), text, 255, font=font, anchor="lm")
        x += font.getlength(text)
    pixels = {colour: mask.load() for colour, mask in masks.items()}

    border = BORDER_DOTS * DOT_PITCH_PX
    size = (dots_wide * DOT_PITCH_PX + 2 * border, DOTS_HIGH * DOT_PITCH_PX + 2 * border)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    inset = (DOT_PITCH_PX - DOT_DIAMETER_PX) / 2
    for row in range(DOTS_HIGH):
        for col in range(dots_wide):
            fill = next((LIT[c] for c in COLOURS if pixels[c][col, row] > 127), UNLIT)
            left = border + col * DOT_PITCH_PX + inset
            top = border + row * DOT_PITCH_PX + inset
            draw.ellipse((left, top, left + DOT_DIAMETER_PX, top + DOT_DIAMETER_PX), fill=fill)
    return image


def render_strip_png(content: StripText | None, path: str | Path) -> Path:
    """Write :func:`draw_strip` of ``content`` to ``path`` (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_strip(content).save(path, format="PNG")
    return path


def describe(content: StripText) -> str:
    """One line for a log or terminal, e.g. ``A001 (green) 暂停 (yellow)``."""
    if not content.segments:
        return "(blank)"
    return " ".join(f"{text} ({colour})" for text, colour in content.segments)


class _LedSimulator(Closing):
    """What every simulated line shares: decoding, state, waiting and drawing."""

    def __init__(self, protocol: str, on_change: OnChange | None) -> None:
        self.protocol = get_protocol(protocol)
        self._decoder = self.protocol.new_decoder()
        self._on_change = on_change
        self._changed = threading.Condition()
        self._current: dict[int, StripText] = {}
        self._history: list[StripWrite] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def _start(self, fd: int, name: str) -> None:
        self._wake_r, self._wake_w = os.pipe()  # close() writes here to stop the reader
        self._thread = threading.Thread(target=self._run, args=(fd,), name=name, daemon=True)
        self._thread.start()

    def _read(self, fd: int) -> bytes:
        raise NotImplementedError

    def _run(self, fd: int) -> None:
        while True:
            readable, _, _ = select.select([fd, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            self._accept(self._read(fd))

    def _accept(self, data: bytes) -> None:
        changed: list[tuple[int, StripText]] = []
        with self._changed:
            for address, content in self._decoder.feed(data):
                self._history.append(StripWrite(time.time(), address, content))
                if self._current.get(address) != content:
                    changed.append((address, content))
                self._current[address] = content
            self._changed.notify_all()
        if self._on_change:
            for address, content in changed:
                self._on_change(address, content)

    def content(self, address: int) -> StripText | None:
        """What strip ``address`` shows, or None if nothing was ever sent to it."""
        with self._changed:
            return self._current.get(address)

    def text(self, address: int) -> str:
        """The characters strip ``address`` shows ('' when blank or never written)."""
        content = self.content(address)
        return content.text if content else ""

    def addresses(self) -> list[int]:
        """Every strip that has received a frame."""
        with self._changed:
            return sorted(self._current)

    @property
    def history(self) -> list[StripWrite]:
        """Every frame received, oldest first (a flashing strip shows up as alternation)."""
        with self._changed:
            return list(self._history)

    def wait_for(self, predicate: Callable[[Self], bool], timeout: float) -> bool:
        """Wait until ``predicate(simulator)`` holds; False if ``timeout`` s pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def render_png(self, address: int, path: str | Path) -> Path:
        """Draw strip ``address`` (blank if never written) into a PNG file."""
        return render_strip_png(self.content(address), path)

    def render_all_png(self, directory: str | Path) -> list[Path]:
        """Draw every strip written so far as ``strip-ADDRESS.png`` in ``directory``."""
        return [
            self.render_png(address, Path(directory) / f"strip-{address}.png")
            for address in self.addresses()
        ]

    def _release(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop the reader thread and release the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._thread:
            os.write(self._wake_w, b"x")
            self._thread.join()
            os.close(self._wake_r)
            os.close(self._wake_w)
        self._release()



class LedLineSimulator(_LedSimulator):
    """Strips on a simulated serial line (a pty pair in raw mode).

    Write frames to :attr:`port` (the pty's device path) or to ``link``, a stable
    symlink to it created here and removed on close.
    """

    def __init__(
        self,
        protocol: str,
        link: str | Path | None = None,
        on_change: OnChange | None = None,
    ) -> None:
        super().__init__(protocol, on_change)
        self._master, self._slave = os.openpty()
        self.port = os.ttyname(self._slave)
        self.link = Path(link) if link else None
        try:
            # Raw: bytes pass untouched (no newline translation, no echo). Keeping the
            # slave open means a writer may close and reopen the port at will.
            tty.setraw(self._slave)
            if self.link:
                if self.link.is_symlink():
                    self.link.unlink()
                self.link.symlink_to(self.port)
            self._start(self._master, f"led-sim {self.port}")
        except BaseException:
            self._release()
            raise

    @property
    def url(self) -> str:
        """What to configure as the LED line: the link if there is one, else the pty."""
        return str(self.link) if self.link else self.port

    def _read(self, fd: int) -> bytes:
        return os.read(fd, 4096)

    def _release(self) -> None:
        if self.link and self.link.is_symlink() and os.readlink(self.link) == self.port:
            self.link.unlink()
        os.close(self._master)
        os.close(self._slave)


class LedUdpSimulator(_LedSimulator):
    """Strip controllers on the network: frames arrive as UDP datagrams."""

    def __init__(
        self,
        protocol: str,
        host: str = "127.0.0.1",
        port: int = 0,
        on_change: OnChange | None = None,
    ) -> None:
        super().__init__(protocol, on_change)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((host, port))
            self.host, self.port = self._sock.getsockname()[:2]
            self._start(self._sock.fileno(), f"led-sim udp {self.port}")
        except BaseException:
            self._sock.close()
            raise

    @property
    def url(self) -> str:
        """What to configure as the LED line."""
        return f"udp://{self.host}:{self.port}"

    def _read(self, fd: int) -> bytes:
        return self._sock.recv(65536)

    def _release(self) -> None:
        self._sock.close()


@contextlib.contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM (handlers only on the main thread)."""
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> int:
    """``hallq sim led``: simulate a line of strips and print what each one shows."""
    parser = argparse.ArgumentParser(
        prog="hallq sim led",
        description="Simulate a line of LED window strips and print every change.",
    )
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="gbk-color")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--link", help="stable symlink to the simulated serial port")
    where.add_argument("--udp", metavar="HOST:PORT", help="listen on UDP instead of a pty")
    parser.add_argument("--png-dir", type=Path, help="keep strip-ADDRESS.png up to date here")
    args = parser.parse_args(argv)

    def show(address: int, content: StripText) -> None:
        if args.png_dir:
            render_strip_png(content, args.png_dir / f"strip-{address}.png")
        print(f"strip {address}: {describe(content)}", flush=True)

    def open_simulator() -> _LedSimulator:
        if args.udp:
            host, _, port = args.udp.rpartition(":")
            return LedUdpSimulator(args.protocol, host or "127.0.0.1", int(port), show)
        return LedLineSimulator(args.protocol, args.link, show)

    with _until_signalled() as stop, open_simulator() as simulator:
        print(f"LED strips ({args.protocol}) listening on {simulator.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
