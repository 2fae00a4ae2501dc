"""`hallq token new DEVICE... --config PATH`: fresh random tokens for devices.

Each token is written to the device's `token_file` as the config names it, mode 0600,
whole or not at all (a new file renamed over the old one); it is never printed. The
config is read as plain TOML, so this also works while its tokens are still refused.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import tomllib
from pathlib import Path

from caller.core.cli import CONFIG_ERROR_EXIT
from caller.core.config import token_path
from caller.core.errors import HallqError

TOKEN_BYTES = 24


class TokenError(HallqError):
    """A device that cannot get a token file, named as `file: key: what was expected`."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = actions.add_parser("new", help="write a fresh random token to each device's token_file")
    new.add_argument("devices", nargs="*", metavar="DEVICE", help="device ids from the config")
    new.add_argument("--all", action="store_true", help="every device that has a token_file")
    new.add_argument("--config", required=True, help="the hall config (TOML)")


def token_files(config: Path, devices: list[str], every: bool) -> dict[str, Path]:
    """Device id -> the token file the config gives it."""
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
    except OSError as e:
        raise TokenError(f"{config}: cannot read the file: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise TokenError(f"{config}: not valid TOML: {e}") from e
    listed = [d for d in raw.get("devices", []) if isinstance(d, dict)]
    by_id = {d.get("id"): (i, d) for i, d in enumerate(listed)}
    wanted = [d.get("id") for d in listed if "token_file" in d] if every else devices
    if not wanted:
        raise TokenError(f"{config}: devices: expected at least one device id (or --all)")
    files: dict[str, Path] = {}
    for did in wanted:
        if did not in by_id:
            known = ", ".join(str(k) for k in by_id) or "(none)"
            raise TokenError(f"{config}: devices: no device {did!r}; expected one of {known}")
        i, device = by_id[did]
        value = device.get("token_file")
        if not isinstance(value, str) or not value:
            source = next((k for k in ("token", "token_env") if k in device), "no token source")
            raise TokenError(f"{config}: devices[{i}] (id {did!r}).token_file: missing (the "
                             f"device has {source}); expected token_file = \"tokens/{did}.token\"")
        files[did] = token_path(config.parent, value)
    return files


def write_token(path: Path) -> None:
    """A fresh token in `path`, mode 0600, replacing the old file in one rename."""
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(TOKEN_BYTES) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def run(args: argparse.Namespace) -> int:
    try:
        files = token_files(Path(args.config), args.devices, args.all)
        for did, path in files.items():
            write_token(path)
            print(f"{did}: new token in {path} (mode 0600)")
    except (TokenError, OSError) as e:
        print(f"hallq token: {e}", file=sys.stderr)
        return CONFIG_ERROR_EXIT
    print("Restart the hub, then give each device its new token and restart its program.")
    return 0
