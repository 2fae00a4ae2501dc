"""Run the real terminal program headless on a script, next to a real hub, from asyncio tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from caller.core.client import HubClient
from caller.core.config import load_config
from hallq.harness.process import ProcessHarness, hallq_argv
from tests.hubproc import DEMO_CONFIG

CFG = load_config(DEMO_CONFIG)
RUN_TIMEOUT_S = 60


@dataclass
class Run:
    returncode: int | None
    record: dict
    stderr: str
    out: Path

    @property
    def shots(self) -> dict:
        return self.record["shots"]

    def check(self) -> Run:
        assert self.returncode == 0 and self.record["ok"], (self.record["error"],
                                                            self.stderr[-3000:])
        return self

    def texts(self, shot: str) -> str:
        """Everything shown in a shot, as one string (button captions include their keys)."""
        return "\n".join(self.shots[shot]["texts"])

    def image(self, shot: str) -> Image.Image:
        return Image.open(self.out / f"{shot}.png")


async def run_terminal(hub_url: str, out: Path, steps: list[dict], *, device: str = "term-1",
                       config: Path = DEMO_CONFIG,
                       on_mark: Callable[[str], Awaitable[None]] | None = None) -> Run:
    """Start `hallq terminal --headless --script`, answer its marks, wait for it to end."""
    out.mkdir(parents=True, exist_ok=True)
    script = out / "steps.json"
    script.write_text(json.dumps(steps, ensure_ascii=False), encoding="utf-8")
    terminal = ProcessHarness(
        hallq_argv("terminal", "--config", str(config), "--device", device, "--hub", hub_url,
                   "--headless", "--shots", str(out), "--script", str(script)),
        out / "terminal.log", follow=True).start()
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while (line := await asyncio.to_thread(
                terminal.next_line, max(0.1, deadline - time.monotonic()))) is not None:
            if line.get("mark") and on_mark is not None:
                await on_mark(line["mark"])
        await asyncio.to_thread(terminal.wait, 10)  # it ends by itself after its script
    finally:
        code = await asyncio.to_thread(terminal.stop)
    record_path = out / "record.json"
    record = (json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists()
              else {"ok": False, "error": "no record.json", "shots": {}})
    return Run(code, record, terminal.tail(), out)


def client(hub_url: str, device: str, **kw) -> HubClient:
    return HubClient(hub_url, device, CFG.devices[device].token, **kw)


def looks_drawn(image: Image.Image) -> bool:
    """A real frame, not a blank one: the bar's colours are all there."""
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    return image.size == (1280, 220) and len(colours) > 50
