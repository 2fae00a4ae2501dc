"""The LED strip simulator, driven through real ptys, real UDP sockets and real PNGs."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import serial
from PIL import Image

from drivers.led import StripText, get_protocol
from drivers.led.simulator import DOT_PITCH_PX, DOTS_HIGH, LedLineSimulator, LedUdpSimulator
from drivers.led.transport import open_line

REPO = Path(__file__).resolve().parents[3]
# Only a liveness bound for a hung reader; a healthy run takes milliseconds.
PATIENCE_S = 20.0

CALL_A001 = StripText.plain("请A001号办理", "red")
PAUSED = StripText((("3号窗口", "green"), ("暂停服务", "yellow")))


@pytest.fixture
def gbk_line() -> Iterator[LedLineSimulator]:
    with LedLineSimulator("gbk-color") as sim:
        yield sim


def _write_serial(port: str, *frames: bytes) -> None:
    with serial.serial_for_url(port, 9600, write_timeout=PATIENCE_S) as line:
        for frame in frames:
            line.write(frame)
        line.flush()


def _lit_pixels(path: Path) -> dict[str, int]:
    image = Image.open(path).convert("RGB")
    counts = {"red": 0, "green": 0, "yellow": 0}
    for r, g, b in image.getdata():
        if r > 200 and g < 90 and b < 90:
            counts["red"] += 1
        elif g > 200 and r < 90:
            counts["green"] += 1
        elif r > 200 and g > 150 and b < 90:
            counts["yellow"] += 1
    return counts


def test_frames_written_with_pyserial_show_on_the_right_strips(gbk_line: LedLineSimulator) -> None:
    proto = get_protocol("gbk-color")
    _write_serial(gbk_line.port, proto.encode(1, CALL_A001), proto.encode(3, PAUSED))

    assert gbk_line.wait_for(lambda s: s.text(1) and s.text(3), PATIENCE_S)
    assert gbk_line.text(1) == "请A001号办理"
    assert gbk_line.content(3) == PAUSED
    assert gbk_line.text(2) == ""
    assert gbk_line.addresses() == [1, 3]


def test_strip_png_looks_like_a_lit_dot_matrix(gbk_line: LedLineSimulator, tmp_path: Path) -> None:
    proto = get_protocol("gbk-color")
    _write_serial(gbk_line.port, proto.encode(1, CALL_A001), proto.encode(3, PAUSED))
    assert gbk_line.wait_for(lambda s: s.text(1) and s.text(3), PATIENCE_S)

    path = gbk_line.render_png(1, tmp_path / "strip-1.png")

    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert height >= DOTS_HIGH * DOT_PITCH_PX
    assert width > 3 * height  # a strip, not a square
    lit = _lit_pixels(path)
    assert lit["red"] > 1000 and lit["green"] == 0 and lit["yellow"] == 0

    written = gbk_line.render_all_png(tmp_path / "all")
    assert sorted(p.name for p in written) == ["strip-1.png", "strip-3.png"]
    both = _lit_pixels(tmp_path / "all" / "strip-3.png")
    assert both["green"] > 500 and both["yellow"] > 500 and both["red"] == 0


def test_a_blank_strip_draws_no_lit_dots(gbk_line: LedLineSimulator, tmp_path: Path) -> None:
    assert _lit_pixels(gbk_line.render_png(9, tmp_path / "never-written.png")) == {
        "red": 0,
        "green": 0,
        "yellow": 0,
    }


def test_noise_on_the_line_does_not_hide_the_next_frame(gbk_line: LedLineSimulator) -> None:
    frame = get_protocol("gbk-color").encode(4, CALL_A001)
    _write_serial(gbk_line.port, b"\x00\xff\xa0\x13noise", frame[:5], frame[5:])

    assert gbk_line.wait_for(lambda s: s.text(4) == "请A001号办理", PATIENCE_S)


def test_history_keeps_every_write_so_flashing_is_visible(gbk_line: LedLineSimulator) -> None:
    proto = get_protocol("gbk-color")
    _write_serial(
        gbk_line.port,
        proto.encode(1, CALL_A001),
        proto.encode(1, StripText()),
        proto.encode(1, CALL_A001),
    )

    assert gbk_line.wait_for(lambda s: len(s.history) == 3, PATIENCE_S)
    assert [w.content.text for w in gbk_line.history] == ["请A001号办理", "", "请A001号办理"]


def test_the_writer_may_close_and_reopen_the_port(gbk_line: LedLineSimulator) -> None:
    proto = get_protocol("gbk-color")
    _write_serial(gbk_line.port, proto.encode(1, CALL_A001))
    assert gbk_line.wait_for(lambda s: s.text(1), PATIENCE_S)

    _write_serial(gbk_line.port, proto.encode(1, PAUSED))
    assert gbk_line.wait_for(lambda s: s.content(1) == PAUSED, PATIENCE_S)


def test_link_points_at_the_pty_and_goes_away_on_close(tmp_path: Path) -> None:
    link = tmp_path / "led-line"
    link.symlink_to("/nonexistent-stale-port")  # left over from an earlier run
    with LedLineSimulator("bx5", link=link) as sim:
        assert os.readlink(link) == sim.port
        assert sim.url == str(link)
        with contextlib.closing(open_line(str(link))) as line:  # the bridge's transport
            line.write(get_protocol("bx5").encode(0x0102, CALL_A001))
        assert sim.wait_for(lambda s: s.text(0x0102) == "请A001号办理", PATIENCE_S)
    assert not os.path.lexists(link)


def test_a_real_file_at_the_link_path_is_left_alone(tmp_path: Path) -> None:
    taken = tmp_path / "not-a-link"
    taken.write_text("keep")
    open_fds = len(os.listdir("/proc/self/fd"))

    with pytest.raises(FileExistsError):
        LedLineSimulator("gbk-color", link=taken)

    assert taken.read_text() == "keep"
    assert len(os.listdir("/proc/self/fd")) == open_fds  # the pty pair was closed again


def test_udp_strips_receive_datagrams_from_the_udp_transport() -> None:
    with LedUdpSimulator("bx5") as sim:
        assert sim.url.startswith("udp://127.0.0.1:")
        with contextlib.closing(open_line(sim.url)) as line:
            line.write(get_protocol("bx5").encode(2, PAUSED))
        assert sim.wait_for(lambda s: s.content(2) == PAUSED, PATIENCE_S)


def test_open_line_rejects_a_udp_url_without_a_port() -> None:
    with pytest.raises(ValueError, match="udp://host:port"):
        open_line("udp://127.0.0.1")


def test_simulator_refuses_an_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="valid: bx5, gbk-color"):
        LedLineSimulator("gbk")


def _pump_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


@pytest.mark.e2e
def test_cli_prints_each_change_and_keeps_pngs(tmp_path: Path) -> None:
    link = tmp_path / "led"
    png_dir = tmp_path / "png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drivers.led.simulator", "--protocol", "gbk-color",
         "--link", str(link), "--png-dir", str(png_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    lines: queue.Queue[str] = queue.Queue()
    pump = threading.Thread(target=_pump_lines, args=(proc.stdout, lines))
    pump.start()
    try:
        assert lines.get(timeout=PATIENCE_S) == f"LED strips (gbk-color) listening on {link}"

        proto = get_protocol("gbk-color")
        _write_serial(str(link), proto.encode(1, CALL_A001), proto.encode(2, PAUSED))

        assert lines.get(timeout=PATIENCE_S) == "strip 1: 请A001号办理 (red)"
        assert lines.get(timeout=PATIENCE_S) == "strip 2: 3号窗口 (green) 暂停服务 (yellow)"
        assert _lit_pixels(png_dir / "strip-1.png")["red"] > 1000
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=PATIENCE_S)
        pump.join()
        proc.stdout.close()
    assert proc.returncode == 0
    assert not os.path.lexists(link)
