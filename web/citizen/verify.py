"""SMS verification of a booking (`[booking] sms_verification`): the checked booking form
waits here, in this process's memory only, while a 6-digit code goes to the phone given
through the hall's SMS sender (`caller.hub.notify`); the booking is made only with the
right code, within CODE_TTL_S and MAX_TRIES attempts. The form's values (the ID number
among them) never go back into a page: the page carries the pending entry's random key."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from caller.core.config import HallConfig
from caller.core.i18n import translator
from caller.hub.notify import Message, Sender, SendError, sender_for

log = logging.getLogger("hallq.web.verify")

CODE_TTL_S = 300.0
MAX_TRIES = 5
MAX_PENDING = 10_000  # forms waiting at once; the oldest goes first beyond this


@dataclass
class Pending:
    service: str
    values: dict[str, str]  # check_booking's: day, slot, name, phone, id_number
    code: str
    expires: float
    tries: int = 0


class Verifications:
    """Booking forms waiting for their code, by a random key."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._pending: dict[str, Pending] = {}

    def start(self, service: str, values: dict[str, str]) -> tuple[str, Pending]:
        now = self.clock()
        self._pending = {k: p for k, p in self._pending.items() if p.expires > now}
        while len(self._pending) >= MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        key = secrets.token_urlsafe(16)
        self._pending[key] = pending = Pending(service, dict(values), _new_code(), now + CODE_TTL_S)
        return key, pending

    def get(self, key: str) -> Pending | None:
        pending = self._pending.get(key)
        if pending is None or pending.expires <= self.clock():
            self._pending.pop(key, None)
            return None
        return pending

    def renew(self, key: str) -> Pending | None:
        """A new code for a waiting form (the old one no longer counts), its time anew."""
        pending = self.get(key)
        if pending is not None:
            pending.code, pending.tries = _new_code(), 0
            pending.expires = self.clock() + CODE_TTL_S
        return pending

    def check(self, key: str, code: str) -> tuple[str, Pending | None]:
        """("ok", the form) once, taken out; ("wrong", it) with tries left; ("gone", None)
        for an unknown or expired key or after MAX_TRIES wrong codes."""
        pending = self.get(key)
        if pending is None:
            return "gone", None
        if hmac.compare_digest(code.encode(), pending.code.encode()):
            del self._pending[key]
            return "ok", pending
        pending.tries += 1
        if pending.tries >= MAX_TRIES:
            del self._pending[key]
            return "gone", None
        return "wrong", pending

    def drop(self, key: str) -> None:
        self._pending.pop(key, None)


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


class CodeSender:
    """Texts a booking's code through the hall's sender (one attempt: the citizen waits)."""

    def __init__(self, config: HallConfig, sender: Sender | None = None) -> None:
        self.config = config
        self.sender = sender or sender_for(config)

    async def send(self, phone: str, code: str, lang: str) -> bool:
        if self.sender is None:
            return False
        sms = self.config.sms
        text = translator(lang, "sms")("verify", signature=sms.signature if sms else "",
                                       code=code, minutes=int(CODE_TTL_S // 60))
        message = Message("verify", phone, text, 0, "", ref=f"verify-{secrets.token_hex(8)}")
        try:
            await asyncio.to_thread(self.sender.send, message)
            return True
        except (SendError, OSError) as e:  # never the phone number in the log
            log.warning("a booking's verification code was not sent: %s", e)
            return False
