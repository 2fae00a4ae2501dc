"""Remote tickets (线上取号) and appointments (预约): the hall's rules, booking codes and
masks (read from `[booking]` by `caller.core.config`; the rules in time are in
`caller.core.slots`).

`[booking]` holds the defaults of every service and the hall-wide blacklist rules;
`[booking.services.<id>]` overrides them for one service (docs: config/SCHEMA.md,
"`[booking]`"). Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import time
from typing import Any

LATE_RULES = ("walk_in", "refuse")
CHECKIN_RULES = ("next", "places")
CODE_DIGITS = 12
PHONE = re.compile(r"1[3-9]\d{9}")


@dataclass(frozen=True)
class ServiceBooking:
    """One service's rules for remote tickets and appointments."""

    remote: bool = False  # 线上取号 allowed
    remote_share: float = 0.3  # of the daily cap remote tickets may take (no cap: no limit)
    remote_hours: tuple[Any, ...] = ()  # config.Span: when remote tickets are taken; (): open hours
    appointments: bool = False  # 预约 allowed
    slot_minutes: int = 30
    slot_capacity: int = 4
    days_ahead: int = 5  # working days after today that can be booked
    earliest_booking: time = time(0, 0)  # the booking page takes bookings from …
    latest_booking: time = time(23, 59, 59)  # … until this time of day
    lead_minutes: int = 30  # the latest booking of a slot: this long before it starts
    cancel_before_minutes: int = 120  # cancel or change until this long before the slot
    checkin_before_minutes: int = 30  # check-in opens this long before the slot
    checkin_after_minutes: int = 15  # and closes this long after it starts
    late: str = "walk_in"  # after the window: "walk_in" (a normal ticket) or "refuse"
    checkin_rule: str = "next"  # "next": ahead of every walk-in; "places": checkin_places back
    checkin_places: int = 3


@dataclass(frozen=True)
class BookingConfig:
    """[booking]: the per-service rules (defaults and overrides) and the hall's blacklist."""

    services: dict[str, ServiceBooking] = field(default_factory=dict)  # only services that differ
    default: ServiceBooking = ServiceBooking()
    per_person_per_day: int = 1  # bookings one person may hold for one day
    no_show_limit: int = 2  # 失信: this many no-shows …
    cancel_limit: int = 5  # … or cancellations within strike_days …
    strike_days: int = 30
    ban_days: int = 30  # … and no booking for this many days
    sms_verification: bool = False  # a code by SMS before a booking (needs an SMS sender)

    def rules(self, service_id: str) -> ServiceBooking:
        return self.services.get(service_id, self.default)

    @property
    def any_enabled(self) -> bool:
        return any(r.remote or r.appointments for r in (self.default, *self.services.values()))


# ---------------------------------------------------------------------- codes and masks

def booking_code(secret: bytes, booking_id: int, attempt: int = 0) -> str:
    """The code a citizen types at the kiosk: 12 digits from a keyed hash of the booking's
    id (never the id itself), so nobody can count or guess their way to another booking."""
    digest = hmac.new(secret, f"booking:{booking_id}:{attempt}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def clean_code(text: str) -> str:
    """A code as typed or scanned: spaces and dashes dropped."""
    return re.sub(r"[\s-]", "", text)


def valid_phone(phone: str) -> bool:
    return PHONE.fullmatch(phone) is not None


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678."""
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) >= 8 else "*" * len(phone)
