"""The console's own tables in the hall database: accounts, the audit log, the cookie key.

The hub never touches these tables (it holds `<db>.lock`, not a database lock), and only
`hallq web` and its `user` commands write them. WAL and a busy timeout let them share the
file with the hub's writes. `web_meta` keeps the schema version (`web_schema`).
"""

from __future__ import annotations

import functools
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "supervisor", "manager")  # each may do what the ones before it may
ROLE_NAMES = {"viewer": "查看员", "supervisor": "督查员", "manager": "管理员"}
NAME_RE = re.compile(r"[A-Za-z0-9_.\-\u4e00-\u9fff]{1,32}")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
FAILURES_TO_LOCK = 5
LOCK_S = 15 * 60

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))  # verified against for unknown names


F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    """One statement at a time on the shared connection (the event loop and worker threads)."""
    @functools.wraps(method)
    def wrapper(self: Accounts, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper  # type: ignore[return-value]


class AccountError(ValueError):
    """A refused account operation; the message is for the person at the keyboard."""


def _create_v1(conn: sqlite3.Connection) -> None:
    conn.execute("""CREATE TABLE web_users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
        locked_until REAL NOT NULL DEFAULT 0, created_at REAL NOT NULL,
        pw_changed_at REAL NOT NULL)""")
    conn.execute("""CREATE TABLE web_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, user TEXT NOT NULL,
        address TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
        detail TEXT NOT NULL, ok INTEGER NOT NULL)""")
    conn.execute("CREATE INDEX idx_web_audit_at ON web_audit(at)")
    conn.execute("INSERT INTO web_meta(key, value) VALUES ('cookie_key', ?)",
                 (secrets.token_hex(32),))


def _create_screen_pairings(conn: sqlite3.Connection) -> None:
    """Screen evaluator tablets paired with their window (`web.pairing`)."""
    conn.execute("""CREATE TABLE web_pairing_codes (
        code_hash TEXT PRIMARY KEY, window TEXT NOT NULL, created_at REAL NOT NULL,
        expires_at REAL NOT NULL, created_by TEXT NOT NULL, used_at REAL)""")
    conn.execute("""CREATE TABLE web_screens (
        id INTEGER PRIMARY KEY AUTOINCREMENT, window TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
        paired_at REAL NOT NULL, paired_by TEXT NOT NULL, address TEXT NOT NULL,
        last_seen REAL NOT NULL, revoked_at REAL, revoked_by TEXT)""")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_create_v1, _create_screen_pairings]


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool
    locked_until: float
    pw_changed_at: float

    def may(self, role: str) -> bool:
        """Whether this account has at least `role`."""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    user: str
    address: str
    action: str
    target: str
    detail: str
    ok: bool


