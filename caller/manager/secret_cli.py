"""`hallq secret new FILE`: make the hall secret for real-name tickets (mode 0600)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from caller.core.personal import new_secret


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["new"])
    parser.add_argument("file", type=Path, help="where to write it; never replaced")


def run(args: argparse.Namespace) -> int:
    try:
        new_secret(args.file)
    except FileExistsError:
        print(f"hallq secret: {args.file} exists; not replacing it (every stored person key "
              "would stop matching)", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"hallq secret: cannot write {args.file}: {e.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {args.file} (mode 0600); set [personal] secret_file to it")
    return 0
