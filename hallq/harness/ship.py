"""A hall that ships to a centre, for tests, benches and the demo: its config (the given
hall config with `[hall] id`, `region_code`, `level`, a `shipper` device and `[central]`)
and `hallq ship` as a child process."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from hallq.harness.process import ProcessHarness, hallq_argv

__all__ = ["ShipperProcess", "central_config"]

SHIPPER_TOKEN = "demo-shipper-0001"


def central_config(base: Path, folder: Path, dsn: str, *, hall_id: str, region_code: str = "330106",
                   level: str = "town", name: str | None = None, batch_size: int = 5000,
                   backlog_max: int = 500_000) -> Path:
    """Write `folder/<hall_id>.toml` (and its DSN file, mode 0600) from the config `base`."""
    folder.mkdir(parents=True, exist_ok=True)
    dsn_file = folder / f"{hall_id}.dsn"
    dsn_file.write_text(dsn + "\n", encoding="utf-8")
    os.chmod(dsn_file, 0o600)
    text = base.read_text(encoding="utf-8")
    head = f'[hall]\nid = "{hall_id}"\nregion_code = "{region_code}"\nlevel = "{level}"\n'
    text = text.replace("[hall]\n", head, 1)
    if name is not None:
        text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', text, count=1)
    text += (f'\n[[devices]]\nid = "shipper"\nrole = "shipper"\ntoken = "{SHIPPER_TOKEN}"\n'
             f'\n[central]\ndsn_file = "{dsn_file.name}"\nbatch_size = {batch_size}\n'
             f'backlog_max = {backlog_max}\n')
    path = folder / f"{hall_id}.toml"
    path.write_text(text, encoding="utf-8")
    return path


class ShipperProcess:
    """`hallq ship` for one hall; `kill()` is a crash (SIGKILL), `stop()` a clean stop."""

    def __init__(self, config: Path, db: Path, hub_url: str | None) -> None:
        hub = ["--hub", hub_url] if hub_url else ["--no-hub"]
        self.harness = ProcessHarness(
            hallq_argv("ship", "--config", str(config), "--db", str(db), *hub),
            db.with_suffix(".ship.log"), follow=True)

    @property
    def proc(self) -> subprocess.Popen | None:
        return self.harness.proc

    def start(self) -> ShipperProcess:
        self.harness.start(ready=lambda line: line.get("ready") is True, timeout=30)
        return self

    def kill(self) -> None:
        self.harness.kill()
        self.harness.finish()  # reaped, its pipes closed: it may be started again

    def stop(self) -> int | None:
        return self.harness.stop()

    def __enter__(self) -> ShipperProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
