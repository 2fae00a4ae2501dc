"""A damaged database file: the hub refuses to serve from it, naming the file and what
to do, with an exit status systemd does not restart on (no crash loop), and leaves the
file as it found it for the restore."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from caller.hub.main import EXIT_DB_DAMAGED
from caller.hub.store import DamagedDatabase, Store
from tests.hubproc import DEMO_CONFIG, REPO

PAGE = 4096


def filled_db(path: Path) -> Path:
    """A real hub database with a few hundred KiB of events, fully checkpointed."""
    Store(path, synchronous="OFF").close()
    with sqlite3.connect(path) as conn:
        body = json.dumps({"event": "ticket_issued", "pad": "x" * 300})
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                         [(i, "2026-11-24T09:00:00+08:00", "ticket_issued", body)
                          for i in range(1, 2001)])
    conn.close()
    return path


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def scribbled(path: Path) -> None:
    """Garbage over some pages in the middle (a bad sector, a half-written page)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // PAGE // 2 * PAGE
    data[middle: middle + 3 * PAGE] = b"\xa5" * (3 * PAGE)
    path.write_bytes(bytes(data))


def no_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = b"\0" * 100
    path.write_bytes(bytes(data))


DAMAGES = [truncated, scribbled, no_header]


def hub(db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hallq", "hub", "--config", str(DEMO_CONFIG),
                           "--db", str(db), "--port", "0"],
                          cwd=REPO, capture_output=True, text=True, timeout=30)


@pytest.mark.e2e
@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_the_hub_refuses_a_damaged_database_and_names_it(tmp_path, damage):
    db = filled_db(tmp_path / "hall.db")
    damage(db)
    before = db.read_bytes()
    result = hub(db)
    assert result.returncode == EXIT_DB_DAMAGED, result.stderr
    assert result.stdout == ""  # never said it was ready
    assert f"the database {db} is damaged" in result.stderr
    assert "Restore the last backup" in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == before


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_the_store_refuses_a_damaged_database_and_frees_it_again(tmp_path, damage):
    db = filled_db(tmp_path / "hall.db")
    damage(db)
    with pytest.raises(DamagedDatabase, match=f"the database {db} is damaged"):
        Store(db)
    db.unlink()  # moved aside: the next start makes an empty database
    Store(db).close()


def test_a_sound_database_passes_the_check(tmp_path):
    db = filled_db(tmp_path / "hall.db")
    store = Store(db)
    assert store.last_seq == 2000
    store.close()
