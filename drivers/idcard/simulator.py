"""A simulated ID-card reader: the SAM protocol's real bytes on a pseudo-terminal.

The host opens ``port`` (or the stable ``link``) with pyserial as if it were a USB–serial
reader. Answers are paced at ``baudrate`` so a read takes as long as on a real line
(1295 bytes at 115200 baud: about 0.11 s). Besides presenting and removing made-up cards
(``drivers.idcard.identities``) it can misbehave: break the next read's answer
(``damaged``), have the card pulled out during the next read (``pull``), answer garbage
or nothing at all, or be unplugged.

As a program (``hallq sim idcard``) it reads commands (``help``) from stdin or ``--script``::

    $ hallq sim idcard --link /tmp/hallq-idcard
    ID-card reader simulator on /dev/pts/3 (link /tmp/hallq-idcard); type help for commands
    present wang
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
import tty
from collections.abc import Sequence
from typing import TextIO

from drivers.closing import Closing
from drivers.idcard import sam
from drivers.idcard.card import IdCard, encode_base_info
from drivers.idcard.identities import RESIDENTS
from drivers.idcard.reader import DEFAULT_BAUDRATE, line_time
from drivers.simcli import point_link, run_line, run_program, simulator_parser, stable_link

MODES = ("normal", "damaged", "pull", "garbage", "silent")
_GARBAGE = bytes(range(0x30, 0x70)) + b"\xaa\xaa\x96"


class IdCardSimulator(Closing):
    """One reader on a pty. ``mode`` is one of MODES; ``damaged`` and ``pull`` apply to
    the next read only, then the reader is ``normal`` again."""

    def __init__(self, link: str | os.PathLike[str] | None = None, *,
                 baudrate: int = DEFAULT_BAUDRATE) -> None:
        self.link = stable_link(link)
        self.baudrate = baudrate
        self.card: IdCard | None = None
        self.mode = "normal"
        self.commands: list[sam.Command] = []
        self._lock = threading.Lock()
        self._fds: tuple[int, int, int, int] | None = None
        self._thread: threading.Thread | None = None
        self.port = ""
        self.replug()

    # --- the citizen and the fault injector ---------------------------------------

    def present(self, card: IdCard) -> None:
        with self._lock:
            self.card = card

    def remove(self) -> None:
        with self._lock:
            self.card = None

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        with self._lock:
            self.mode = mode

    # --- the line -------------------------------------------------------------------

    @property
    def plugged(self) -> bool:
        return self._fds is not None

    def unplug(self) -> None:
        fds, self._fds = self._fds, None
        if fds is None:
            return
        if self.link is not None and self.link.is_symlink():
            self.link.unlink()
        os.write(fds[3], b"\0")
        assert self._thread is not None
        self._thread.join()
        for fd in fds:
            os.close(fd)

    def replug(self) -> None:
        self.unplug()
        master, slave = os.openpty()
        tty.setraw(slave)
        wake_r, wake_w = os.pipe()
        self._fds = (master, slave, wake_r, wake_w)
        self.port = os.ttyname(slave)
        self._thread = threading.Thread(target=self._serve, args=(master, wake_r),
                                        name=f"idcard-sim {self.port}", daemon=True)
        self._thread.start()
        if self.link is not None:
            point_link(self.link, self.port)

    def close(self) -> None:
        self.unplug()

    def _serve(self, master: int, wake: int) -> None:
        parser = sam.FrameParser(answers=False)
        while True:
            ready, _, _ = select.select([master, wake], [], [], 0.05)
            if wake in ready:
                return
            if not ready:
                parser.flush()
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            for command in parser.feed(chunk):
                reply = self._answer(command)
                if reply:
                    self._send(master, reply)

    def _send(self, master: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(master, view):]
        time.sleep(line_time(len(data), self.baudrate))

    def _answer(self, command: sam.Command) -> bytes:
        with self._lock:
            self.commands.append(command)
            mode, card = self.mode, self.card
            if mode == "silent":
                return b""
            if mode == "garbage":
                return _GARBAGE
            pair = (command.cmd, command.para)
            if pair in (sam.RESET, sam.STATUS):
                return sam.encode_answer(sam.Answer(sam.SW_OK))
            if pair == sam.FIND_CARD:
                if card is None:
                    return sam.encode_answer(sam.Answer(sam.SW_NO_CARD))
                return sam.encode_answer(sam.Answer(sam.SW_FOUND, bytes(4)))
            if pair == sam.SELECT_CARD:
                if card is None:
                    return sam.encode_answer(sam.Answer(sam.SW_SELECT_FAILED))
                return sam.encode_answer(sam.Answer(sam.SW_OK, bytes(8)))
            if pair == sam.READ_BASE:
                if card is None:
                    return sam.encode_answer(sam.Answer(sam.SW_READ_FAILED))
                if mode == "pull":
                    self.card, self.mode = None, "normal"
                    return sam.encode_answer(sam.Answer(sam.SW_READ_FAILED))
                frame = bytearray(sam.encode_answer(sam.Answer(sam.SW_OK, encode_base_info(card))))
                if mode == "damaged":
                    self.mode = "normal"
                    frame[100] ^= 0x5A  # inside the text block: the check byte no longer fits
                return bytes(frame)
            return sam.encode_answer(sam.Answer(sam.SW_COMMAND))


# --- the program ----------------------------------------------------------------------

COMMANDS = f"""\
commands:
  present NAME      put a made-up card on the reader: {', '.join(RESIDENTS)}
                    (wang is 78, green channel; chen's card has expired)
  remove            take the card away (no card)
  damaged | pull    break the next read's answer | pull the card out during the next read
  garbage | silent | normal   the reader answers junk | nothing | properly again
  sleep SECONDS | unplug | replug | help | quit
"""


def run_command(sim: IdCardSimulator, line: str, out: TextIO | None = None) -> bool:
    """Carry out one command line; False when it asks to quit. ValueError if it is wrong."""

    def reader_word(head: str, rest: list[str]) -> bool:
        if head == "present":
            if len(rest) != 1 or rest[0] not in RESIDENTS:
                raise ValueError(f"usage: present NAME, NAME one of {', '.join(RESIDENTS)}")
            sim.present(RESIDENTS[rest[0]])
        elif head == "remove":
            sim.remove()
        elif head in MODES:
            sim.set_mode(head)
        else:
            return False
        return True

    return run_line(sim, line, COMMANDS, out or sys.stdout, reader_word)


def main(argv: Sequence[str] | None = None) -> int:
    """``hallq sim idcard``: run a simulated ID-card reader until quit or end of input."""
    parser = simulator_parser("hallq sim idcard", "Simulate an ID-card reader (SAM serial "
                              "protocol) on a pty.", COMMANDS)
    parser.add_argument("--baudrate", type=int, default=DEFAULT_BAUDRATE)
    args = parser.parse_args(argv)
    with IdCardSimulator(args.link, baudrate=args.baudrate) as sim:
        return run_program(parser, args, sim, "ID-card reader simulator",
                           lambda line: run_command(sim, line))


if __name__ == "__main__":
    raise SystemExit(main())
