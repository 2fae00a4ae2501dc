"""The README's first command, in its short form: the whole hall runs headless and what
it leaves behind agrees with itself; and a SIGTERM stops it without leaving orphans."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.hubproc import REPO

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.gui]


def test_headless_demo_runs_a_busy_hour_and_the_centre_agrees_with_the_hall(tmp_path):
    """`make demo ARGS="--central"`: the busy hour with a local PostgreSQL and `hallq ship`
    beside the hub. One run checks both the hall and the centre (the centre only adds to
    the hall); the demo without a centre runs whole in `scripts/wheel-test.sh`, from the
    installed wheel, which fails on any check the summary marks failed."""
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "hallq", "demo", "--headless", "--quick", "--central",
                             "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert all(c["ok"] for c in summary["checks"]), summary["checks"]
    checks = {c["check"] for c in summary["checks"]}
    assert {"the centre holds every event once", "the centre's tickets are the hall's",
            "the centre's ratings are the hall's"} <= checks, checks
    centre = re.search(r"serves as the centre \((\S+)\)", result.stdout).group(1)
    assert not Path(centre).exists()  # the demo's cluster is stopped and removed
    issued = summary["kiosk_issued"]  # remote tickets and check-ins print nowhere in the demo
    assert issued >= 5
    # four booked in the hour (three check in, one late, one no-show), two before it
    # checking in at the kiosk by card and by QR code; three remote tickets
    assert summary["bookings"] == {"booked": 6, "checked_in": 5, "late": 1, "no_show": 1,
                                   "cancelled": 0, "remote": 3}
    assert summary["figures"]["issued"] == issued + 3 + 5
    reprinted = 1  # the citizen who swipes twice gets the same ticket printed again
    printed = issued + reprinted + 2  # and the two check-ins at the kiosk's screen
    assert len(list((out / "tickets").glob("*.png"))) == printed
    assert len(list((out / "tickets").glob("*.bin"))) == printed
    for shot in ("swipe-first", "swipe-again", "swipe-elderly", "card-expired", "swipe-checkin",
                 "scan-booking", "scan-ticket"):
        assert (out / "kiosk" / f"{shot}.png").is_file(), shot
    def shown(shot: str) -> list[str]:
        return json.loads((out / "kiosk" / f"{shot}.json").read_text(encoding="utf-8"))["texts"]

    assert "A002" in shown("swipe-elderly") and "身份证已过期" in " ".join(shown("card-expired"))
    for checked_in in ("swipe-checkin", "scan-booking"):  # an appointment by card, by its QR code
        assert any("签到成功" in t for t in shown(checked_in)), checked_in
    assert "A001" in shown("scan-ticket")  # the first ticket's QR, its /p/t/ page link
    assert len(list((out / "voice").glob("*.wav"))) >= summary["figures"]["served"]
    assert len(list((out / "led").glob("strip-*.png"))) == 8
    wall = Image.open(out / "wall" / "wall-final.png")
    assert wall.size == (1920, 1080) and wall.convert("L").getextrema() != (0, 0)
    assert (out / "report.xlsx").stat().st_size > 0
    console = sorted(p.name for p in (out / "console").glob("*.png"))
    assert console == ["alerts-pc.png", "cases-pc.png", "control-pc.png", "devices-pc.png",
                       "live-pc.png", "live-tablet.png", "reports-pc.png"]
    phone = sorted(p.name for p in (out / "phone").glob("*.png"))
    assert "ticket-done.png" in phone  # the citizen's live ticket page (waiting, called: if any)
    # the roster's placeholder portraits; two tablets paired, rating, a bad rating's reasons
    assert len(list((out / "evaluator" / "portraits").glob("*.jpg"))) == 8
    tablets = {p.stem for p in (out / "evaluator").glob("*.png")}
    assert {"console-pairing-code", "pairing", "console-paired"} <= tablets
    for window in ("1", "2"):
        assert any(t.startswith(f"window{window}-") for t in tablets), tablets
    for state in ("rating", "reasons", "thanks"):
        assert any(t.endswith(f"-{state}") for t in tablets), (state, tablets)
    rated = re.search(r"screen evaluators: (\d+) ratings", result.stdout)
    assert rated and int(rated.group(1)) >= 1, result.stdout[-3000:]
    assert "✅" in (out / "summary.md").read_text(encoding="utf-8")


def _sessions() -> dict[int, int]:
    """Every live process on this machine: pid -> session id (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":  # state; a zombie is dead already
            found[int(entry.name)] = int(fields[3])  # session id
    return found


def test_sigterm_stops_every_program_the_demo_started(tmp_path):
    demo = subprocess.Popen([sys.executable, "-m", "hallq", "demo", "--headless", "--quick",
                             "--out", str(tmp_path / "demo")], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    children: set[int] = set()
    try:
        seen = []
        for line in demo.stdout:  # the demo says so once the hall's programs are started
            seen.append(line)
            if "citizens will take a number" in line:
                break
        # hub, counter, LED bridge, web console, wall, kiosk and two terminals, each in a session
        # of its own
        deadline = time.monotonic() + 30
        while len(children) < 8 and time.monotonic() < deadline and demo.poll() is None:
            children = {pid for pid, sid in _sessions().items()
                        if pid == sid and _parent(pid) == demo.pid}
            time.sleep(0.1)
        assert demo.poll() is None and len(children) == 8, "".join(seen)
        demo.send_signal(signal.SIGTERM)
        rest = demo.stdout.read()
        assert demo.wait(60) == 128 + signal.SIGTERM, rest
        assert "stopped by SIGTERM" in rest
        survivors = {pid for pid, sid in _sessions().items() if sid in children}
        assert not survivors, survivors
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
        demo.stdout.close()
        for pid, sid in _sessions().items():  # a failed run leaves no orphans behind either
            if sid in children:
                os.kill(pid, signal.SIGKILL)


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None
