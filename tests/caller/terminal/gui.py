"""Run the real terminal program headless on a script, next to a real hub, from asyncio tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from caller.core.client import HubClient
from caller.core.config import load_config
from tests.hubproc import DEMO_CONFIG, REPO

CFG = load_config(DEMO_CONFIG)
RUN_TIMEOUT_S = 60


@dataclass
class Run:
    returncode: int
    record: dict
    stderr: str
    out: Path

    @property
    def shots(self) -> dict:
        return self.record["shots"]

    def check(self) -> Run:
        assert self.returncode == 0 and not self.record["errors"], (self.record["errors"],
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
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hallq", "terminal", "--config", str(config), "--device", device,
        "--hub", hub_url, "--headless", "--shots", str(out), "--script", str(script),
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stderr_task = asyncio.create_task(proc.stderr.read())
    try:
        async def follow() -> None:
            async for line in proc.stdout:
                with contextlib.suppress(ValueError):
                    mark = json.loads(line).get("mark")
                    if mark and on_mark is not None:
                        await on_mark(mark)
            await proc.wait()
        await asyncio.wait_for(follow(), RUN_TIMEOUT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await stderr_task).decode("utf-8", "replace")
    record_path = out / "record.json"
    record = (json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists()
              else {"shots": {}, "errors": ["no record.json"]})
    return Run(proc.returncode, record, stderr, out)


def client(hub_url: str, device: str, **kw) -> HubClient:
    return HubClient(hub_url, device, CFG.devices[device].token, **kw)


def looks_drawn(image: Image.Image) -> bool:
    """A real frame, not a blank one: the bar's colours are all there."""
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
    return image.size == (1280, 220) and len(colours) > 50
