"""Appointment slots and the windows of booking, cancelling and checking in: pure
functions of the hall config and a local time the caller passes in.

Slots are cut from a service's opening hours on the hall's working days
(`caller.core.schedule`), so a holiday or a closed afternoon has no slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from caller.core.booking import ServiceBooking
from caller.core.config import Hall, Service
from caller.core.schedule import hours_for, is_workday


@dataclass(frozen=True)
class Slot:
    day: date
    start: time
    end: time

    @property
    def key(self) -> str:
        return f"{self.start:%H:%M}"


def slots_of_day(hall: Hall, service: Service, rules: ServiceBooking, day: date) -> list[Slot]:
    """The day's slots, cut from the opening spans (a last piece shorter than a slot is
    dropped); none on a day the hall is closed."""
    if not rules.appointments or not is_workday(hall, day):
        return []
    out = []
    step = timedelta(minutes=rules.slot_minutes)
    for span in hours_for(hall, service, day):
        start = datetime.combine(day, span.start)
        end = datetime.combine(day, span.end)
        while start + step <= end:
            out.append(Slot(day, start.time(), (start + step).time()))
            start += step
    return out


def find_slot(hall: Hall, service: Service, rules: ServiceBooking, day: date,
              start: str) -> Slot | None:
    return next((s for s in slots_of_day(hall, service, rules, day) if s.key == start), None)


def bookable_days(hall: Hall, rules: ServiceBooking, today: date) -> list[date]:
    """Today (when a working day) and the next `days_ahead` working days."""
    days = [today] if is_workday(hall, today) else []
    day = today
    while len([d for d in days if d > today]) < rules.days_ahead:
        day += timedelta(days=1)
        if is_workday(hall, day):
            days.append(day)
    return days


def slot_start(slot: Slot, local: datetime) -> datetime:
    return datetime.combine(slot.day, slot.start, tzinfo=local.tzinfo)


def booking_open(rules: ServiceBooking, slot: Slot, local: datetime) -> str | None:
    """None when `slot` may be booked at `local`; else why not: "hours" (the page takes
    no bookings at this time of day), "too_late" (past the lead time)."""
    if not rules.earliest_booking <= local.time() < rules.latest_booking:
        return "hours"
    if local > slot_start(slot, local) - timedelta(minutes=rules.lead_minutes):
        return "too_late"
    return None


def may_cancel(rules: ServiceBooking, slot: Slot, local: datetime) -> bool:
    return local <= slot_start(slot, local) - timedelta(minutes=rules.cancel_before_minutes)


def checkin_window(rules: ServiceBooking, slot: Slot, local: datetime) -> tuple[datetime, datetime]:
    start = slot_start(slot, local)
    return (start - timedelta(minutes=rules.checkin_before_minutes),
            start + timedelta(minutes=rules.checkin_after_minutes))


def checkin_status(rules: ServiceBooking, slot: Slot, local: datetime) -> str:
    """"early", "on_time" or "late" for a check-in at `local` (the window includes both ends)."""
    opens, closes = checkin_window(rules, slot, local)
    if local < opens:
        return "early"
    return "on_time" if local <= closes else "late"


def remote_cap(service: Service, rules: ServiceBooking) -> int | None:
    """How many remote tickets a day may take: the share of the daily cap (None: no cap)."""
    if service.daily_cap is None:
        return None
    return int(service.daily_cap * rules.remote_share)
