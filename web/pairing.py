"""Pairing a counter's tablet with its window's screen evaluator, once.

A manager asks the console for a pairing code for a window: eight digits, shown once,
good for CODE_TTL_S and for one tablet. The tablet's page takes the code and gets a
pairing: a random token in an `HttpOnly` cookie, of which the hall database keeps only
the SHA-256. No long-lived secret is typed or put in a URL. The manager sees every
pairing (window, when, from which address, last seen) and can revoke one; a revoked
tablet is back at the code page. Wrong codes count against the address (`Throttle`).

The tables live beside the console's accounts in the hall database (made by
`web.accounts`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from web.accounts import Accounts

CODE_DIGITS = 8
CODE_TTL_S = 10 * 60
COOKIE = "hallq_screen"
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # browsers cap cookies at about 400 days
SEEN_EVERY_S = 60.0  # how often a tablet's last-seen time is written


class PairingError(ValueError):
    """A code the tablet may not pair with; `code` says why: bad_code or expired."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Screen:
    id: int
    window: str
    paired_at: float
    paired_by: str
    address: str
    last_seen: float
    revoked_at: float | None
    revoked_by: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Pairings:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.conn, self.clock = accounts.conn, accounts.clock

    def new_code(self, window: str, by: str) -> str:
        """A fresh code for `window`; the window's earlier unused codes stop working."""
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        now = self.clock()
        with self.accounts._lock:
            self.conn.execute("DELETE FROM web_pairing_codes WHERE window = ? OR expires_at < ?",
                              (window, now - CODE_TTL_S))
            self.conn.execute("INSERT INTO web_pairing_codes VALUES (?, ?, ?, ?, ?, NULL)",
                              (_hash(code), window, now, now + CODE_TTL_S, by))
        return code

    def pair(self, code: str, address: str) -> tuple[Screen, str]:
        """The new pairing and its token, or PairingError."""
        code = "".join(c for c in code if c.isdigit())
        if len(code) != CODE_DIGITS:
            raise PairingError("bad_code")
        now = self.clock()
        with self.accounts._lock:
            row = self.conn.execute(
                "SELECT window, expires_at, created_by, used_at FROM web_pairing_codes "
                "WHERE code_hash = ?", (_hash(code),)).fetchone()
            if row is None or row[3] is not None:
                raise PairingError("bad_code")
            window, expires_at, created_by, _ = row
            if expires_at < now:
                raise PairingError("expired")
            token = secrets.token_urlsafe(32)
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute("UPDATE web_pairing_codes SET used_at = ? WHERE code_hash = ?",
                                  (now, _hash(code)))
                cursor = self.conn.execute(
                    "INSERT INTO web_screens (window, token_hash, paired_at, paired_by, address, "
                    "last_seen) VALUES (?, ?, ?, ?, ?, ?)",
                    (window, _hash(token), now, created_by, address[:64], now))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        return self.get(cursor.lastrowid), token

    def get(self, screen_id: int | None) -> Screen:
        with self.accounts._lock:
            row = self.conn.execute(
                "SELECT id, window, paired_at, paired_by, address, last_seen, revoked_at, revoked_by "
                "FROM web_screens WHERE id = ?", (screen_id,)).fetchone()
        if row is None:
            raise PairingError("bad_code")
        return Screen(*row)

    def screen(self, token: str | None) -> Screen | None:
        """The live (not revoked) pairing a cookie's token belongs to."""
        if not token or len(token) > 128:
            return None
        digest = _hash(token)
        with self.accounts._lock:
            row = self.conn.execute(
                "SELECT id, window, paired_at, paired_by, address, last_seen, revoked_at, revoked_by, "
                "token_hash FROM web_screens WHERE token_hash = ? AND revoked_at IS NULL",
                (digest,)).fetchone()
            if row is None or not hmac.compare_digest(row[8], digest):
                return None
            screen = Screen(*row[:8])
            now = self.clock()
            if now - screen.last_seen > SEEN_EVERY_S:
                self.conn.execute("UPDATE web_screens SET last_seen = ? WHERE id = ?", (now, screen.id))
        return screen

    def list(self) -> list[Screen]:
        with self.accounts._lock:
            rows = self.conn.execute(
                "SELECT id, window, paired_at, paired_by, address, last_seen, revoked_at, revoked_by "
                "FROM web_screens ORDER BY revoked_at IS NOT NULL, window, id").fetchall()
        return [Screen(*r) for r in rows]

    def revoke(self, screen_id: int, by: str) -> Screen:
        with self.accounts._lock:
            cursor = self.conn.execute(
                "UPDATE web_screens SET revoked_at = ?, revoked_by = ? WHERE id = ? "
                "AND revoked_at IS NULL", (self.clock(), by, screen_id))
        if cursor.rowcount != 1:
            raise PairingError("bad_code")
        return self.get(screen_id)
