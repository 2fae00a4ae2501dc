"""Reading the central database: where its DSN comes from, and a read-only connection.

The central reports and the city console only read; their sessions are opened read-only
(`default_transaction_read_only`), so a mistake in them can never change the centre.
"""

from __future__ import annotations

import stat
from pathlib import Path

import psycopg

from caller.core.errors import HallqError

CONNECT_TIMEOUT_S = 5
_DSN_PREFIXES = ("postgresql://", "postgres://")


class CentralError(HallqError):
    """The central database cannot be reached or read, or a request of it is wrong."""


def read_dsn(source: str) -> str:
    """The DSN itself (`postgresql://…` or `key=value …`), or the path of a file holding it.

    A file must be readable by its owner only (mode 0600): it usually holds a password."""
    text = source.strip()
    if text.startswith(_DSN_PREFIXES) or "=" in text:
        return text
    path = Path(text)
    if not path.is_file():
        raise CentralError(f"--central {source}: expected a postgresql:// DSN or the path of a "
                           "file holding one; no such file")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise CentralError(f"{path}: the DSN file is readable by others (mode {mode:04o}); "
                           f"expected mode 0600: chmod 600 {path}")
    dsn = path.read_text(encoding="utf-8").strip()
    if not dsn:
        raise CentralError(f"{path}: the DSN file is empty; expected one line postgresql://…")
    return dsn


def connect_readonly(dsn: str) -> psycopg.Connection:
    """A read-only session on the central database; CentralError when it cannot be had."""
    try:
        return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True,
                               options="-c default_transaction_read_only=on")
    except psycopg.Error as e:
        # libpq's message names the server, never the password
        raise CentralError(f"cannot connect to the central database: {str(e).strip()}") from None