class Accounts:
    """Accounts and the audit log, in the hall database at `path` (which must exist), or in
    a file of their own for the city console (`create`: made, readable by its owner only)."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time, *,
                 create: bool = False) -> None:
        p = Path(path)
        if create and not p.exists():
            p.touch(mode=0o600)
        if not p.is_file():
            raise AccountError(f"没有找到大厅数据库 {p}（请先启动 hallq hub 创建它）")
        self.clock = clock
        self._lock = threading.RLock()
        self.conn = sqlite3.connect(str(p), isolation_level=None, check_same_thread=False,
                                    timeout=5.0)
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self._migrate()

    def close(self) -> None:
        self.conn.close()

    def _migrate(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute("CREATE TABLE IF NOT EXISTS web_meta (key TEXT PRIMARY KEY, value TEXT)")
            row = self.conn.execute("SELECT value FROM web_meta WHERE key = 'web_schema'").fetchone()
            version = int(row[0]) if row else 0
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                migration(self.conn)
                self.conn.execute("INSERT OR REPLACE INTO web_meta(key, value) VALUES ('web_schema', ?)",
                                  (str(number),))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    @property
    @_locked
    def cookie_key(self) -> str:
        return self.conn.execute("SELECT value FROM web_meta WHERE key = 'cookie_key'").fetchone()[0]

    # ------------------------------------------------------------------ accounts

    @_locked
    def get(self, name: str) -> User | None:
        row = self.conn.execute("SELECT name, role, disabled, locked_until, pw_changed_at "
                                "FROM web_users WHERE name = ?", (name,)).fetchone()
        return User(row[0], row[1], bool(row[2]), row[3], row[4]) if row else None

    @_locked
    def list(self) -> list[User]:
        rows = self.conn.execute("SELECT name, role, disabled, locked_until, pw_changed_at "
                                 "FROM web_users ORDER BY name").fetchall()
        return [User(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]

    def add(self, name: str, role: str, password: str) -> User:
        check_name(name)
        if role not in ROLES:
            raise AccountError(f"角色只能是 {'、'.join(ROLES)}，而不是 {role!r}")
        check_password(password)
        pw_hash = _HASHER.hash(password)  # slow on purpose: outside the lock
        now = self.clock()
        try:
            with self._lock:
                self.conn.execute("INSERT INTO web_users(name, role, pw_hash, created_at, "
                                  "pw_changed_at) VALUES (?, ?, ?, ?, ?)",
                                  (name, role, pw_hash, now, now))
        except sqlite3.IntegrityError:
            raise AccountError(f"账户 {name} 已存在") from None
        return self._must(name)

    def set_password(self, name: str, password: str) -> User:
        """A new password; it also ends every session of the account and lifts a lock."""
        self._must(name)
        check_password(password)
        pw_hash = _HASHER.hash(password)
        with self._lock:
            self.conn.execute("UPDATE web_users SET pw_hash = ?, pw_changed_at = ?, failures = 0, "
                              "locked_until = 0 WHERE name = ?", (pw_hash, self.clock(), name))
        return self._must(name)

    @_locked
    def set_disabled(self, name: str, disabled: bool = True) -> User:
        self._must(name)
        self.conn.execute("UPDATE web_users SET disabled = ? WHERE name = ?", (int(disabled), name))
        return self._must(name)

    def _must(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise AccountError(f"没有账户 {name}")
        return user

    def authenticate(self, name: str, password: str) -> tuple[User | None, str]:
        """(the user, "") when the password is right; else (None, why) with why one of
        "bad", "locked", "disabled". Repeated failures lock the account for a while."""
        with self._lock:
            row = self.conn.execute("SELECT pw_hash, locked_until FROM web_users WHERE name = ?",
                                    (name,)).fetchone()
        if row is None:
            _verify(_DUMMY_HASH, password)  # the same time as for a real account
            return None, "bad"
        pw_hash, locked_until = row
        now = self.clock()
        if locked_until > now:
            return None, "locked"
        right = _verify(pw_hash, password)  # slow on purpose: outside the lock
        with self._lock:
            if not right:
                self.conn.execute("UPDATE web_users SET failures = failures + 1 WHERE name = ?",
                                  (name,))
                failures = self.conn.execute("SELECT failures FROM web_users WHERE name = ?",
                                             (name,)).fetchone()[0]
                if failures < FAILURES_TO_LOCK:
                    return None, "bad"
                self.conn.execute("UPDATE web_users SET failures = 0, locked_until = ? "
                                  "WHERE name = ?", (now + LOCK_S, name))
                return None, "locked"
            user = self._must(name)
            if user.disabled:
                return None, "disabled"
            self.conn.execute("UPDATE web_users SET failures = 0 WHERE name = ?", (name,))
        if _HASHER.check_needs_rehash(pw_hash):
            fresh = _HASHER.hash(password)
            with self._lock:
                self.conn.execute("UPDATE web_users SET pw_hash = ? WHERE name = ?", (fresh, name))
        return user, ""

    # ------------------------------------------------------------------ audit

    @_locked
    def audit(self, user: str, address: str, action: str, target: str = "", detail: str = "",
              ok: bool = True) -> None:
        self.conn.execute("INSERT INTO web_audit(at, user, address, action, target, detail, ok) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (self.clock(), user, address, action, target, detail[:500], int(ok)))

    @_locked
    def audit_log(self, limit: int | None = 500, user: str = "", action: str = "") -> list[AuditEntry]:
        sql = "SELECT id, at, user, address, action, target, detail, ok FROM web_audit WHERE 1=1"
        args: list = []
        if user:
            sql += " AND user = ?"
            args.append(user)
        if action:
            sql += " AND action = ?"
            args.append(action)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]))
                for r in self.conn.execute(sql, args).fetchall()]


def check_name(name: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise AccountError("账户名须为 1 到 32 个字母、数字、汉字或 _ . -")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"密码最多 {MAX_PASSWORD} 个字符")
    if len(set(password)) < 4:
        raise AccountError("密码太简单：至少要有 4 个不同的字符")


def _verify(pw_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(pw_hash, password)
    except (VerificationError, InvalidHashError):
        return False
