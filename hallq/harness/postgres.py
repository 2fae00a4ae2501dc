"""A throwaway PostgreSQL cluster for tests, benches and the demo.

`initdb` and `pg_ctl` (Debian's `postgresql` package: /usr/lib/postgresql/*/bin) make a
cluster in a temporary folder that listens on a Unix socket in that folder only (no TCP),
with a superuser `hallq` trusted on that socket. The cluster can be stopped and started
again on the same data (to take the centre down in a test) and is removed by `close()`.
PostgreSQL refuses to run as root: then the cluster's folder is given to the `postgres`
system user (the package creates it) and the server runs as that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from caller.core.errors import HallqError

SUPERUSER = "hallq"
DATABASE = "central"
START_S = 60
# A throwaway cluster needs no crash safety: tests and the demo run faster without it.
_FAST = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


class PostgresMissing(HallqError):
    """PostgreSQL's server programs are not installed."""


def server_bin() -> Path:
    """The folder with initdb and pg_ctl, the newest version installed; raise PostgresMissing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not found:
        raise PostgresMissing(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run "
            "scripts/setup.sh, or on Debian: apt-get install postgresql")
    return Path(found[-1]).parent


class Postgres:
    """One cluster in `root` (a new temporary folder when None), database `central`."""

    def __init__(self, root: Path | None = None, *, durable: bool = False) -> None:
        self.bin = server_bin()
        # A short path: a Unix socket's path must stay under about 100 bytes.
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="hallq-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.durable = durable
        self._user = _run_as()

    @property
    def dsn(self) -> str:
        """The connection string of the `central` database (libpq key=value form)."""
        return f"host={self.socket_dir} dbname={DATABASE} user={SUPERUSER}"

    def dsn_for(self, dbname: str) -> str:
        return f"host={self.socket_dir} dbname={dbname} user={SUPERUSER}"

    def start(self) -> Postgres:
        """Create the cluster on the first start; start the server and wait until it serves."""
        first = not self.data.exists()
        if first:
            self._initdb()
        options = " ".join(["-c listen_addresses=''", f"-c unix_socket_directories='{self.socket_dir}'",
                            "-c max_connections=60", *(() if self.durable else _FAST)])
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                 "-t", str(START_S), "-o", options, "start")
        if first:
            self._pg("createdb", "-h", str(self.socket_dir), "-U", SUPERUSER, DATABASE)
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are cut off); the data stays."""
        if (self.data / "postmaster.pid").exists():
            self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        """Stop the server and remove the cluster."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._pg("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-instructions")

    def _pg(self, program: str, *args: str) -> None:
        binary = self.bin / program
        if not binary.exists():
            binary = Path(shutil.which(program) or binary)
        result = subprocess.run(
            [str(binary), *args], capture_output=True, text=True, check=False,
            user=self._user.pw_uid if self._user else None,
            group=self._user.pw_gid if self._user else None, cwd=self.root)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout,
                                                f"{result.stderr}\n(server log: {self.root / 'server.log'})")


def _run_as() -> pwd.struct_passwd | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresMissing("running as root and there is no `postgres` user to run the "
                              "server as (Debian's postgresql package creates it)") from None
