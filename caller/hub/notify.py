"""Text messages to ticket holders who left a phone number (remote tickets, appointments):
when the ticket is `[web] notify_ahead` places from the front, and when it is called; and
the code that verifies a booking (`[booking] sms_verification`), which `hallq web` sends
itself through the same sender (`web.citizen.verify`).

The hub decides after each committed batch (`Notifier.after_batch`) and hands the messages
to a queue; one task sends them through the configured sender with retries. Nothing here
runs on the command path: a gateway that is slow, refuses or is down never delays a call
(at worst the queue fills and the oldest messages are dropped, said in the log). The
texts are the catalog's `sms.*`, in the ticket's language, with the hall's signature. The
phone number is never logged.

Senders, one small class each (chosen by `[sms] sender`):
- `webhook`: POST a JSON message to the hall's SMS gateway, the body signed with
  HMAC-SHA256 (header `X-Hallq-Signature: sha256=<hex>`, key from a 0600 file).
- `file`: one JSON line per message, for tests and the demo.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from caller.core.config import HallConfig, Sms, token_path
from caller.core.errors import HallqError
from caller.core.i18n import translator
from caller.core.protocol import Event
from caller.hub.engine import Engine, Ticket

log = logging.getLogger("hallq.notify")

QUEUE_MAX = 1000
BACKOFF_S = 1.0  # doubled after each failed attempt
SIGNATURE_HEADER = "X-Hallq-Signature"


@dataclass(frozen=True)
class Message:
    kind: str  # "near" | "called"
    phone: str
    text: str
    ticket: int
    number: str
    ref: str = ""  # the gateway's id of a message about no ticket (a booking's code)

    def body(self) -> bytes:
        return json.dumps({"phone": self.phone, "text": self.text, "kind": self.kind,
                           "ticket": self.ticket, "number": self.number,
                           "id": self.ref or f"{self.ticket}-{self.kind}"},
                          ensure_ascii=False, separators=(",", ":")).encode()


class SendError(HallqError):
    """The gateway did not take the message."""


class Sender(Protocol):
    def send(self, message: Message) -> None:
        """Deliver one message (blocking; run in a thread); SendError when not taken."""


def sign(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, url: str, key: bytes, timeout_s: float) -> None:
        self.url, self.key, self.timeout_s = url, key, timeout_s

    def send(self, message: Message) -> None:
        body = message.body()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(self.key, body)})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                if not 200 <= response.status < 300:
                    raise SendError(f"HTTP {response.status}")
        except (urllib.error.URLError, OSError) as e:  # HTTPError, refused, timed out
            raise SendError(str(getattr(e, "code", "") or getattr(e, "reason", "") or e)) from None


class FileSender:
    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as out:
            out.write(message.body() + b"\n")


def sender_for(config: HallConfig) -> Sender | None:
    """The configured sender, or None without [sms] (the loader read the webhook's key)."""
    sms: Sms | None = config.sms
    if sms is None:
        return None
    base = Path(config.path).parent
    if sms.sender == "webhook":
        return WebhookSender(sms.url, sms.key or b"", sms.timeout_s)
    return FileSender(token_path(base, sms.file))


class Notifier:
    def __init__(self, config: HallConfig, sender: Sender) -> None:
        self.config, self.sender = config, sender
        self._queue: deque[Message] = deque(maxlen=QUEUE_MAX)
        self._ready = asyncio.Event()
        self._sent: set[tuple[int, str]] = set()  # (ticket, kind) already queued
        self._day: str | None = None
        self.delivered = 0
        self.failed = 0

    def after_batch(self, engine: Engine, events: list[dict]) -> None:
        """Queue the messages the batch made due (never blocks, never raises)."""
        try:
            self._due(engine, events)
        except Exception:  # a message must never cost the hall a call
            log.exception("notifications skipped for this batch")

    def _due(self, engine: Engine, events: list[dict]) -> None:
        if engine.meta.day != self._day:
            self._day, self._sent = engine.meta.day, set()
        for event in events:
            if event.get("event") == Event.TICKET_CALLED and not event.get("recalls"):
                t = engine.tickets.get(event["ticket"]["id"])
                if t is not None and t.phone:
                    self._queue_one("called", t, window=event.get("window_name", ""))
        near = self.config.web.notify_ahead
        for t, ahead in engine.reachable():
            if ahead is not None and ahead < near:
                self._queue_one("near", t, n=ahead)

    def _queue_one(self, kind: str, t: Ticket, **values: object) -> None:
        key = (t.id, kind)
        if key in self._sent:
            return
        self._sent.add(key)
        service = self.config.services.get(t.service)
        words = translator(t.lang if t.lang in ("zh", "en") else "zh", "sms")
        text = words(kind, signature=self.config.sms.signature if self.config.sms else "",
                     number=t.number, service=service.name if service else t.service, **values)
        if len(self._queue) == self._queue.maxlen:
            log.warning("message queue full: the oldest message is dropped")
        self._queue.append(Message(kind, t.phone, text, t.id, t.number))
        self._ready.set()

    async def run(self) -> None:
        """Send what is queued, one message at a time, each with its retries."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue:
                await self._deliver(self._queue.popleft())

    async def _deliver(self, message: Message) -> None:
        attempts = self.config.sms.retries if self.config.sms else 1
        for attempt in range(attempts):
            try:
                await asyncio.to_thread(self.sender.send, message)
                self.delivered += 1
                return
            except SendError as e:
                reason = str(e)
            except OSError as e:  # the file sender's disk
                reason = e.strerror or str(e)
            if attempt + 1 < attempts:
                await asyncio.sleep(BACKOFF_S * 2 ** attempt)
        self.failed += 1
        log.warning("text message not delivered", extra={"fields": {
            "ticket": message.number, "kind": message.kind, "attempts": attempts, "error": reason}})
