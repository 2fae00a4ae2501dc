"""Sessions, CSRF tokens, login throttling, security headers and personal-data masking.

A session is a signed cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS) holding
the account name, a random session id and when the password was last set; it expires
after `idle_s` without a request (each request signs it afresh) and ends at once when
the account is disabled or its password changes. Every form and action carries a CSRF
token derived from the session id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "hallq_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; media-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"cross-origin-opener-policy", b"same-origin")]


@dataclass(frozen=True)
class SessionData:
    sid: str
    user: str | None = None
    pw_stamp: float = 0.0


class Sessions:
    def __init__(self, key: str, idle_s: float) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="hallq-web-session")
        self._csrf_key = hashlib.sha256(f"csrf:{key}".encode()).digest()
        self.idle_s = idle_s

    def load(self, cookie: str | None) -> tuple[SessionData | None, bool]:
        """The session in a cookie, and whether it expired (None for none or a forged one)."""
        if not cookie:
            return None, False
        try:
            data = self._serializer.loads(cookie, max_age=self.idle_s)
        except SignatureExpired:  # genuine, but idle too long
            return None, True
        except BadSignature:
            return None, False
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            return None, False
        return SessionData(data["s"], data.get("u"), float(data.get("p", 0.0))), False

    def dump(self, session: SessionData) -> str:
        return self._serializer.dumps({"s": session.sid, "u": session.user, "p": session.pw_stamp})

    @staticmethod
    def new(user: str | None = None, pw_stamp: float = 0.0) -> SessionData:
        return SessionData(secrets.token_urlsafe(18), user, pw_stamp)

    def csrf_token(self, session: SessionData) -> str:
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: SessionData, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token)


class Throttle:
    """At most `limit` attempts per key within `window_s` (a sliding window)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10000) -> None:
        self.limit, self.window_s, self.clock, self.max_keys = limit, window_s, clock, max_keys
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        return hits

    def full(self, key: str) -> bool:
        """The key has used up its attempts (looking does not count as one)."""
        return key in self._hits and len(self._recent(key, self.clock())) >= self.limit

    def allow(self, key: str) -> bool:
        now = self.clock()
        hits = self._recent(key, now)
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        if len(self._hits) > self.max_keys:  # forget the quiet keys; never grow without bound
            for k in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window_s]:
                del self._hits[k]
        return True


class SecurityHeaders:
    """ASGI middleware: the security headers on every response; `no-store` on every page
    but the static files (the pages carry personal data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(("/static/", "/p/static/"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------------- personal data

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dXx])(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
# a surname and a given name before a title: the character before the title is masked
_TITLED = re.compile(r"([\u4e00-\u9fff])([\u4e00-\u9fff])(?=先生|女士|同志|老人|大爷|大妈|阿姨)")
_NAMED = re.compile(r"(姓名|联系人|群众|市民|当事人|申请人)([:：\s]*)([\u4e00-\u9fff])([\u4e00-\u9fff]{1,2})")


def mask(text: str) -> str:
    """Personal data in a free text, masked for lists: phone and ID numbers keep their
    first and last digits, names their surname (张*先生)."""
    text = _ID_CARD.sub(lambda m: f"{m[1]}********{m[2]}", text)
    text = _PHONE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _LANDLINE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    text = _TITLED.sub(lambda m: m[1] + "*" * len(m[2]), text)
    return _NAMED.sub(lambda m: m[1] + m[2] + m[3] + "*" * len(m[4]), text)
