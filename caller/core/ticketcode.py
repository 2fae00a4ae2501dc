"""The code behind a ticket's QR code: `public_url + /p/t/<code>` opens its live page.

The code is 128 bits of HMAC-SHA256 over the ticket's identity (the hall, the business day
and the hub's ticket id) keyed with the hall secret (`[personal] secret_file`, made by
`hallq secret new`), written in base32: 26 lowercase letters and digits. It says nothing
of the number or the id, cannot be guessed or walked (the next ticket's code is as far
from this one as any), and the hub stores it with the ticket so the web server finds the
ticket by it without holding the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

CODE_BITS = 128
CODE = re.compile(r"[a-z2-7]{26}")
_LABEL = b"hallq ticket page\x00"  # keeps these codes apart from the person keys


def ticket_code(secret: bytes, hall: str, day: str, ticket_id: int) -> str:
    """The page code of ticket `ticket_id` issued on `day` (ISO date) in hall `hall`."""
    message = _LABEL + f"{hall}\x00{day}\x00{ticket_id}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()[: CODE_BITS // 8]
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def page_path(code: str) -> str:
    """The ticket page's path under the web server's public prefix."""
    return f"/p/t/{code}"


def looks_like_code(text: str) -> bool:
    """Shaped like a code (checked at the web server's door before any lookup)."""
    return CODE.fullmatch(text) is not None
