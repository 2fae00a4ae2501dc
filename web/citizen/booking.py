"""The citizen's appointment (预约) and remote-ticket (线上取号) pages under `/p`.

    /p/book                  the services that take appointments
    /p/book/<service>        a day and a slot with free places, name, phone, ID number
    /p/b/<code>              the booking: code and QR code for the kiosk, cancel, change
    /p/b/<code>/change       another slot
    /p/book/<service>/verify the code texted to the phone (`[booking] sms_verification`)
    /p/remote                the services that take remote tickets, by phone number

Plain HTML forms (no script needed, so they work in any phone's browser); every input is
checked here at the door (lengths, the phone's shape, the ID number's check character)
before the hub sees it, and again by the hub. Every form carries a token this server
signed (no cross-site posts). Bookings and remote tickets are limited per address and per
phone number; a code that finds nothing counts towards the `miss` limit, so codes cannot
be tried in numbers. Pages show the holder masked only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import qrcode
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from caller.core.booking import CODE_DIGITS, clean_code, mask_phone, valid_phone
from caller.core.i18n import Translator
from caller.core.personal import valid_id_number
from web.citizen.limits import PublicLimits, address
from web.citizen.verify import MAX_TRIES, CodeSender, Verifications

FORM_TOKEN_S = 2 * 3600.0
# bucket -> (requests, per seconds): bookings, changes, cancellations and remote tickets;
# verification codes texted, per address and per phone
BOOKING_BUCKETS = {"book": (10, 3600.0), "phone": (5, 24 * 3600.0), "sms": (5, 3600.0),
                   "sms_phone": (3, 3600.0)}
Posted = tuple[dict[str, str], list[str], str]  # a form's values, its problems, the refusal
_CODE = re.compile(rf"\d{{{CODE_DIGITS}}}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SLOT = re.compile(r"\d{2}:\d{2}")


class FormTokens:
    """Tokens this server signs into its forms and accepts back for two hours."""

    def __init__(self, key: bytes | None = None, clock: Any = time.time) -> None:
        self.key, self.clock = key or os.urandom(32), clock

    def issue(self) -> str:
        stamp = str(int(self.clock()))
        return f"{stamp}.{self._sign(stamp)}"

    def valid(self, token: str) -> bool:
        stamp, _, mac = token.partition(".")
        if not stamp.isdigit() or not hmac.compare_digest(mac, self._sign(stamp)):
            return False
        return 0 <= self.clock() - int(stamp) <= FORM_TOKEN_S

    def _sign(self, stamp: str) -> str:
        return hmac.new(self.key, stamp.encode(), hashlib.sha256).hexdigest()[:32]


def check_booking(form: FormData) -> tuple[dict[str, str], list[str]]:
    """The booking form's values, cleaned, and the `citizen.book.*` keys of what is wrong."""
    values = {k: str(form.get(k, "")).strip() for k in ("slot", "name", "phone", "id_number")}
    values["phone"] = re.sub(r"[\s-]", "", values["phone"])
    values["id_number"] = values["id_number"].replace(" ", "").upper()
    problems = []
    day, _, slot = values.pop("slot").partition(" ")
    if not _DAY.fullmatch(day) or not _SLOT.fullmatch(slot):
        problems.append("no_slot")
    values["day"], values["slot"] = day, slot
    if not values["name"] or len(values["name"]) > 30 or not values["name"].isprintable():
        problems.append("bad_name")
    if not valid_phone(values["phone"]):
        problems.append("bad_phone")
    if not valid_id_number(values["id_number"]):
        problems.append("bad_id")
    return values, problems


def remote_checker(services: set[str]) -> Callable[[FormData], tuple[dict[str, str], list[str]]]:
    """The remote-ticket form's check (like `check_booking`), for these services."""
    def check(form: FormData) -> tuple[dict[str, str], list[str]]:
        values = {"service": str(form.get("service", "")),
                  "phone": re.sub(r"[\s-]", "", str(form.get("phone", "")))}
        problems = [] if values["service"] in services else ["no_service"]
        return values, problems + ([] if valid_phone(values["phone"]) else ["bad_phone"])
    return check


