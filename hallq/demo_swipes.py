"""The real-name part of the headless demo: citizens swiping ID cards and scanning codes at
the kiosk, on a simulated SAM reader and a simulated serial scanner.

Before the busy hour a kiosk run walks through: a swipe on the confirm screen, the
same citizen swiping again (the live ticket comes back and prints again), an elderly
citizen routed to the green channel by age, an expired card, a citizen checking in an
appointment by swiping on the home screen, another by scanning the booking's QR code, and
the first ticket's own QR code (its `/p/t/` page link). Few visits: the hall clock runs
fast and the busy hour must still find the services open (无法识别 and the other bad
scans are in tests/kiosk). The demo's thread follows the kiosk's screenshots and plays the citizen at the
right moment. The hall is the demo hall with `civil` taking ID cards (one live ticket per
person, green channel from 70) and `family` appointments; the two bookings are made for today
through the hub (`book_today`) before the kiosk starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from caller.core.client import HubClient
from caller.core.config import HallConfig
from caller.core.personal import new_secret
from caller.core.protocol import Role
from drivers.closing import Closing
from drivers.idcard.identities import RESIDENTS
from drivers.idcard.simulator import IdCardSimulator

SERVICE = "civil"
BOOKED = ("li", "zhao")  # residents with an appointment today: li swipes, zhao scans
# Their appointments are for another service than the busy hour's (hallq/demo_bookings.py
# books civil and labour on short slots): check-in stays open all morning here, as the
# demo's clock runs fast.
BOOKED_SERVICE = "family"


@dataclass(frozen=True)
class Visit:
    """One citizen at the kiosk: ``swipe`` a card on the service's confirm screen,
    ``swipe-home`` a card on the home screen, or ``scan`` a code (``{booking}``: zhao's
    booking QR; ``{ticket}``: the QR printed on the first ticket)."""

    action: str
    what: str
    shot: str
    screen: str  # the kiosk's screen after it


VISITS = [
    Visit("swipe", "zhang", "swipe-first", "result"),
    Visit("swipe", "zhang", "swipe-again", "result"),
    Visit("swipe", "wang", "swipe-elderly", "result"),
    Visit("swipe-home", "chen", "card-expired", "refused"),
    Visit("swipe-home", "li", "swipe-checkin", "result"),
    Visit("scan", "{booking}", "scan-booking", "result"),
    Visit("scan", "{ticket}", "scan-ticket", "ticket_state"),
]


def real_name_config(config_path: str, out: Path) -> Path:
    """A copy of the hall config with `civil` taking ID cards, `family` appointments (checking
    in all morning: the demo's clock runs fast), and the kiosk's reader and scanner on the
    simulators' links in `out`."""
    text = Path(config_path).read_text(encoding="utf-8")
    text = text.replace(f'id = "{SERVICE}"\n', f'id = "{SERVICE}"\none_live_ticket_per_person = true\n'
                        'green_channel_age = 70\n', 1)
    text = text.replace('token = "demo-kiosk-1"\n', f'token = "demo-kiosk-1"\nidcard = "{out / "idcard"}"\n'
                        f'scanner = "{out / "scanner"}"\n', 1)
    secret = out / "hall.secret"
    secret.unlink(missing_ok=True)
    new_secret(secret)
    path = out / "hall.toml"
    path.write_text(text + '\n[personal]\nsecret_file = "hall.secret"\n'
                    f'\n[booking.services.{BOOKED_SERVICE}]\nappointments = true\nlead_minutes = 0\n'
                    'checkin_before_minutes = 240\ncheckin_after_minutes = 240\n', encoding="utf-8")
    return path


def book_today(config: HallConfig, url: str, day: str) -> dict[str, str]:
    """The booking codes of BOOKED, booked for `day` in its first slot still open."""
    web = next(d for d in config.devices.values() if d.role == Role.WEB)

    async def book() -> dict[str, str]:
        async with HubClient(url, web.id, web.token) as client:
            slots = await client.request("booking_slots", service=BOOKED_SERVICE, timeout=30)
            start = next(s["start"] for d in slots.get("days", []) if d["day"] == day
                         for s in d["slots"] if s["open"] and s["free"] >= len(BOOKED))
            codes = {}
            for n, who in enumerate(BOOKED):
                card = RESIDENTS[who]
                reply = await client.request("book", service=BOOKED_SERVICE, day=day, slot=start,
                                             name=card.name, phone=f"1390000{n:04d}",
                                             id_number=card.id_number, timeout=30)
                if not reply["ok"]:
                    raise RuntimeError(f"the demo could not book {who}'s appointment: {reply['error']}")
                codes[who] = reply["booking"]["code"]
            return codes

    return asyncio.run(book())


def script_lines(service_name: str) -> list[str]:
    """The steps of the kiosk that the citizens of VISITS visit (`service_name`: SERVICE's)."""
    lines, printed = ["wait connected"], 0
    for n, visit in enumerate(VISITS):
        if visit.action == "swipe":
            lines += [f"tap service:{SERVICE}", "wait screen confirm"]
        lines += [f"shot cue-{n}", f"wait screen {visit.screen}"]
        if visit.screen == "ticket_state":  # the hub's answer, not the screen's 正在查询…
            lines.append(f"wait text {service_name} · 排队进度")
        if visit.screen == "result":
            printed += 1
            lines += [f"wait printed {printed}", f"shot {visit.shot}", "tap done", "wait screen home"]
        else:
            lines += [f"shot {visit.shot}", "tap home", "wait screen home"]
    return lines


class Citizens(Closing):
    """The simulated reader and scanner, and the thread that uses them when the kiosk's
    cue screenshot appears in `shots`. `booking` is the text of the booking QR code zhao
    scans."""

    def __init__(self, out: Path, shots: Path, booking: str) -> None:
        self.reader = IdCardSimulator(out / "idcard")
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self._link = out / "scanner"
        self._link.unlink(missing_ok=True)
        self._link.symlink_to(os.ttyname(self._slave))
        self._shots, self._booking = shots, booking
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, name="demo-citizens", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        for n, visit in enumerate(VISITS):
            if not self._seen(f"cue-{n}"):
                return
            if visit.action in ("swipe", "swipe-home"):
                self.reader.swipe(RESIDENTS[visit.what])  # a new swipe, even of the same card
                if not self._seen(visit.shot):
                    return
                self.reader.remove()  # the citizen takes the card back (no kiosk started
                # later finds it on the reader)
            else:
                text = visit.what.format(booking=self._booking, ticket=self._first_ticket_qr())
                os.write(self._master, text.encode() + b"\r\n")

    def _seen(self, shot: str) -> bool:
        """Wait until the kiosk has taken the screenshot `shot`; False when stopped first."""
        while not (self._shots / f"{shot}.json").exists():
            if self._stop.wait(0.1):
                return False
        return True

    def _first_ticket_qr(self) -> str:
        """What the QR code on the first visit's ticket holds, as the kiosk showed it."""
        shot = json.loads((self._shots / f"{VISITS[0].shot}.json").read_text(encoding="utf-8"))
        return shot["widgets"]["qr"]["qr_data"]

    def wait(self, done: Callable[[], bool], timeout: float = 240.0) -> None:
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
