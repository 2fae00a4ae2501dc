"""Appointments (预约) and the blacklist (失信) as the hub keeps them: pure state like
`caller.hub.appeals`, changed only through the engine's commands.

In memory: every booking of the business day and later (for capacity, one booking per
person per day, check-in), the strikes (no-shows, cancellations) of the last
`strike_days`, and the bans that still matter. Older bookings live in the store only.

What a booking keeps of its holder: the person key (keyed hash of the ID number,
`caller.core.personal`), the last four characters, a keyed hash of phone + the ID's last
six (the kiosk's second way to check in), and the name and phone as given, which only
the clerk serving the ticket and the manager see; all of it is erased after
`[personal] retention_days` (`Store.erase_holders`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from caller.core.booking import mask_phone
from caller.core.personal import mask_name

TAKEN = ("booked", "checked_in", "late")  # states that hold a place in their slot
BOOKING_STATES = (*TAKEN, "cancelled", "no_show")


@dataclass
class Booking:
    id: int
    code: str
    service: str
    day: str  # ISO date of the slot
    slot: str  # "HH:MM", the slot's start
    slot_end: str
    person_key: str | None
    id_last4: str | None
    checkin_key: str | None  # keyed hash of phone + the ID number's last six
    name: str | None  # as given; shown to the serving clerk and the manager only
    phone: str | None
    lang: str
    made_at: datetime
    state: str = "booked"
    updated_at: datetime | None = None
    ticket_id: int | None = None
    ticket_number: str | None = None


@dataclass
class Ban:
    id: int
    person_key: str | None
    id_last4: str | None
    name: str | None  # masked
    reason: str  # "no_show" | "cancel"
    strikes: int
    since: str  # ISO date
    until: str  # ISO date, the last day without bookings
    lifted_at: datetime | None = None
    lifted_by: str | None = None


BOOKING_FIELDS = tuple(f.name for f in fields(Booking))
BAN_FIELDS = tuple(f.name for f in fields(Ban))


def checkin_key(secret: bytes, phone: str, id_last6: str) -> str:
    return hmac.new(secret, f"checkin:{phone}:{id_last6.upper()}".encode(),
                    hashlib.sha256).hexdigest()


def _plain(obj: Any) -> dict[str, Any]:
    return {k: v.isoformat(timespec="seconds") if isinstance(v, datetime) else v
            for k, v in asdict(obj).items()}


@dataclass
class Strike:
    person_key: str
    day: str  # ISO date it happened
    kind: str  # "no_show" | "cancel"


class Bookings:
    def __init__(self) -> None:
        self.live: dict[int, Booking] = {}
        self.by_code: dict[str, int] = {}
        self.strikes: list[Strike] = []
        self.bans: dict[int, Ban] = {}
        self.next_id = 1
        self.next_ban = 1
        self._dirty: dict[int, Booking] = {}
        self._dirty_bans: dict[int, Ban] = {}

    def restore(self, live: list[Booking], strikes: list[Strike], bans: list[Ban],
                next_id: int, next_ban: int) -> None:
        self.live = {b.id: b for b in live}
        self.by_code = {b.code: b.id for b in live}
        self.strikes, self.bans = list(strikes), {b.id: b for b in bans}
        self.next_id, self.next_ban = next_id, next_ban

    def take_changes(self) -> tuple[list[Booking], list[Ban]]:
        changed, bans = list(self._dirty.values()), list(self._dirty_bans.values())
        self._dirty.clear()
        self._dirty_bans.clear()
        return changed, bans

    def touch(self, booking: Booking) -> None:
        self._dirty[booking.id] = booking

    # --- lookups

    def taken(self, service: str, day: str, slot: str) -> int:
        return sum(1 for b in self.live.values()
                   if b.service == service and b.day == day and b.slot == slot and b.state in TAKEN)

    def of_person(self, person_key: str, day: str, but: int | None = None) -> list[Booking]:
        return [b for b in self.live.values() if b.person_key == person_key and b.day == day
                and b.state in TAKEN and b.id != but]

    def by_checkin_key(self, key: str, day: str) -> list[Booking]:
        return sorted((b for b in self.live.values() if b.checkin_key == key and b.day == day),
                      key=lambda b: b.slot)

    def of_person_today(self, person_key: str, day: str) -> list[Booking]:
        return sorted((b for b in self.live.values() if b.person_key == person_key
                       and b.day == day), key=lambda b: b.slot)

    def find(self, code: str) -> Booking | None:
        bid = self.by_code.get(code)
        return self.live.get(bid) if bid is not None else None

    def active_ban(self, person_key: str, today: str) -> Ban | None:
        return next((b for b in self.bans.values() if b.person_key == person_key
                     and b.lifted_at is None and b.since <= today <= b.until), None)

    # --- changes

    def add(self, booking: Booking) -> None:
        self.live[booking.id] = booking
        self.by_code[booking.code] = booking.id
        self.next_id = max(self.next_id, booking.id + 1)
        self.touch(booking)

    def strike(self, person_key: str | None, day: str, kind: str, *, limit: int, window_days: int,
               ban_days: int, id_last4: str | None, name: str | None) -> Ban | None:
        """Count a no-show or a cancellation; return the ban it starts, if any. Strikes
        before the person's latest ban (its start or its lifting) do not count again."""
        if person_key is None:
            return None
        self.strikes.append(Strike(person_key, day, kind))
        since = (date.fromisoformat(day) - timedelta(days=window_days - 1)).isoformat()
        for ban in self.bans.values():
            if ban.person_key == person_key:
                since = max(since, ban.until if ban.lifted_at is None
                            else ban.lifted_at.date().isoformat())
        count = sum(1 for s in self.strikes if s.person_key == person_key and s.kind == kind
                    and s.day >= since)
        if count < limit or self.active_ban(person_key, day) is not None:
            return None
        until = (date.fromisoformat(day) + timedelta(days=ban_days)).isoformat()
        ban = Ban(self.next_ban, person_key, id_last4, mask_name(name) if name else None, kind,
                  count, day, until)
        self.next_ban += 1
        self.bans[ban.id] = ban
        self._dirty_bans[ban.id] = ban
        return ban

    def lift(self, ban: Ban, by: str, at: datetime) -> None:
        ban.lifted_at, ban.lifted_by = at, by
        self._dirty_bans[ban.id] = ban

    def roll(self, today: str, strike_days: int) -> None:
        """Forget bookings of earlier days (the engine settled them), old strikes and old bans."""
        for b in [b for b in self.live.values() if b.day < today]:
            del self.live[b.id]
            self.by_code.pop(b.code, None)
        since = (date.fromisoformat(today) - timedelta(days=strike_days)).isoformat()
        self.strikes = [s for s in self.strikes if s.day >= since]
        self.bans = {i: b for i, b in self.bans.items() if b.until >= since}

    # --- views

    @staticmethod
    def view(b: Booking) -> dict[str, Any]:
        """What the hub says about a booking: never the code (a credential, in the booking
        and check-in replies only), the holder masked, in `holder` (taken out for every
        role but the managing ones, `protocol.shown`)."""
        return {
            "id": b.id, "service": b.service, "day": b.day, "slot": b.slot,
            "slot_end": b.slot_end, "state": b.state, "ticket": b.ticket_number,
            "holder": {"name": mask_name(b.name) if b.name else None,
                       "phone": mask_phone(b.phone) if b.phone else None,
                       "last4": b.id_last4},
        }

    @staticmethod
    def ban_view(ban: Ban) -> dict[str, Any]:
        plain = _plain(ban)
        plain.pop("person_key")
        return plain

    def dump(self) -> dict[str, Any]:
        return {"live": {i: _plain(b) for i, b in sorted(self.live.items())},
                "strikes": [asdict(s) for s in self.strikes],
                "bans": {i: _plain(b) for i, b in sorted(self.bans.items())},
                "next": self.next_id, "next_ban": self.next_ban}
