"""The real kiosk program headless in its own process, driven by a script, for the tests: a
thin layer over `hallq.harness.kiosk` that fails the test with the kiosk's log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hallq.harness.kiosk import RUN_S as WAIT_S
from hallq.harness.kiosk import KioskProcess as _KioskProcess
from tests.hubproc import DEMO_CONFIG

LANDSCAPE, PORTRAIT, TABLET = "1920x1080", "1080x1920", "1280x800"
__all__ = ["LANDSCAPE", "PORTRAIT", "TABLET", "WAIT_S", "KioskProcess", "KioskRun", "config_with",
           "kiosk_reader", "run_kiosk", "shown", "widget"]


def config_with(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the demo hall with one line of the kiosk's options changed."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in the demo config once"
    path = tmp_path / "hall.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def kiosk_reader(config: Path, line: str) -> None:
    """Give the demo kiosk (kiosk-1) of the hall config at `config` one more option line."""
    text = config.read_text(encoding="utf-8").replace(
        'token = "demo-kiosk-1"\n', f'token = "demo-kiosk-1"\n{line}\n', 1)
    config.write_text(text, encoding="utf-8")


@dataclass
class KioskRun:
    shots: Path
    returncode: int | None
    stderr: str
    run: dict  # record.json: ok, error, shots, timings, alerts, replies

    def shot(self, name: str) -> dict:
        return json.loads((self.shots / f"{name}.json").read_text(encoding="utf-8"))


class KioskProcess(_KioskProcess):
    """`hallq kiosk` on the demo hall; `finish()` asserts that its script passed."""

    def __init__(self, tmp_path: Path, hub_url: str, steps: list[str], *, size: str = LANDSCAPE,
                 printer: str = "", config: Path = DEMO_CONFIG, extra: tuple[str, ...] = ()) -> None:
        super().__init__(hub_url, tmp_path / f"shots-{size}", steps, size=size, printer=printer,
                         config=config, extra=extra)

    def finish(self, timeout: float = WAIT_S) -> KioskRun:
        code, record = super().finish(timeout)
        run = KioskRun(self.shots, code, self.log(), record)
        assert code == 0 and record["ok"], f"kiosk script failed ({code}): {record['error']}\n" \
                                           f"{run.stderr}"
        return run


def run_kiosk(tmp_path: Path, hub_url: str, steps: list[str], **kwargs: object) -> KioskRun:
    with KioskProcess(tmp_path, hub_url, steps, **kwargs) as kiosk:
        return kiosk.finish()


def widget(shot: dict, kiosk_id: str) -> dict:
    found = shot["widgets"].get(kiosk_id)
    assert found is not None, f"no widget {kiosk_id!r} on screen {shot['screen']!r}"
    return found


def shown(shot: dict, kiosk_id: str) -> bool:
    found = shot["widgets"].get(kiosk_id)
    return bool(found and found["shown"])
