"""What the pty simulators share: the stable link to their pty, and their command line.

Every simulator program (``hallq sim bus``, ``hallq sim idcard``) takes ``--link`` (a
symlink kept pointing at the pty, so a config can name one path across replugs) and
``--script FILE``, prints one banner line, then carries out commands one a line from the
script or stdin: a wrong command is reported on stderr (and ends a script with status 2).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO


def stable_link(link: str | os.PathLike[str] | None) -> Path | None:
    """The link a simulator keeps; FileExistsError when the path is something else."""
    if link is None:
        return None
    path = Path(link)
    if path.exists() and not path.is_symlink():
        raise FileExistsError(f"{path} exists and is not a symlink; not replacing it")
    return path


def point_link(link: Path, target: str) -> None:
    """Make ``link`` point at ``target`` in one step, so a reader never sees it missing."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    os.replace(temporary, link)


def simulator_parser(prog: str, description: str, commands: str) -> argparse.ArgumentParser:
    """A simulator's parser with ``--link`` and ``--script``; add the device's own options."""
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=commands,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--link", help="keep a symlink here to the pty (stable name for configs)")
    parser.add_argument("--script", type=Path, help="read commands from this file, then exit")
    return parser


def run_line(sim: Any, line: str, commands: str, out: TextIO,
             device: Callable[[str, list[str]], bool]) -> bool:
    """Carry out one command line: the words every simulator knows (quit, sleep, unplug,
    replug, help), else ``device(word, rest)``, which returns False for a word it does not
    know. False when the line asks to quit; ValueError when it is wrong."""
    words = line.split("#", 1)[0].split()
    if not words:
        return True
    head, *rest = words
    if head in ("quit", "exit"):
        return False
    if head == "sleep":
        if len(rest) != 1:
            raise ValueError("usage: sleep SECONDS")
        time.sleep(float(rest[0]))
    elif head == "unplug":
        sim.unplug()
    elif head == "replug":
        sim.replug()
        print(f"plugged in at {sim.port}", file=out, flush=True)
    elif head == "help":
        print(commands, file=out, end="", flush=True)
    elif not device(head, rest):
        raise ValueError(f"unknown command {head!r} (try help)")
    return True


def run_program(parser: argparse.ArgumentParser, args: argparse.Namespace, sim: Any, name: str,
                run_command: Callable[[str], bool],
                errors: tuple[type[Exception], ...] = (ValueError,)) -> int:
    """Announce ``sim`` and carry out the commands; ``run_command(line)`` is False on quit."""
    if args.script is not None and not args.script.is_file():
        parser.error(f"no script file {args.script}")
    link = f" (link {args.link})" if args.link else ""
    print(f"{name} on {sim.port}{link}; type help for commands", flush=True)
    if args.script is None:
        return _run_lines(sys.stdin, None, run_command, errors)
    with args.script.open(encoding="utf-8") as lines:
        return _run_lines(lines, args.script, run_command, errors)


def _run_lines(lines: Iterable[str], script: Path | None, run_command: Callable[[str], bool],
               errors: tuple[type[Exception], ...]) -> int:
    try:
        for number, line in enumerate(lines, 1):
            try:
                if not run_command(line):
                    break
            except errors as error:
                where = f"{script}:{number}: " if script else ""
                print(f"error: {where}{error}", file=sys.stderr, flush=True)
                if script:
                    return 2
    except KeyboardInterrupt:
        pass
    return 0
