"""Working days and opening hours: pure functions of the hall config and a local time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from caller.core.config import Hall, Service, Span
from caller.core.messages import say


def is_workday(hall: Hall, day: date) -> bool:
    if day in hall.extra_workdays:
        return True
    if day in hall.holidays:
        return False
    return day.weekday() in hall.open_days


def _in_season(start: tuple[int, int], end: tuple[int, int], day: date) -> bool:
    md = (day.month, day.day)
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end  # a season across new year


def hours_for(hall: Hall, service: Service | None, day: date) -> tuple[Span, ...]:
    """Opening spans of a day; an empty tuple means open all day.

    Precedence: the service's own hours, then the hall's weekday hours,
    then a season's hours, then the hall's hours.
    """
    if service is not None and service.hours is not None:
        return service.hours
    if day.weekday() in hall.weekday_hours:
        return hall.weekday_hours[day.weekday()]
    for season in hall.seasons:
        if _in_season(season.start, season.end, day):
            return season.hours
    return hall.hours


def _describe(spans: tuple[Span, ...]) -> str:
    return "、".join(str(s) for s in spans)


def open_status(hall: Hall, service: Service, local: datetime) -> tuple[bool, str]:
    """Whether a service issues tickets at this local time, and why not."""
    day = local.date()
    if day in hall.holidays and day not in hall.extra_workdays:
        return False, say("closed_holiday", service=service.name)
    if not is_workday(hall, day):
        return False, say("closed_day", service=service.name)
    spans = hours_for(hall, service, day)
    if not spans:
        return True, ""
    now = local.time()
    if any(s.start <= now < s.end for s in spans):
        return True, ""
    if now >= spans[-1].end:
        return False, say("closed_after", service=service.name, hours=_describe(spans))
    return False, say("closed_hours", service=service.name, hours=_describe(spans))


def business_day(hall: Hall, local: datetime) -> date:
    """The day a ticket counts for: numbering restarts at the configured reset time."""
    shifted = local - timedelta(hours=hall.reset_time.hour, minutes=hall.reset_time.minute)
    return shifted.date()


def add_working_days(hall: Hall, start: date, days: int) -> date:
    """The date `days` working days after `start` (weekends and holidays skipped)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_workday(hall, day):
            left -= 1
    return day

