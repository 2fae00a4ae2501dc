"""A simulated ID-card reader: the SAM protocol's real bytes on a pseudo-terminal.

``IdCardSimulator``: the host opens ``port`` (or the stable ``link``) with pyserial as if it were a USB–serial
reader. Answers are paced at ``baudrate`` so a read takes as long as on a real line
(1295 bytes at 115200 baud: about 0.11 s). Besides presenting and removing made-up cards
(``drivers.idcard.identities``) it can misbehave: break the next read's answer
(``damaged``), have the card pulled out during the next read (``pull``), answer garbage
or nothing at all, or be unplugged.

``HttpReaderSimulator`` is a vendor's local reader service on loopback instead (the JSON
of ``drivers.idcard.backends.card_from_json``), with the same cards and faults and a few of
its own (HTTP errors, oversized answers).

As a program (``hallq sim idcard``, ``--http PORT`` for the service) it reads commands
(``help``) from stdin or ``--script``::

    $ hallq sim idcard --link /tmp/hallq-idcard
    ID-card reader simulator on /dev/pts/3 (link /tmp/hallq-idcard); type help for commands
    present wang
"""

from __future__ import annotations

import contextlib
import http.server
import json
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
from drivers.idcard.card import LONG_TERM, IdCard, encode_base_info
from drivers.idcard.identities import RESIDENTS
from drivers.idcard.reader import DEFAULT_BAUDRATE, line_time
from drivers.simcli import point_link, run_line, run_program, simulator_parser, stable_link

MODES = ("normal", "damaged", "pull", "garbage", "silent")
ONE_READ = ("damaged", "pull")
_GARBAGE = bytes(range(0x30, 0x70)) + b"\xaa\xaa\x96"


