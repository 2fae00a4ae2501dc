"""The README's first command, in its short form: the whole hall runs headless and what
it leaves behind agrees with itself."""

import json
import subprocess
import sys

import pytest
from PIL import Image

from tests.hubproc import REPO

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.gui]


def test_headless_demo_runs_a_busy_hour(tmp_path):
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "hallq", "demo", "--headless", "--quick",
                             "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                            timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert all(c["ok"] for c in summary["checks"]), summary["checks"]
    issued = summary["figures"]["issued"]
    assert issued >= 5
    assert len(list((out / "tickets").glob("*.png"))) == issued
    assert len(list((out / "tickets").glob("*.bin"))) == issued
    assert len(list((out / "voice").glob("*.wav"))) >= summary["figures"]["served"]
    assert len(list((out / "led").glob("strip-*.png"))) == 8
    wall = Image.open(out / "wall" / "wall-final.png")
    assert wall.size == (1920, 1080) and wall.convert("L").getextrema() != (0, 0)
    assert (out / "report.xlsx").stat().st_size > 0
    console = sorted(p.name for p in (out / "console").glob("*.png"))
    assert console == ["alerts-pc.png", "cases-pc.png", "control-pc.png", "devices-pc.png",
                       "live-pc.png", "live-tablet.png", "reports-pc.png"]
    assert "✅" in (out / "summary.md").read_text(encoding="utf-8")