def qr_png(data: str) -> str:
    """A QR code as a data: URL (the pages' policy allows images from data: only)."""
    image = qrcode.make(data, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


class BookingPages:
    """The routes; `citizen` is the citizen app they belong to (its pages, words, hub)."""

    def __init__(self, citizen: Any, tokens: FormTokens | None = None,
                 limits: PublicLimits | None = None) -> None:
        self.citizen, self.config, self.hall = citizen, citizen.config, citizen.hall
        self.tokens = tokens or FormTokens()
        self.limits = limits or PublicLimits(BOOKING_BUCKETS)
        self.codes = Verifications()
        self.texts = CodeSender(self.config) if self.config.booking.sms_verification else None

    def routes(self) -> list[BaseRoute]:
        page = self.citizen.limited
        return [
            Route("/book", page("page", self.services)),
            Route("/book/{service}", page("page", self.book), methods=["GET", "POST"]),
            Route("/book/{service}/verify", page("page", self.verify), methods=["POST"]),
            Route("/b/{code}", page("page", self.booking), methods=["GET"]),
            Route("/b/{code}/cancel", page("page", self.cancel), methods=["POST"]),
            Route("/b/{code}/change", page("page", self.change), methods=["GET", "POST"]),
            Route("/remote", page("page", self.remote), methods=["GET", "POST"]),
        ]

    # ------------------------------------------------------------------ helpers

    def _services(self, what: str) -> list[dict]:
        booking = self.config.booking
        return [{"id": s.id, "name": s.name, "department": s.department}
                for s in self.config.services.values() if getattr(booking.rules(s.id), what)]

    def _page(self, request: Request, template: str, values: dict, status: int = 200) -> Response:
        return self.citizen.page(request, template, {"token": self.tokens.issue(),
                                                     "lang_q": self._lang_q(request), **values},
                                 status=status)

    def _lang_q(self, request: Request) -> str:
        return "?lang=en" if self.citizen.language(request) == "en" else ""

    def _message(self, request: Request, kind: str, status: int, text: str = "") -> Response:
        return self.citizen.page(request, "message.html", {"kind": kind, "detail": text},
                                 status=status)

    async def _form(self, request: Request) -> FormData | None:
        """The posted form, or None when it carries no token this server signed."""
        form = await request.form()
        return form if self.tokens.valid(str(form.get("token", ""))) else None

    async def _post(self, request: Request, check: Callable[[FormData], tuple[dict, list[str]]],
                    act: Callable[[dict[str, str]], Awaitable[Response | str]]) -> Response | Posted:
        """A posted booking or remote-ticket form: its token, its values checked (`check`),
        the limits, then `act`: a page when done, or the refusal to show on the form again."""
        form = await self._form(request)
        if form is None:
            return self._message(request, "expired_form", 400)
        values, problems = check(form)
        if problems:
            return values, problems, ""
        if self._over(request, values["phone"]):
            return self.citizen.too_many(request, "page")
        outcome = await act(values)
        return outcome if isinstance(outcome, Response) else (values, [], outcome)

    def _over(self, request: Request, phone: str | None = None) -> bool:
        """One more booking action from this address (and phone): over a limit?"""
        if not self.limits.allow("book", address(request)):
            return True
        return phone is not None and not self.limits.allow("phone", phone)

    async def _hub(self, kind: str, request: Request, **args: Any) -> dict:
        return await self.hall.request(kind, lang=self.citizen.language(request), **args)

    async def _booking_of(self, request: Request) -> tuple[dict | None, Response | None]:
        """The booking behind the path's code, or the page to show instead."""
        code = clean_code(request.path_params["code"])
        if self.citizen.limits.blocked("miss", address(request)):
            return None, self.citizen.too_many(request, "miss")
        reply = await self._hub("booking_status", request, code=code) \
            if _CODE.fullmatch(code) else {"ok": False, "error": {"code": "unknown_booking"}}
        if reply.get("ok"):
            return reply["booking"], None
        if reply["error"]["code"] == "unknown_booking":
            self.citizen.limits.allow("miss", address(request))
            return None, self._message(request, "no_booking", 404)
        return None, self._message(request, "book_failed", 503, reply["error"].get("message", ""))

    def _qr_text(self, code: str) -> str:
        public = getattr(getattr(self.config, "web", None), "public_url", None)
        return f"{public.rstrip('/')}/p/b/{code}" if public else code

    # ------------------------------------------------------------------ pages

    async def services(self, request: Request) -> Response:
        return self._page(request, "book_services.html", {"services": self._services("appointments")})

    async def book(self, request: Request) -> Response:
        sid = request.path_params["service"]
        if sid not in {s["id"] for s in self._services("appointments")}:
            return self._message(request, "not_found", 404)
        posted: Response | Posted = ({}, [], "")
        if request.method == "POST":
            posted = await self._post(request, check_booking,
                                      lambda values: self._book_or_text(request, sid, values))
        return posted if isinstance(posted, Response) else await self._form_again(request, sid, posted)

    async def _form_again(self, request: Request, sid: str, posted: Posted) -> Response:
        values, problems, refusal = posted
        return await self._slots_page(request, sid, "book_form.html", values, problems, refusal,
                                      action=f"/p/book/{sid}")

    async def _book_or_text(self, request: Request, sid: str, values: dict[str, str]) -> Response | str:
        """Book now, or first text the code (`[booking] sms_verification`) and ask for it."""
        if self.texts is None:
            return await self._book(request, sid, values)
        key, pending = self.codes.start(sid, values)
        return await self._text_code(request, sid, key, pending.code, values["phone"])

    async def _book(self, request: Request, sid: str, values: dict[str, str]) -> Response | str:
        reply = await self._hub("book", request, service=sid, **values)
        if reply.get("ok"):
            return RedirectResponse(f"/p/b/{reply['booking']['code']}{self._lang_q(request)}",
                                    status_code=303)
        return reply["error"].get("message", "")

    async def _text_code(self, request: Request, sid: str, key: str, code: str,
                         phone: str) -> Response | str:
        """Text the code (within the limits per address and phone); the page that asks for it."""
        if not (self.limits.allow("sms", address(request)) and self.limits.allow("sms_phone", phone)):
            self.codes.drop(key)
            return self.citizen.too_many(request, "page")
        assert self.texts is not None
        if not await self.texts.send(phone, code, self.citizen.language(request)):
            self.codes.drop(key)
            return self._words(request)("book.code_not_sent")
        return self._verify_page(request, sid, key, phone)

    def _words(self, request: Request) -> Translator:
        return self.citizen.words(self.citizen.language(request))

    def _verify_page(self, request: Request, sid: str, key: str, phone: str, wrong: int = 0,
                     resent: bool = False) -> Response:
        pending = self.codes.get(key)
        return self._page(request, "book_verify.html", {
            "service": self.config.services[sid].name, "pending": key, "phone": mask_phone(phone),
            "when": f"{pending.values['day']} {pending.values['slot']}" if pending else "",
            "action": f"/p/book/{sid}/verify{self._lang_q(request)}", "resent": resent,
            "left": MAX_TRIES - wrong if wrong else 0}, status=400 if wrong else 200)

    async def verify(self, request: Request) -> Response:
        """The code texted for a waiting booking form: book with the right one."""
        sid = request.path_params["service"]
        form = await self._form(request)
        if form is None:
            return self._message(request, "expired_form", 400)
        key = str(form.get("pending", ""))[:64]
        if form.get("resend"):
            pending = self.codes.renew(key)
            if pending is None or pending.service != sid:
                return await self._form_again(request, sid, ({}, [], self._words(request)("book.code_gone")))
            sent = await self._text_code(request, sid, key, pending.code, pending.values["phone"])
            if isinstance(sent, str):
                return await self._form_again(request, sid, (pending.values, [], sent))
            return self._verify_page(request, sid, key, pending.values["phone"], resent=True)
        status, pending = self.codes.check(key, re.sub(r"\s", "", str(form.get("code", "")))[:12])
        if pending is not None and pending.service != sid:
            status, pending = "gone", None
        if status == "wrong":
            assert pending is not None
            return self._verify_page(request, sid, key, pending.values["phone"], wrong=pending.tries)
        if pending is None:
            return await self._form_again(request, sid, ({}, [], self._words(request)("book.code_gone")))
        done = await self._book(request, sid, pending.values)
        return done if isinstance(done, Response) else await self._form_again(
            request, sid, (pending.values, [], done))

    async def _slots_page(self, request: Request, sid: str, template: str, values: dict,
                          problems: list[str], refusal: str, action: str,
                          booking: dict | None = None) -> Response:
        reply = await self._hub("booking_slots", request, service=sid)
        if not reply.get("ok"):
            return self._message(request, "book_failed", 503, reply["error"].get("message", ""))
        chosen = f"{values.get('day', '')} {values.get('slot', '')}"
        return self._page(request, template, {
            "service": reply["service_name"], "days": reply["days"], "chosen": chosen,
            "values": {k: v for k, v in values.items() if k != "id_number"},  # never echoed
            "problems": problems, "refusal": refusal, "action": action + self._lang_q(request),
            "booking": booking}, status=400 if problems or refusal else 200)

    async def booking(self, request: Request) -> Response:
        booking, page = await self._booking_of(request)
        if booking is None:
            return page
        return self._page(request, "booking.html", {"b": booking,
                                                    "qr": qr_png(self._qr_text(booking["code"])),
                                                    "shown_code": " ".join(booking["code"][i:i + 4]
                                                                           for i in range(0, 12, 4))})

    async def cancel(self, request: Request) -> Response:
        form = await self._form(request)
        if form is None:
            return self._message(request, "expired_form", 400)
        booking, page = await self._booking_of(request)
        if booking is None:
            return page
        if self._over(request):
            return self.citizen.too_many(request, "page")
        reply = await self._hub("cancel_booking", request, code=booking["code"])
        if not reply.get("ok"):
            return self._message(request, "book_failed", 409, reply["error"].get("message", ""))
        return RedirectResponse(f"/p/b/{booking['code']}{self._lang_q(request)}", status_code=303)

    async def change(self, request: Request) -> Response:
        booking, page = await self._booking_of(request)
        if booking is None:
            return page
        refusal = ""
        action = f"/p/b/{booking['code']}/change"
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return self._message(request, "expired_form", 400)
            day, _, slot = str(form.get("slot", "")).partition(" ")
            if not _DAY.fullmatch(day) or not _SLOT.fullmatch(slot):
                return await self._slots_page(request, booking["service"], "book_change.html",
                                              {}, ["no_slot"], "", action, booking)
            if self._over(request):
                return self.citizen.too_many(request, "page")
            reply = await self._hub("change_booking", request, code=booking["code"], day=day,
                                    slot=slot)
            if reply.get("ok"):
                return RedirectResponse(f"/p/b/{booking['code']}{self._lang_q(request)}",
                                        status_code=303)
            refusal = reply["error"].get("message", "")
        return await self._slots_page(request, booking["service"], "book_change.html",
                                      {"day": booking["day"], "slot": booking["slot"]}, [], refusal,
                                      action, booking)

    async def remote(self, request: Request) -> Response:
        """线上取号: a phone number and a service; the receipt is the ticket's live page."""
        services = self._services("remote")
        posted: Response | Posted = ({}, [], "")
        if request.method == "POST":
            posted = await self._post(request, remote_checker({s["id"] for s in services}),
                                      lambda values: self._remote_ticket(request, values))
        if isinstance(posted, Response):
            return posted
        values, problems, refusal = posted
        return self._page(request, "remote.html", {"services": services, "values": values,
                                                   "problems": problems, "refusal": refusal},
                          status=400 if problems or refusal else 200)

    async def _remote_ticket(self, request: Request, values: dict[str, str]) -> Response | str:
        reply = await self._hub("remote_ticket", request, **values)
        if not reply.get("ok"):
            return reply["error"].get("message", "")
        if reply.get("status_url"):
            return RedirectResponse(reply["status_url"], status_code=303)
        return self._page(request, "remote_ticket.html", {"r": reply})
