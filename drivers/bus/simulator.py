"""A simulated counter RS-485 line: caller keypads and evaluators on a pseudo-terminal.

The host (the counter bridge) opens ``port`` (or the stable ``link``) with pyserial as if
it were a USB–RS-485 adapter; every device on the simulated line speaks the real bytes
of ``drivers.bus.models``. The simulator records what the host sent to each address:
the keypad display, beeps, whether the evaluator is lit, and the acknowledgements.
State changes only through host frames; a press never lights or darkens anything.

As a program (``hallq sim bus``, or ``python -m drivers.bus.simulator``) it reads commands
(``help`` lists them) from stdin or ``--script FILE`` and prints what a device shows
whenever the host changes it. With a host that acknowledges and answers::

    $ hallq sim bus --link /tmp/hallq-bus --keypad 1 --keypad 2 --evaluator 1
    bus simulator on /dev/pts/0 (link /tmp/hallq-bus); type help for commands
    1 call
    keypad 1 shows [023 12] beeps=1  evaluator 1 dark  acks=1
    1 finish
    keypad 1 shows [023 12] beeps=1  evaluator 1 lit  acks=2
    1 rate 1
"""

from __future__ import annotations

import os
import select
import sys
import threading
import tty
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from drivers.bus.ft12 import Frame, FrameParser
from drivers.bus.models import (
    DEFAULT_KEYPAD,
    DISPLAY_CELLS,
    EVALUATOR_MODELS,
    FIVE_KEY,
    KEYPAD_ACTIONS,
    KEYPAD_MODELS,
    LEVELS,
    EvaluatorModel,
    KeypadModel,
    decode_display,
    decode_evaluator_control,
    evaluator_press,
    keypad_press,
)
from drivers.closing import Closing
from drivers.simcli import point_link, run_line, run_program, simulator_parser, stable_link

IDLE_GAP = 0.05
"""Seconds of silence after which an unfinished frame from the host is given up."""

BLANK_DISPLAY = " " * DISPLAY_CELLS


@dataclass
class _Device:
    display: str = BLANK_DISPLAY
    beeps: int = 0
    lit: bool = False
    acks: list[Frame] = field(default_factory=list)


class _Pty:
    """One plugged-in adapter: a raw pty pair and the thread reading the host's bytes."""

    def __init__(self, on_frames: Callable[[list[Frame]], None]) -> None:
        self._master, self._slave = os.openpty()
        # Raw: no echo of our own bytes, no CR/LF rewriting (0x0D is the recall key).
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(
            target=self._read_loop, args=(on_frames,), name=f"bus-sim {self.port}", daemon=True
        )
        self._thread.start()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._master, view) :]

    def close(self) -> None:
        os.write(self._wake_w, b"\0")
        self._thread.join()
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def _read_loop(self, on_frames: Callable[[list[Frame]], None]) -> None:
        parser = FrameParser()
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [], IDLE_GAP)
            if self._wake_r in ready:
                return
            if ready:
                try:
                    chunk = os.read(self._master, 4096)
                except OSError:
                    return
                frames = parser.feed(chunk)
            else:
                frames = parser.flush()
            if frames:
                on_frames(frames)


