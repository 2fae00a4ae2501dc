"""The engine's commands for remote tickets (线上取号), appointments (预约) and the
blacklist (失信), as a part of `caller.hub.engine.Engine` (which mixes this class in).

Pure like the rest of the engine: the time is the `local` each command gets. The
state is `self.bookings` (`caller.hub.bookings`); tickets are made by the engine's one
`_new_ticket`, so remote tickets and appointments are real tickets in the same numbering.

One check-in path (`_checkin`) takes a booking code (typed, or scanned from the
booking's QR code), the phone number with the ID number's last six, or the ID card
itself (`person`, as a swipe sends it; the hub hashes it into the person key).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

from caller.core.booking import booking_code, clean_code, valid_phone
from caller.core.config import Service
from caller.core.errors import Refused
from caller.core.messages import say
from caller.core.personal import Person, mask_name, person_from_card
from caller.core.protocol import Event
from caller.core.slots import (
    Slot,
    bookable_days,
    booking_open,
    checkin_status,
    checkin_window,
    find_slot,
    may_cancel,
    remote_cap,
    slots_of_day,
)
from caller.hub.bookings import Booking, checkin_key

CODE_ATTEMPTS = 20


class BookingDesk:
    """Mixed into `caller.hub.engine.Engine` (whose state and helpers `self` has)."""

    def booking_commands(self) -> dict[str, Callable[[dict, datetime], dict]]:
        return {
            "booking_slots": self._booking_slots,
            "book": self._book,
            "change_booking": self._change_booking,
            "cancel_booking": self._cancel_booking,
            "booking_status": self._booking_status,
            "check_in": self._checkin,
            "remote_ticket": self._remote_ticket,
            "list_bookings": self._list_bookings,
            "list_bans": self._list_bans,
            "lift_ban": self._lift_ban,
        }

    # ------------------------------------------------------------------ helpers

    def _booking_service(self, cmd: dict, what: str = "appointments") -> Service:
        sid = self._arg(cmd, "service")
        service = self.config.services.get(sid)
        if service is None:
            raise Refused("unknown_service", sid)
        if not getattr(self.config.booking.rules(sid), what):
            code = "booking_closed" if what == "appointments" else "remote_closed"
            raise Refused(code, message=say(code, service=service.name))
        return service

    def _slot(self, service: Service, day_text: str, start: str, local: datetime,
              lang: str) -> Slot:
        """The slot asked for, if it can be booked now."""
        rules = self.config.booking.rules(service.id)
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise Refused("bad_request", "day 应为日期，如 2026-12-03") from None
        slot = find_slot(self.config.hall, service, rules, day, start) \
            if day in bookable_days(self.config.hall, rules, local.date()) else None
        if slot is None:
            raise Refused("slot_unavailable", message=say("slot_unavailable", lang))
        why = booking_open(rules, slot, local)
        if why == "hours":
            raise Refused("booking_hours", message=say(
                "booking_hours", lang, start=f"{rules.earliest_booking:%H:%M}",
                end=f"{rules.latest_booking:%H:%M}"))
        if why is not None:
            raise Refused("slot_unavailable", message=say("slot_unavailable", lang))
        if self.bookings.taken(service.id, slot.day.isoformat(), slot.key) >= rules.slot_capacity:
            raise Refused("slot_full", message=say("slot_full", lang))
        return slot

    def _booking_of(self, cmd: dict, lang: str) -> Booking:
        booking = self.bookings.find(clean_code(self._arg(cmd, "code")))
        if booking is None:
            raise Refused("unknown_booking", message=say("unknown_booking", lang))
        return booking

    @staticmethod
    def _booking_slot(b: Booking) -> Slot:
        return Slot(date.fromisoformat(b.day), time.fromisoformat(b.slot),
                    time.fromisoformat(b.slot_end))

    def _strike(self, b: Booking, kind: str) -> None:
        policy = self.config.booking
        limit = policy.no_show_limit if kind == "no_show" else policy.cancel_limit
        day = self.meta.day if kind == "no_show" else b.updated_at.date().isoformat()
        ban = self.bookings.strike(b.person_key, day, kind, limit=limit,
                                   window_days=policy.strike_days, ban_days=policy.ban_days,
                                   id_last4=b.id_last4, name=b.name)
        if ban is not None:
            self._emit(Event.BAN_STARTED, ban=self.bookings.ban_view(ban))

    def _with_code(self, b: Booking, local: datetime) -> dict:
        """The booking as its holder sees it: with the code and the check-in window."""
        rules = self.config.booking.rules(b.service)
        opens, closes = checkin_window(rules, self._booking_slot(b), local)
        return {**self.bookings.view(b), "code": b.code,
                "service_name": self.config.services[b.service].name,
                "checkin": {"from": f"{opens:%H:%M}", "to": f"{closes:%H:%M}"}}

    # ------------------------------------------------------------------ the citizen's side

    def _booking_slots(self, cmd: dict, local: datetime) -> dict:
        """Every slot that could be booked in the coming days, with its free places."""
        service = self._booking_service(cmd)
        rules = self.config.booking.rules(service.id)
        days = []
        for day in bookable_days(self.config.hall, rules, local.date()):
            slots = []
            for slot in slots_of_day(self.config.hall, service, rules, day):
                free = rules.slot_capacity - self.bookings.taken(service.id, day.isoformat(), slot.key)
                slots.append({"start": slot.key, "end": f"{slot.end:%H:%M}", "free": max(free, 0),
                              "open": booking_open(rules, slot, local) is None})
            days.append({"day": day.isoformat(), "slots": slots})
        return {"service": service.id, "service_name": service.name, "days": days,
                "capacity": rules.slot_capacity}

    def _book(self, cmd: dict, local: datetime) -> dict:
        lang = self._lang(cmd)
        service = self._booking_service(cmd)
        slot = self._slot(service, self._arg(cmd, "day"), self._arg(cmd, "slot"), local, lang)
        phone = self._phone(cmd, lang)
        secret = self.config.personal.secret
        if secret is None:
            raise Refused("id_unavailable", message=say("id_unavailable", lang))
        name = self._arg(cmd, "name").strip()
        number = self._arg(cmd, "id_number").strip().upper()
        if not name or len(name) > 30 or not name.isprintable():
            raise Refused("bad_name", message=say("bad_name", lang))
        try:
            person = person_from_card(secret, number, name, None)
        except ValueError:
            raise Refused("bad_id_number", message=say("booking_bad_id", lang)) from None
        day = slot.day.isoformat()
        ban = self.bookings.active_ban(person.key, self.meta.day)
        if ban is not None:
            raise Refused("booking_banned", message=say("booking_banned", lang, until=ban.until))
        if len(self.bookings.of_person(person.key, day)) >= self.config.booking.per_person_per_day:
            raise Refused("booking_exists", message=say("booking_exists", lang, day=day))
        bid = self.bookings.next_id
        code = next((c for c in (booking_code(secret, bid, n) for n in range(CODE_ATTEMPTS))
                     if c not in self.bookings.by_code), None)
        if code is None:  # twenty 12-digit codes all taken: not in this universe
            raise Refused("internal_error")
        b = Booking(id=bid, code=code, service=service.id, day=day, slot=slot.key,
                    slot_end=f"{slot.end:%H:%M}", person_key=person.key, id_last4=person.last4,
                    checkin_key=checkin_key(secret, phone, number[-6:]), name=name, phone=phone,
                    lang=lang, made_at=local, updated_at=local)
        self.bookings.add(b)
        self._emit(Event.BOOKING_MADE, booking=self.bookings.view(b))
        return {"booking": self._with_code(b, local)}

    def _change_booking(self, cmd: dict, local: datetime) -> dict:
        lang = self._lang(cmd)
        b = self._booking_of(cmd, lang)
        self._may_still_change(b, local, lang)
        service = self.config.services[b.service]
        before = {"day": b.day, "slot": b.slot}
        if (self._arg(cmd, "day"), self._arg(cmd, "slot")) == (b.day, b.slot):
            return {"booking": self._with_code(b, local)}
        slot = self._slot(service, self._arg(cmd, "day"), self._arg(cmd, "slot"), local, lang)
        day = slot.day.isoformat()
        if b.person_key and len(self.bookings.of_person(b.person_key, day, but=b.id)) \
                >= self.config.booking.per_person_per_day:
            raise Refused("booking_exists", message=say("booking_exists", lang, day=day))
        b.day, b.slot, b.slot_end, b.updated_at = day, slot.key, f"{slot.end:%H:%M}", local
        self.bookings.touch(b)
        self._emit(Event.BOOKING_CHANGED, booking=self.bookings.view(b), **{"from": before})
        return {"booking": self._with_code(b, local)}

    def _may_still_change(self, b: Booking, local: datetime, lang: str) -> None:
        if b.state != "booked":
            raise Refused("booking_ended", message=say("booking_ended", lang))
        rules = self.config.booking.rules(b.service)
        if not may_cancel(rules, self._booking_slot(b), local):
            raise Refused("cancel_too_late", message=say(
                "cancel_too_late", lang, minutes=rules.cancel_before_minutes))

    def _cancel_booking(self, cmd: dict, local: datetime) -> dict:
        lang = self._lang(cmd)
        b = self._booking_of(cmd, lang)
        self._may_still_change(b, local, lang)
        b.state, b.updated_at = "cancelled", local
        self.bookings.touch(b)
        self._emit(Event.BOOKING_CANCELLED, booking=self.bookings.view(b))
        self._strike(b, "cancel")
        return {"booking": self._with_code(b, local)}

    def _booking_status(self, cmd: dict, local: datetime) -> dict:
        lang = self._lang(cmd)
        b = self._booking_of(cmd, lang)
        rules = self.config.booking.rules(b.service)
        view = self._with_code(b, local)
        view["can_change"] = b.state == "booked" and may_cancel(rules, self._booking_slot(b), local)
        return {"booking": view}

    def _remote_ticket(self, cmd: dict, local: datetime) -> dict:
        """线上取号: a real ticket in the same numbering, one live per phone and service."""
        lang = self._lang(cmd)
        service = self._booking_service(cmd, "remote")
        rules = self.config.booking.rules(service.id)
        phone = self._phone(cmd, lang)
        for t in self.tickets.values():
            if t.phone == phone and t.service == service.id and t.source == "remote" \
                    and t.state in ("waiting", "called", "held"):
                return self._check_in(t)
        is_open, reason = self._service_open(service, local)
        if not is_open:
            raise Refused("service_closed", message=reason)
        now = local.time()
        if rules.remote_hours and not any(s.start <= now < s.end for s in rules.remote_hours):
            raise Refused("remote_closed", message=say(
                "remote_hours", lang, service=service.name,
                hours="、".join(str(s) for s in rules.remote_hours)))
        cap = remote_cap(service, rules)
        counter = self.counters.get(service.id)
        if cap is not None and (counter.remote if counter else 0) >= cap:
            raise Refused("remote_full", message=say("remote_full", lang, service=service.name))
        t, ahead = self._new_ticket(service, local, priority=False, lang=lang, source="remote",
                                    phone=phone)
        return self._ticket_reply(t, ahead) | {"existing": False, "green_channel": False}

    # ------------------------------------------------------------------ the kiosk: check-in

    def _checkin_candidates(self, cmd: dict, lang: str) -> list[Booking]:
        today = self.meta.day
        if cmd.get("code") is not None:
            b = self._booking_of(cmd, lang)
            if b.day != today:
                raise Refused("booking_not_today", message=say(
                    "booking_not_today", lang, day=b.day, slot=b.slot))
            return [b]
        if cmd.get("phone") is not None:
            phone = self._phone(cmd, lang)
            last6 = self._arg(cmd, "id_last6").strip().upper()
            secret = self.config.personal.secret
            if secret is None:
                raise Refused("id_unavailable", message=say("id_unavailable", lang))
            return self.bookings.by_checkin_key(checkin_key(secret, phone, last6), today)
        person = self._person(cmd)
        if person is None:
            raise Refused("bad_request", "签到需要 code、phone 与 id_last6，或 person")
        return self.bookings.of_person_today(person.key, today)

    def _checkin(self, cmd: dict, local: datetime) -> dict:
        """预约签到: the one path for a typed or scanned code, phone + ID last six, or a card."""
        lang = self._lang(cmd)
        found = self._checkin_candidates(cmd, lang)
        if not found:
            raise Refused("unknown_booking", message=say("unknown_booking", lang))
        for b in found:  # already checked in: the kiosk shows and reprints that ticket
            t = self.tickets.get(b.ticket_id) if b.ticket_id else None
            if t is not None and t.state in ("waiting", "called", "held"):
                return self._check_in(t) | {"booking": self.bookings.view(b), "late": b.state == "late"}
        waiting = [b for b in found if b.state == "booked"]
        if not waiting:
            raise Refused("booking_ended", message=say("booking_ended", lang))
        b = waiting[0]
        rules = self.config.booking.rules(b.service)
        slot = self._booking_slot(b)
        status = checkin_status(rules, slot, local)
        opens, closes = checkin_window(rules, slot, local)
        if status == "early":
            raise Refused("checkin_early", message=say(
                "checkin_early", lang, slot=b.slot, opens=f"{opens:%H:%M}"))
        service = self.config.services[b.service]
        person = self._booking_person(b)
        if status == "late":
            if rules.late == "refuse":
                raise Refused("checkin_late", message=say(
                    "checkin_late", lang, slot=b.slot, closes=f"{closes:%H:%M}"))
            is_open, reason = self._service_open(service, local)
            if not is_open:
                raise Refused("service_closed", message=reason)
            t, ahead = self._new_ticket(service, local, priority=False, lang=lang, person=person,
                                        source="booking", phone=b.phone, contact_name=b.name)
            b.state = "late"
        else:
            t, ahead = self._new_ticket(
                service, local, priority=rules.checkin_rule == "next", lang=lang, person=person,
                caps=False, source="booking", phone=b.phone, contact_name=b.name,
                places=rules.checkin_places if rules.checkin_rule == "places" else None)
            b.state = "checked_in"
        b.updated_at, b.ticket_id, b.ticket_number = local, t.id, t.number
        self.bookings.touch(b)
        view = self.bookings.view(b)
        self._emit(Event.BOOKING_CHECKED_IN, booking=view, ticket=self.ticket_view(t),
                   late=status == "late")
        return self._ticket_reply(t, ahead) | {"booking": view, "late": status == "late",
                                               "existing": False, "green_channel": False}

    @staticmethod
    def _booking_person(b: Booking) -> Person | None:
        if b.person_key is None:
            return None
        return Person(b.person_key, mask_name(b.name or ""), b.id_last4 or "")

    def settle_bookings(self, local: datetime) -> None:
        """Bookings nobody checked in for: no-shows once their day ends (or, when late
        arrivals are refused, once the check-in window closes); each is a strike."""
        today = self.meta.day
        for b in list(self.bookings.live.values()):
            if b.state != "booked":
                continue
            rules = self.config.booking.rules(b.service)
            over = b.day < today or (b.day == today and rules.late == "refuse"
                                     and checkin_status(rules, self._booking_slot(b), local) == "late")
            if over:
                b.state, b.updated_at = "no_show", local
                self.bookings.touch(b)
                self._emit(Event.BOOKING_NO_SHOW, booking=self.bookings.view(b))
                self._strike(b, "no_show")
        self.bookings.roll(today, self.config.booking.strike_days)

    # ------------------------------------------------------------------ the manager

    def _list_bookings(self, cmd: dict, local: datetime) -> dict:
        day = self._arg(cmd, "day", required=False) or self.meta.day
        found = sorted((b for b in self.bookings.live.values() if b.day == day),
                       key=lambda b: (b.slot, b.service, b.id))
        return {"day": day, "bookings": [self.bookings.view(b) for b in found]}

    def _list_bans(self, cmd: dict, local: datetime) -> dict:
        today = self.meta.day
        return {"bans": [self.bookings.ban_view(b) for b in self.bookings.bans.values()
                         if b.lifted_at is None and b.until >= today]}

    def _lift_ban(self, cmd: dict, local: datetime) -> dict:
        ban = self.bookings.bans.get(self._arg(cmd, "ban", int))
        if ban is None or ban.lifted_at is not None:
            raise Refused("unknown_ban", str(cmd.get("ban")))
        self.bookings.lift(ban, self._arg(cmd, "by"), local)
        view = self.bookings.ban_view(ban)
        self._emit(Event.BAN_LIFTED, ban=view)
        return {"ban": view}

    # ------------------------------------------------------------------ arguments

    @staticmethod
    def _lang(cmd: dict) -> str:
        return cmd["lang"] if isinstance(cmd.get("lang"), str) else "zh"

    def _phone(self, cmd: dict, lang: str) -> str:
        phone = self._arg(cmd, "phone").strip().replace(" ", "").replace("-", "")
        if not valid_phone(phone):
            raise Refused("bad_phone", message=say("bad_phone", lang))
        return phone