class SimulatedReader(Closing):
    """The card on a simulated reader and how the reader misbehaves, whatever it speaks.
    ``mode`` is one of ``MODES``; ``damaged`` and ``pull`` apply to the next read only,
    then the reader is ``normal`` again."""

    MODES: tuple[str, ...] = MODES

    def __init__(self) -> None:
        self.card: IdCard | None = None
        self.mode = "normal"
        self._lock = threading.Lock()
        self.port = ""

    # --- the citizen and the fault injector ---------------------------------------

    def present(self, card: IdCard) -> None:
        with self._lock:
            self.card = card

    def remove(self) -> None:
        with self._lock:
            self.card = None

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {', '.join(self.MODES)}, not {mode!r}")
        with self._lock:
            self.mode = mode

    def take_read(self) -> tuple[str, IdCard | None]:
        """The mode and card one read meets; a one-read mode is used up, ``pull`` takes
        the card away."""
        with self._lock:
            mode, card = self.mode, self.card
            if mode in ONE_READ and card is not None:
                self.mode = "normal"
                if mode == "pull":
                    self.card = None
            return mode, card

    def unplug(self) -> None:
        raise NotImplementedError

    def replug(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.unplug()


class IdCardSimulator(SimulatedReader):
    """One reader on a pty, speaking the SAM protocol."""

    def __init__(self, link: str | os.PathLike[str] | None = None, *,
                 baudrate: int = DEFAULT_BAUDRATE) -> None:
        super().__init__()
        self.link = stable_link(link)
        self.baudrate = baudrate
        self.commands: list[sam.Command] = []
        self._fds: tuple[int, int, int, int] | None = None
        self._thread: threading.Thread | None = None
        self.replug()

    def swipe(self, card: IdCard, timeout: float = 30.0) -> None:
        """A new presentation: the card on the reader away until the reader has looked and
        found none (so the next card is a new swipe, however slow the machine), then `card`
        on it; after `timeout` without a look, `card` anyway."""
        with self._lock:
            self.card = None
            seen = len(self.commands)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if any((c.cmd, c.para) == sam.FIND_CARD for c in self.commands[seen:]):
                    break
            time.sleep(0.05)
        self.present(card)

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
            mode, card = self.take_read()
            if card is None or mode == "pull":
                return sam.encode_answer(sam.Answer(sam.SW_READ_FAILED))
            frame = bytearray(sam.encode_answer(sam.Answer(sam.SW_OK, encode_base_info(card))))
            if mode == "damaged":
                frame[100] ^= 0x5A  # inside the text block: the check byte no longer fits
            return bytes(frame)
        return sam.encode_answer(sam.Answer(sam.SW_COMMAND))


HTTP_MODES = (*MODES, "error", "huge")
NO_CARD = {"resultCode": 1, "resultMessage": "未找到卡片"}
"""The simulated service's answer when it read no card (any non-zero resultCode)."""


def card_json(card: IdCard, damaged: bool = False) -> dict:
    """A vendor service's answer for ``card`` (the shape ``backends.card_from_json`` reads)."""
    birthday = "19000101" if damaged else card.birth_date.strftime("%Y%m%d")
    until = LONG_TERM if card.valid_until is None else card.valid_until.strftime("%Y%m%d")
    return {"resultCode": 0, "resultMessage": "读卡成功", "data": {
        "cardType": "0", "name": card.name, "sex": "男" if card.gender == "1" else "女",
        "nation": "汉", "birthday": birthday, "address": card.address,
        "citizenId": card.id_number, "issueOrgan": card.authority,
        "validDateStart": card.valid_from.strftime("%Y%m%d"), "validDateExpire": until,
        "photoType": "bmp", "photoData": "Qk0" + "A" * 2000}}


class HttpReaderSimulator(SimulatedReader):
    """A vendor's local reader service on loopback: ``GET url`` answers the card as JSON.

    Besides the pty reader's modes: ``error`` answers HTTP 500, ``huge`` an answer of
    half a megabyte; ``silent`` holds the request without answering (the client times
    out); ``garbage`` answers bytes that are not JSON. ``unplug`` stops the service (the
    port refuses), ``replug`` starts it again on the same port.
    """

    MODES = HTTP_MODES
    PATH = "/api/readcard"

    def __init__(self, port: int = 0) -> None:
        super().__init__()
        self._port_number = port
        self._server: http.server.ThreadingHTTPServer | None = None
        self._released = threading.Event()
        self.requests = 0
        self.replug()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port_number}{self.PATH}"

    def replug(self) -> None:
        self.unplug()
        self._released.clear()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self._port_number), self._handler())
        server.daemon_threads = True
        self._port_number = server.server_address[1]
        self._server = server
        self.port = self.url
        threading.Thread(target=server.serve_forever, name="idcard-http-sim", daemon=True).start()

    def unplug(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            self._released.set()  # silent requests give up
            server.shutdown()
            server.server_close()

    def answer(self) -> tuple[int, bytes]:
        """Status and body of one read."""
        with self._lock:
            self.requests += 1
            mode = self.mode
        if mode == "silent":
            self._released.wait(10)
            return 0, b""
        if mode == "garbage":
            return 200, _GARBAGE
        if mode == "error":
            return 500, b"internal error"
        if mode == "huge":
            return 200, b'{"resultCode": 0, "pad": "' + b"x" * 512 * 1024 + b'"}'
        mode, card = self.take_read()
        damaged = mode == "damaged"
        body = NO_CARD if card is None or mode == "pull" else card_json(card, damaged=damaged)
        return 200, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        sim = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != sim.PATH:
                    self.send_error(404)
                    return
                status, body = sim.answer()
                if not status:
                    return  # silent: the connection closes unanswered
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the simulator prints nothing per request."""

        return Handler


# --- the program ----------------------------------------------------------------------

COMMANDS = f"""\
commands:
  present NAME      put a made-up card on the reader: {', '.join(RESIDENTS)}
                    (wang is 78, green channel; chen's card has expired)
  remove            take the card away (no card)
  damaged | pull    break the next read's answer | pull the card out during the next read
  garbage | silent | normal   the reader answers junk | nothing | properly again
  error | huge      (--http only) HTTP 500 | an answer of half a megabyte
  sleep SECONDS | unplug | replug | help | quit
"""


def run_command(sim: SimulatedReader, line: str, out: TextIO | None = None) -> bool:
    """Carry out one command line; False when it asks to quit. ValueError if it is wrong."""

    def reader_word(head: str, rest: list[str]) -> bool:
        if head == "present":
            if len(rest) != 1 or rest[0] not in RESIDENTS:
                raise ValueError(f"usage: present NAME, NAME one of {', '.join(RESIDENTS)}")
            sim.present(RESIDENTS[rest[0]])
        elif head == "remove":
            sim.remove()
        elif head in sim.MODES:
            sim.set_mode(head)
        else:
            return False
        return True

    return run_line(sim, line, COMMANDS, out or sys.stdout, reader_word)


def main(argv: Sequence[str] | None = None) -> int:
    """``hallq sim idcard``: run a simulated ID-card reader until quit or end of input."""
    parser = simulator_parser("hallq sim idcard", "Simulate an ID-card reader: the SAM serial "
                              "protocol on a pty, or a vendor's HTTP service (--http).", COMMANDS)
    parser.add_argument("--baudrate", type=int, default=DEFAULT_BAUDRATE)
    parser.add_argument("--http", type=int, metavar="PORT",
                        help="be a vendor reader service on 127.0.0.1:PORT instead (0: any port)")
    args = parser.parse_args(argv)
    if args.http is not None and args.link:
        parser.error("--link is for the pty reader; --http serves on a port")
    reader = (HttpReaderSimulator(args.http) if args.http is not None
              else IdCardSimulator(args.link, baudrate=args.baudrate))
    with reader as sim:
        return run_program(parser, args, sim, "ID-card reader simulator",
                           lambda line: run_command(sim, line))


if __name__ == "__main__":
    raise SystemExit(main())
