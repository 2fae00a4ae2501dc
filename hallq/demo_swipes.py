"""The real-name part of the headless demo: citizens swiping ID cards and scanning codes at
the kiosk, on a simulated SAM reader and a simulated serial scanner.

Before the busy hour a kiosk run walks through: a swipe on the confirm screen, the
same citizen swiping again (the live ticket comes back and prints again), an elderly
citizen routed to the green channel by age, an expired card, an appointment code (there
are no appointments yet: 无法识别) and a ticket's own QR code. The demo's thread follows
the kiosk's screenshots and plays the citizen at the right moment. The hall is the demo
hall with `civil` taking ID cards (one live ticket per person, green channel from 70).
"""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from caller.core.personal import new_secret
from drivers.closing import Closing
from drivers.idcard.identities import RESIDENTS
from drivers.idcard.simulator import IdCardSimulator

SERVICE = "civil"
STEPS: list[tuple[str, str, str]] = [  # (what the citizen does, with what, the shot after)
    ("swipe", "zhang", "swipe-first"),
    ("swipe", "zhang", "swipe-again"),
    ("swipe", "wang", "swipe-elderly"),
    ("swipe", "chen", "card-expired"),
    ("scan", "YY-20261123-0001", "scan-appointment"),
    ("scan", "hallq:ticket:{day}:A001", "scan-ticket"),
]


def real_name_config(config_path: str, out: Path) -> Path:
    """A copy of the hall config with `civil` taking ID cards and the kiosk's reader and
    scanner on the simulators' links in `out`."""
    text = Path(config_path).read_text(encoding="utf-8")
    text = text.replace(f'id = "{SERVICE}"\n', f'id = "{SERVICE}"\none_live_ticket_per_person = true\n'
                        'green_channel_age = 70\n', 1)
    text = text.replace('token = "demo-kiosk-1"\n', f'token = "demo-kiosk-1"\nidcard = "{out / "idcard"}"\n'
                        f'scanner = "{out / "scanner"}"\n', 1)
    secret = out / "hall.secret"
    secret.unlink(missing_ok=True)
    new_secret(secret)
    path = out / "hall.toml"
    path.write_text(text + '\n[personal]\nsecret_file = "hall.secret"\n', encoding="utf-8")
    return path


def script_lines() -> list[str]:
    """The steps of the kiosk that the citizens of STEPS visit."""
    lines, printed = ["wait connected"], 0
    for n, (action, _what, shot) in enumerate(STEPS):
        cue = f"cue-{n}"
        if action == "swipe" and shot != "card-expired":
            printed += 1
            lines += [f"tap service:{SERVICE}", "wait screen confirm", f"shot {cue}",
                      "wait screen result", f"wait printed {printed}", f"shot {shot}",
                      "tap done", "wait screen home"]
        else:  # a scanned ticket shows its state; the rest cannot give a number
            screen = "ticket_state" if shot == "scan-ticket" else "refused"
            lines += [f"shot {cue}", f"wait screen {screen}", f"shot {shot}", "tap home",
                      "wait screen home"]
    return lines


class Citizens(Closing):
    """The simulated reader and scanner, and the thread that uses them when the kiosk's
    cue screenshot appears in `shots`."""

    def __init__(self, out: Path, shots: Path, day: str) -> None:
        self.reader = IdCardSimulator(out / "idcard")
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self._link = out / "scanner"
        self._link.unlink(missing_ok=True)
        self._link.symlink_to(os.ttyname(self._slave))
        self._shots, self._day = shots, day
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, name="demo-citizens", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        for n, (action, what, _shot) in enumerate(STEPS):
            cue = self._shots / f"cue-{n}.json"
            while not cue.exists():
                if self._stop.wait(0.1):
                    return
            if action == "swipe":
                self.reader.remove()
                time.sleep(0.6)  # the reader sees no card: the next one is a new swipe
                self.reader.present(RESIDENTS[what])
            else:
                os.write(self._master, what.format(day=self._day).encode() + b"\r\n")

    def wait(self, done: Callable[[], bool], timeout: float = 180.0) -> None:
        """Until the kiosk has seen every citizen (`done()`), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not done():
            raise RuntimeError("the kiosk did not get through the ID-card visits in time")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.reader.close()
        self._link.unlink(missing_ok=True)
        os.close(self._master)
        os.close(self._slave)