class BusSimulator(Closing):
    """Keypads and evaluators sharing one simulated RS-485 line.

    ``keypads``/``evaluators`` are the bus addresses that have that device; None means
    every address has one. Frames for devices that are not there are recorded in
    ``received`` and otherwise ignored, like on a real line. ``on_change(sim, address)``
    is called from the reader thread after the host changed that address's state.
    """

    def __init__(
        self,
        link: str | os.PathLike[str] | None = None,
        *,
        keypads: Iterable[int] | None = None,
        evaluators: Iterable[int] | None = None,
        keypad_model: KeypadModel = DEFAULT_KEYPAD,
        evaluator_model: EvaluatorModel = FIVE_KEY,
        on_change: Callable[[BusSimulator, int], None] | None = None,
    ) -> None:
        self.link = stable_link(link)
        self.keypad_model = keypad_model
        self.evaluator_model = evaluator_model
        self._keypads = None if keypads is None else frozenset(keypads)
        self._evaluators = None if evaluators is None else frozenset(evaluators)
        self._on_change = on_change
        self._state = threading.Condition(threading.RLock())
        self._devices: dict[int, _Device] = {}
        self._received: list[Frame] = []
        self._line_lock = threading.Lock()
        self._pty: _Pty | None = None
        self.port = ""
        self.replug()

    # --- the line -----------------------------------------------------------------

    @property
    def plugged(self) -> bool:
        return self._pty is not None

    def unplug(self) -> None:
        """Pull the adapter: the host's reads and writes fail, the link disappears."""
        with self._line_lock:
            pty, self._pty = self._pty, None
            if pty is None:
                return
            if self.link is not None and self.link.is_symlink():
                self.link.unlink()
        # Outside the lock: the reader may be inside on_change, which may press keys.
        pty.close()

    def replug(self) -> None:
        """Plug the adapter (back) in on a new pty; ``port`` changes, ``link`` follows."""
        self.unplug()
        with self._line_lock:
            self._pty = _Pty(self._apply)
            self.port = self._pty.port
            if self.link is not None:
                point_link(self.link, self.port)

    def close(self) -> None:
        self.unplug()


    # --- devices → host -------------------------------------------------------------

    def press(self, address: int, action: str, digits: str = "") -> bytes:
        """The keypad at ``address`` sends ``action``; returns the bytes put on the line."""
        if not self.has_keypad(address):
            raise ValueError(f"no keypad at address {address}")
        data = keypad_press(address, action, digits, self.keypad_model)
        self.send_raw(data)
        return data

    def rate(self, address: int, level: str) -> bytes:
        """The evaluator at ``address`` sends ``level``, lit or not (real pads do too)."""
        if not self.has_evaluator(address):
            raise ValueError(f"no evaluator at address {address}")
        data = evaluator_press(address, level, self.evaluator_model)
        self.send_raw(data)
        return data

    def send_raw(self, data: bytes) -> None:
        """Put any bytes on the line (noise, broken frames)."""
        with self._line_lock:
            if self._pty is None:
                raise RuntimeError("the bus is unplugged; replug() first")
            self._pty.write(data)

    # --- what the host sent ---------------------------------------------------------

    def has_keypad(self, address: int) -> bool:
        return self._keypads is None or address in self._keypads

    def has_evaluator(self, address: int) -> bool:
        return self._evaluators is None or address in self._evaluators

    @property
    def addresses(self) -> list[int]:
        """The configured addresses, or (every address has devices) those heard from."""
        if self._keypads is not None and self._evaluators is not None:
            return sorted(self._keypads | self._evaluators)
        with self._state:
            configured = (self._keypads or frozenset()) | (self._evaluators or frozenset())
            return sorted(configured | self._devices.keys())

    def display(self, address: int) -> str:
        """The six keypad digits as shown, blank as space."""
        return self._device(address).display

    def beeps(self, address: int) -> int:
        return self._device(address).beeps

    def evaluator_lit(self, address: int) -> bool:
        """True between the host's start-rating and stop frames."""
        return self._device(address).lit

    def acks(self, address: int) -> list[Frame]:
        """Press frames the host echoed back to ``address``, in order."""
        with self._state:
            return list(self._device(address).acks)

    @property
    def received(self) -> list[Frame]:
        """Every valid frame the host sent, in order."""
        with self._state:
            return list(self._received)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds (checked after each host frame); False on timeout."""
        with self._state:
            return self._state.wait_for(predicate, timeout)

    def _device(self, address: int) -> _Device:
        with self._state:
            return self._devices.get(address) or _Device()

    def _apply(self, frames: list[Frame]) -> None:
        changed: dict[int, None] = {}
        with self._state:
            for frame in frames:
                self._received.append(frame)
                if self._apply_frame(frame):
                    changed[frame.address] = None
            self._state.notify_all()
        if self._on_change is not None:
            for address in changed:
                self._on_change(self, address)

    def _apply_frame(self, frame: Frame) -> bool:
        keypad, evaluator = self.keypad_model, self.evaluator_model
        device = self._devices.setdefault(frame.address, _Device())
        if self.has_keypad(frame.address):
            text = decode_display(frame, keypad)
            if text is not None:
                device.display = text
                return True
            if frame.function == keypad.beep_function:
                device.beeps += 1
                return True
            if frame.function == keypad.press_function:
                device.acks.append(frame)
                return True
        if self.has_evaluator(frame.address):
            lit = decode_evaluator_control(frame, evaluator)
            if lit is not None:
                device.lit = lit
                return True
            if frame.function == evaluator.press_function:
                device.acks.append(frame)
                return True
        return False


# --- the program ----------------------------------------------------------------------

COMMANDS = """\
commands (ADDR is a bus address):
  ADDR call [NUMBER]     call next, or call that ticket number (digits)
  ADDR recall | finish | pause | skip | hold
  ADDR transfer WINDOW   transfer to that window
  ADDR callheld [NUMBER] call back a held ticket
  ADDR rate LEVEL        1..5 (1 非常满意 … 5 非常不满意) or very_satisfied … very_dissatisfied
  raw HEX…               put raw bytes on the line, e.g. raw 68 03 03 68
  sleep SECONDS | show | unplug | replug | help | quit
