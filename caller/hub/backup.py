"""`hallq backup --db hallq.db --to backups/`: a consistent copy of the hub's database,
safe while the hub runs (SQLite's online backup API reads a snapshot under WAL)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import datetime
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="hallq.db", help="the hub's database")
    parser.add_argument("--to", default="backups",
                        help="a folder (a dated file is made in it) or a file name")


def backup(db: Path, target: Path) -> Path:
    """Copy `db` to `target` (a folder or a file); return the file written."""
    if not db.is_file():
        raise FileNotFoundError(f"no database at {db}")
    if target.is_dir() or not target.suffix:
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"{db.stem}-{datetime.now():%Y%m%d-%H%M%S}.db"
    source = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
        if dest.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise RuntimeError(f"the copy at {target} failed its integrity check")
    finally:
        dest.close()
        source.close()
    return target


def run(args: argparse.Namespace) -> int:
    try:
        written = backup(Path(args.db), Path(args.to))
    except (OSError, sqlite3.Error, RuntimeError) as e:
        print(f"hallq backup: {e}", file=sys.stderr)
        return 1
    print(f"backed up {args.db} -> {written}")
    return 0
