"""ID-card readers: one interface, the SAM serial protocol as the first backend, and the
thread that owns the reader so the kiosk's UI thread never waits on it.

A backend answers ``poll()``: the card on the reader now, None when there is none, or
raises :class:`CardReadFailed` (the card was there but could not be read: pulled out
mid-read, damaged, not an ID card) or :class:`ReaderFault` (the reader itself is gone or
talks nonsense). The keyboard-output and vendor-HTTP backends are in
``drivers.idcard.backends``, with ``make_backend`` choosing one from the kiosk's config.

:class:`ReaderLine` polls a backend at a fixed rate in its own thread and reports, from
that thread: ``on_card(card)`` once per presentation (the card must leave the reader
before it is reported again), ``on_failure(reason)`` for a failed read of a card not reported yet, and
``on_state(up, detail)`` when the reader goes down or comes back (reopening the port).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import serial

from drivers.errors import DeviceError
from drivers.idcard import sam
from drivers.idcard.card import CardDataError, IdCard, parse_base_info
from drivers.line import LineFault, LineOwner, close_serial, open_serial

log = logging.getLogger(__name__)

DEFAULT_BAUDRATE = 115200
POLL_INTERVAL_S = 0.25
ANSWER_TIMEOUT_S = 0.5
"""How long the reader may take to start answering; the line time is added on top."""


class ReaderFault(LineFault):
    """The reader is missing, silent, or answers garbage."""


class CardReadFailed(DeviceError):
    """A card was on the reader but could not be read; ``reason`` says why, for the screen."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # "removed", "damaged", "not_id_card"


class Backend(Protocol):
    def open(self) -> None: ...
    def poll(self) -> IdCard | None: ...
    def close(self) -> None: ...


def line_time(size: int, baudrate: int) -> float:
    """Seconds ``size`` bytes take on an 8N1 line."""
    return size * 10 / baudrate


class SamSerialBackend:
    """A reader speaking the SAM protocol on a serial port (USB–serial readers included)."""

    def __init__(self, port: str, baudrate: int = DEFAULT_BAUDRATE) -> None:
        self.port = port
        self.baudrate = baudrate
        self._serial: serial.SerialBase | None = None
        self._parser = sam.FrameParser(answers=True)

    def open(self) -> None:
        self._serial = open_serial(self.port, self.baudrate, timeout=0.02)
        self._parser.flush()
        answer = self._ask(sam.STATUS, 16)
        if answer.sw3 != sam.SW_OK:
            raise ReaderFault(f"SAM status: {sam.describe_status(answer.sw3)}")

    def close(self) -> None:
        close_serial(self._serial)
        self._serial = None

    def poll(self) -> IdCard | None:
        found = self._ask(sam.FIND_CARD, 16)
        if found.sw3 == sam.SW_NO_CARD:
            return None
        if found.sw3 != sam.SW_FOUND:
            raise ReaderFault(f"find card: {sam.describe_status(found.sw3)}")
        selected = self._ask(sam.SELECT_CARD, 20)
        if selected.sw3 != sam.SW_OK:
            raise CardReadFailed("removed", f"select card: {sam.describe_status(selected.sw3)}")
        broken_before = self._parser.bad_frames
        try:
            read = self._ask(sam.READ_BASE, 1295)
        except ReaderFault:
            if self._parser.bad_frames > broken_before:  # the answer came, but broken
                raise CardReadFailed("damaged", "broken answer to read") from None
            raise
        if read.sw3 == sam.SW_OK:
            try:
                return parse_base_info(read.data)
            except CardDataError as e:
                raise CardReadFailed("damaged", str(e)) from e
        if read.sw3 == 0x40:
            raise CardReadFailed("not_id_card", sam.describe_status(read.sw3))
        raise CardReadFailed("removed", f"read: {sam.describe_status(read.sw3)}")

    def _ask(self, command: tuple[int, int], expected_size: int) -> sam.Answer:
        """Send a command, wait for its answer: the first valid frame within the time."""
        port = self._serial
        if port is None:
            raise ReaderFault("the reader is not open")
        try:
            port.reset_input_buffer()
            port.write(sam.encode_command(command))
            deadline = time.monotonic() + ANSWER_TIMEOUT_S + line_time(expected_size, self.baudrate)
            while time.monotonic() < deadline:
                chunk = port.read(port.in_waiting or 1)
                if chunk:
                    answers = self._parser.feed(chunk)
                    if answers:
                        return answers[0]
        except (serial.SerialException, OSError) as e:
            raise ReaderFault(f"{self.port}: {e}") from e
        bad = self._parser.flush()
        if bad:
            return bad[0]
        raise ReaderFault(f"no valid answer to {command[0]:02X} {command[1]:02X}")


class ReaderLine(LineOwner):
    """Polls ``backend`` in its own thread; see the module docstring."""

    def __init__(self, backend: Backend, *, on_card: Callable[[IdCard], None],
                 on_failure: Callable[[str], None], on_state: Callable[[bool, str], None],
                 poll_interval: float = POLL_INTERVAL_S) -> None:
        super().__init__("ID-card reader", on_state)
        self.backend = backend
        self._on_card = on_card
        self._on_failure = on_failure
        self._interval = poll_interval
        self._card_on_reader = False

    def open(self) -> None:
        self.backend.open()

    def close(self) -> None:
        self.backend.close()

    def serve(self) -> None:
        try:
            card = self.backend.poll()
        except CardReadFailed as e:
            # A card already reported that leaves during a re-read is no failed swipe.
            if not self._card_on_reader:
                log.info("ID-card read failed (%s): %s", e.reason, e)
                self._on_failure(e.reason)
            self._card_on_reader = False
        else:
            if card is None:
                self._card_on_reader = False
            elif not self._card_on_reader:
                self._card_on_reader = True
                self._on_card(card)
        self.pause(self._interval)
