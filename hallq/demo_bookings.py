"""The demo hour's remote tickets (线上取号) and appointments (预约), #16 §2 §3.

Three citizens take a number from their phone (the hub's `remote_ticket`, as the phone
pages of `hallq web` send it, on the web device). Four booked a slot when the hour
begins: one checks in at the kiosk with the booking code, one with the phone number and
the ID number's last six (the hub's `check_in`, as the kiosk sends it, on the kiosk
device), one comes after the check-in window (a walk-in's ticket then), and one never
comes (labour refuses late arrivals: a no-show once its window closes). The demo hall's
rules are cut to fit a compressed hour (`RULES`). Names and phone numbers are never
printed, only masked names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from caller.core.client import HubClient
from caller.core.config import HallConfig
from caller.core.personal import check_character, mask_name
from caller.core.protocol import Role
from hallq.demo_hour import HourPlan
from hallq.demo_swipes import BOOKED as SWIPED

# 10-minute slots that can be booked until they start and checked in until 3 minutes
# after: the whole story (booking, check-in, too late, no-show) fits in the quick demo.
RULES = """
[booking]
slot_minutes = 10
lead_minutes = 0
checkin_after_minutes = 3

[booking.services.civil]
appointments = true
remote = true

[booking.services.labour]
appointments = true
remote = true
late = "refuse"
"""
AHEAD = timedelta(minutes=3)  # the slot booked starts at least this far ahead
LATE = timedelta(minutes=1)  # the late citizen comes this long after the window closed


@dataclass(frozen=True)
class Booker:
    name: str
    phone: str
    service: str
    comes: str  # "code" | "phone": checks in on time that way; "late"; "never"

    @property
    def id_number(self) -> str:
        first17 = f"3301061985{self.phone[-2:]}15{self.phone[-3:]}"
        return first17 + check_character(first17)


BOOKERS = (Booker("刘洋", "13811110001", "civil", "code"),
           Booker("赵敏", "13811110002", "labour", "phone"),
           Booker("孙丽", "13811110003", "civil", "late"),
           Booker("周强", "13811110004", "labour", "never"))
REMOTE = (("13911110001", "civil"), ("13911110002", "labour"), ("13911110003", "civil"))
# What the hall's report must count at the end (caller.manager.booking_stats), with the
# two appointments checked in by card and by QR code before the hour (hallq/demo_swipes.py)
EXPECTED = {"booked": len(BOOKERS) + len(SWIPED), "checked_in": 3 + len(SWIPED), "late": 1,
            "no_show": 1, "cancelled": 0, "remote": len(REMOTE)}


def booking_config(path: Path) -> Path:
    """Add the demo's `[booking]` rules to the demo's copy of the hall config (which has a
    hall secret already); the same path."""
    with path.open("a", encoding="utf-8") as out:
        out.write(RULES)
    return path


class Appointments:
    """The citizens above, on the hub's clock (it runs `plan.speed` times faster)."""

    def __init__(self, config: HallConfig, plan: HourPlan, hub_url: str,
                 report: Callable[[str], None]) -> None:
        self.config, self.plan, self.url, self.report = config, plan, hub_url, report
        self.done = False
        self._started: tuple[datetime, float] | None = None

    def _device(self, role: str):
        return next(d for d in self.config.devices.values() if d.role == role)

    def hall_now(self) -> datetime:
        assert self._started is not None
        at, mono = self._started
        return at + timedelta(seconds=(asyncio.get_running_loop().time() - mono) * self.plan.speed)

    async def until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, self.plan.real((when - self.hall_now()).total_seconds())))

    async def run(self) -> None:
        web_device, kiosk_device = self._device(Role.WEB), self._device(Role.KIOSK)
        web = await HubClient(self.url, web_device.id, web_device.token).start(timeout=30)
        kiosk = await HubClient(self.url, kiosk_device.id, kiosk_device.token).start(timeout=30)
        try:
            assert web.welcome is not None
            self._started = (datetime.fromisoformat(web.welcome["now"]),
                             asyncio.get_running_loop().time())
            await self._day(web, kiosk)
        finally:
            self.done = True
            await web.close()
            await kiosk.close()

    async def _ask(self, client: HubClient, what: str, kind: str, **args) -> dict | None:
        reply = await client.request(kind, timeout=30, **args)
        if not reply["ok"]:
            self.report(f"  appointments: {what} refused: {reply['error']['message']}")
            return None
        return reply

    async def _day(self, web: HubClient, kiosk: HubClient) -> None:
        start = self.hall_now()
        booked: list[tuple[Booker, dict]] = []
        for b in BOOKERS:
            slot = await self._first_slot(web, b.service, start + AHEAD)
            made = slot and await self._ask(web, f"{mask_name(b.name)}'s booking", "book",
                                            service=b.service, day=slot[0], slot=slot[1],
                                            name=b.name, phone=b.phone, id_number=b.id_number)
            if made:
                booked.append((b, made["booking"]))
                self.report(f"  citizen {mask_name(b.name)} booked {b.service} {slot[0]} {slot[1]}")
        steps = [(start + timedelta(minutes=0.5 + n), "remote", phone, service)
                 for n, (phone, service) in enumerate(REMOTE)]
        for b, booking in booked:
            slot = datetime.combine(datetime.fromisoformat(booking["day"]).date(),
                                    time.fromisoformat(booking["slot"]), tzinfo=start.tzinfo)
            closes = slot + timedelta(minutes=self.config.booking.rules(b.service).checkin_after_minutes)
            when = {"code": start + timedelta(minutes=1), "phone": start + timedelta(minutes=2),
                    "late": closes + LATE, "never": closes + LATE}[b.comes]
            steps.append((when, b.comes, b, booking))
        for when, kind, who, what in sorted(steps, key=lambda s: s[0]):
            await self.until(when)
            if kind == "remote":
                reply = await self._ask(web, "a remote ticket", "remote_ticket", service=what,
                                        phone=who)
                if reply:
                    self.report(f"  citizen takes {reply['ticket']['number']} from a phone (线上取号)")
            elif kind == "never":
                await self._no_show(web, who, what)
            else:
                await self._check_in(kiosk, kind, who, what)

    async def _first_slot(self, web: HubClient, service: str,
                          after: datetime) -> tuple[str, str] | None:
        """Today's first slot with a free place that starts after `after`."""
        reply = await self._ask(web, "the slots", "booking_slots", service=service)
        for day in (reply or {}).get("days", []):
            for s in day["slots"]:
                begins = datetime.combine(datetime.fromisoformat(day["day"]).date(),
                                          time.fromisoformat(s["start"]), tzinfo=after.tzinfo)
                if s["open"] and s["free"] > 0 and begins >= after:
                    return day["day"], s["start"]
        return None

    async def _check_in(self, kiosk: HubClient, kind: str, b: Booker, booking: dict) -> None:
        args = ({"phone": b.phone, "id_last6": b.id_number[-6:]} if kind == "phone"
                else {"code": booking["code"]})
        reply = await self._ask(kiosk, f"{mask_name(b.name)}'s check-in", "check_in", **args)
        if reply:
            how = "too late: a walk-in's ticket" if reply["late"] else "checked in"
            self.report(f"  citizen {mask_name(b.name)} at the kiosk ({kind}): {how}, "
                        f"{reply['ticket']['number']}")

    async def _no_show(self, web: HubClient, b: Booker, booking: dict) -> None:
        """The hub settles a no-show within a hall minute of the window closing."""
        deadline = self.hall_now() + timedelta(minutes=3)
        while self.hall_now() < deadline:
            reply = await self._ask(web, "the bookings", "list_bookings", day=booking["day"])
            states = {x["id"]: x["state"] for x in (reply or {}).get("bookings", [])}
            if states.get(booking["id"]) == "no_show":
                self.report(f"  citizen {mask_name(b.name)} never came: a no-show")
                return
            await asyncio.sleep(self.plan.real(20))
        self.report(f"  appointments: {mask_name(b.name)}'s booking was not settled as a no-show")