"""

_KEYPAD_WORDS = {
    "call": "call_next",
    "recall": "recall",
    "finish": "finish",
    "pause": "pause_toggle",
    "transfer": "transfer",
    "skip": "skip",
    "hold": "hold",
    "callheld": "call_held",
}


def describe(sim: BusSimulator, address: int) -> str:
    """One line saying what the devices at ``address`` show."""
    parts = []
    if sim.has_keypad(address):
        parts.append(f"keypad {address} shows [{sim.display(address)}] beeps={sim.beeps(address)}")
    if sim.has_evaluator(address):
        parts.append(f"evaluator {address} {'lit' if sim.evaluator_lit(address) else 'dark'}")
    parts.append(f"acks={len(sim.acks(address))}")
    return "  ".join(parts)


def run_command(sim: BusSimulator, line: str, out: TextIO) -> bool:
    """Carry out one command line; False when it asks to quit. ValueError if it is wrong."""

    def bus_word(head: str, rest: list[str]) -> bool:
        if head == "raw":
            sim.send_raw(bytes.fromhex("".join(rest)))
        elif head == "show":
            for address in sim.addresses:
                print(describe(sim, address), file=out, flush=True)
        elif head.isdigit():
            _device_command(sim, int(head), rest)
        else:
            return False
        return True

    return run_line(sim, line, COMMANDS, out, bus_word)


def _device_command(sim: BusSimulator, address: int, words: list[str]) -> None:
    if not words:
        raise ValueError("say what the device does, e.g. '1 call' (try help)")
    verb, *args = words
    if verb == "rate":
        sim.rate(address, _level(_only(args, "ADDR rate LEVEL")))
        return
    action = _KEYPAD_WORDS.get(verb, verb if verb in KEYPAD_ACTIONS else None)
    if action is None:
        raise ValueError(f"unknown key {verb!r} (try help)")
    digits = "".join(args)
    if action == "call_next" and digits:
        action = "call_number"
    sim.press(address, action, digits)


def _level(word: str) -> str:
    if word in LEVELS:
        return word
    if word.isdigit() and 1 <= int(word) <= len(LEVELS):
        return LEVELS[int(word) - 1]
    raise ValueError(f"level must be 1..5 or one of {', '.join(LEVELS)}, not {word!r}")


def _only(words: list[str], usage: str) -> str:
    if len(words) != 1:
        raise ValueError(f"usage: {usage}")
    return words[0]


def main(argv: Sequence[str] | None = None) -> int:
    """``hallq sim bus``: run a simulated keypad/evaluator line until quit or end of input."""
    parser = simulator_parser("hallq sim bus", "Simulate caller keypads and evaluators on one "
                              "RS-485 line (a pty).", COMMANDS)
    parser.add_argument("--keypad", type=int, action="append", metavar="ADDR",
                        help="a keypad at this address (repeatable; none given: every address)")
    parser.add_argument("--evaluator", type=int, action="append", metavar="ADDR",
                        help="an evaluator at this address (repeatable)")
    parser.add_argument("--keypad-model", choices=sorted(KEYPAD_MODELS), default="default")
    parser.add_argument("--evaluator-model", choices=sorted(EVALUATOR_MODELS), default="5key")
    args = parser.parse_args(argv)

    def show_change(sim: BusSimulator, address: int) -> None:
        print(describe(sim, address), flush=True)

    no_devices_named = args.keypad is None and args.evaluator is None
    with BusSimulator(
        args.link,
        keypads=None if no_devices_named else args.keypad or (),
        evaluators=None if no_devices_named else args.evaluator or (),
        keypad_model=KEYPAD_MODELS[args.keypad_model],
        evaluator_model=EVALUATOR_MODELS[args.evaluator_model],
        on_change=show_change,
    ) as sim:
        return run_program(parser, args, sim, "bus simulator",
                           lambda line: run_command(sim, line, sys.stdout), (ValueError, RuntimeError))


if __name__ == "__main__":
    raise SystemExit(main())
