"""The simulated keypad/evaluator line, driven through a real pty with pyserial."""

from __future__ import annotations

import io
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import serial

from drivers.bus.ft12 import Frame, FrameParser
from drivers.bus.models import (
    FOUR_KEY,
    evaluator_press,
    evaluator_start,
    evaluator_stop,
    keypad_beep,
    keypad_display,
    keypad_fail,
    keypad_press,
)
from drivers.bus.simulator import BusSimulator, run_command

PROJECT_ROOT = Path(__file__).resolve().parents[3]
WAIT = 10.0  # generous: only ever reached when something is broken


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[BusSimulator]:
    with BusSimulator(tmp_path / "counter-bus", keypads=[1, 2], evaluators=[1]) as simulator:
        yield simulator


@pytest.fixture
def host(sim: BusSimulator) -> Iterator[serial.Serial]:
    port = serial.Serial(str(sim.link), 9600, timeout=WAIT)
    yield port
    port.close()


def test_a_press_reaches_the_host_as_the_keypad_bytes(
    sim: BusSimulator, host: serial.Serial
) -> None:
    sent = sim.press(1, "call_next")
    assert sent == bytes.fromhex("FF 68 03 03 68 01 01 0C 0E 16")
    assert host.read(len(sent)) == sent


def test_line_is_raw_so_recall_and_digits_pass_unchanged(
    sim: BusSimulator, host: serial.Serial
) -> None:
    # A cooked tty would rewrite 0D/0A, swallow 11/13 as XON/XOFF and turn 03 into SIGINT.
    control_bytes = bytes.fromhex("0D 0A 11 13 03 1A 7F")
    sim.send_raw(control_bytes)
    sent = control_bytes + sim.press(2, "recall") + sim.press(2, "call_number", "010")
    assert host.read(len(sent)) == sent


def test_a_rating_reaches_the_host_in_the_configured_model() -> None:
    with (
        BusSimulator(evaluators=[4], keypads=[], evaluator_model=FOUR_KEY) as sim,
        serial.Serial(sim.port, 9600, timeout=WAIT) as host,
    ):
        sent = sim.rate(4, "basic")
        assert sent == bytes.fromhex("FF 68 03 03 68 04 11 01 16 16")
        assert host.read(len(sent)) == sent
        with pytest.raises(ValueError, match="no keypad"):
            sim.press(4, "call_next")


def test_host_frames_set_display_beeps_and_evaluator_light(
    sim: BusSimulator, host: serial.Serial
) -> None:
    assert sim.display(1) == "      "
    host.write(keypad_display(1, "A023", 12) + keypad_beep(1) + evaluator_start(1))
    assert sim.wait_for(lambda: sim.evaluator_lit(1), WAIT)
    assert (sim.display(1), sim.beeps(1)) == ("023 12", 1)

    host.write(keypad_fail(1) + evaluator_stop(1))
    assert sim.wait_for(lambda: not sim.evaluator_lit(1), WAIT)
    assert (sim.display(1), sim.beeps(1)) == ("      ", 3)


def test_noise_from_the_host_is_ignored(sim: BusSimulator, host: serial.Serial) -> None:
    host.write(b"\x00\x68\x16\x68\x03" + keypad_display(2, "B7", 0))
    assert sim.wait_for(lambda: sim.display(2) == "  7  0", WAIT)


def test_acknowledgements_are_recorded_per_address(
    sim: BusSimulator, host: serial.Serial
) -> None:
    sent = sim.press(1, "transfer", "3")
    echoed = host.read(len(sent))
    host.write(echoed)
    assert sim.wait_for(lambda: sim.acks(1) != [], WAIT)
    assert sim.acks(1) == FrameParser().feed(sent)
    assert sim.acks(2) == []


def test_frames_for_absent_devices_change_nothing(sim: BusSimulator, host: serial.Serial) -> None:
    host.write(keypad_display(3, "A001", 1) + evaluator_start(2) + keypad_beep(1))
    assert sim.wait_for(lambda: sim.beeps(1) == 1, WAIT)
    assert sim.display(3) == "      "
    assert not sim.evaluator_lit(2)
    assert [f.address for f in sim.received] == [3, 2, 1]


def test_the_simulator_does_not_hear_its_own_presses(
    sim: BusSimulator, host: serial.Serial
) -> None:
    sent = sim.press(1, "finish")
    host.read(len(sent))
    host.write(keypad_beep(1))
    assert sim.wait_for(lambda: sim.beeps(1) == 1, WAIT)
    assert sim.received == [Frame(1, 0x03)]


def test_unplug_fails_the_host_and_replug_comes_back_on_the_same_link(
    sim: BusSimulator, host: serial.Serial
) -> None:
    link = sim.link
    assert link is not None
    sim.unplug()
    assert not os.path.lexists(link)
    with pytest.raises((OSError, serial.SerialException)):
        host.read(1)
    with pytest.raises((OSError, serial.SerialException)):
        host.write(keypad_beep(1))
    with pytest.raises(RuntimeError, match="unplugged"):
        sim.press(1, "call_next")
    host.close()

    sim.replug()
    assert os.readlink(link) == sim.port
    with serial.Serial(str(link), 9600, timeout=WAIT) as again:
        sent = sim.press(2, "hold")
        assert again.read(len(sent)) == sent
        again.write(keypad_beep(2))
        assert sim.wait_for(lambda: sim.beeps(2) == 1, WAIT)


def test_wait_for_gives_up_and_says_so(sim: BusSimulator) -> None:
    assert sim.wait_for(lambda: sim.beeps(1) > 0, timeout=0.05) is False


def test_link_never_replaces_a_real_file(tmp_path: Path) -> None:
    config = tmp_path / "hall.toml"
    config.write_text("[hall]\n")
    with pytest.raises(FileExistsError):
        BusSimulator(config)
    assert config.read_text() == "[hall]\n"


# --- commands -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("1 call", keypad_press(1, "call_next")),
        ("1 call 23", keypad_press(1, "call_number", "23")),
        ("2 recall", keypad_press(2, "recall")),
        ("1 finish", keypad_press(1, "finish")),
        ("1 pause", keypad_press(1, "pause_toggle")),
        ("1 transfer 3", keypad_press(1, "transfer", "3")),
        ("1 skip", keypad_press(1, "skip")),
        ("1 hold", keypad_press(1, "hold")),
        ("1 callheld", keypad_press(1, "call_held")),
        ("1 callheld 023", keypad_press(1, "call_held", "023")),
        ("1 rate 1", evaluator_press(1, "very_satisfied")),
        ("1 rate 4", evaluator_press(1, "dissatisfied")),
        ("1 rate basic", evaluator_press(1, "basic")),
        ("raw 68 03 03", bytes.fromhex("68 03 03")),
    ],
)
def test_commands_put_the_right_bytes_on_the_line(
    sim: BusSimulator, host: serial.Serial, command: str, expected: bytes
) -> None:
    assert run_command(sim, command, io.StringIO()) is True
    assert host.read(len(expected)) == expected


@pytest.mark.parametrize("command", ["1", "1 dance", "1 rate 6", "3 call", "2 rate 1", "fly"])
def test_wrong_commands_are_refused(sim: BusSimulator, command: str) -> None:
    with pytest.raises(ValueError):
        run_command(sim, command, io.StringIO())


def test_show_prints_every_device(sim: BusSimulator, host: serial.Serial) -> None:
    host.write(keypad_display(1, "A023", 12))
    assert sim.wait_for(lambda: sim.display(1) == "023 12", WAIT)
    out = io.StringIO()
    assert run_command(sim, "show", out) is True
    assert out.getvalue().splitlines() == [
        "keypad 1 shows [023 12] beeps=0  evaluator 1 dark  acks=0",
        "keypad 2 shows [      ] beeps=0  acks=0",
    ]
    assert run_command(sim, "quit", out) is False


def _pump_lines(stream: IO[str], into: queue.Queue[str]) -> threading.Thread:
    def pump() -> None:
        for line in stream:
            into.put(line.rstrip("\n"))

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_program_presses_keys_and_prints_what_the_keypad_shows(tmp_path: Path) -> None:
    link = tmp_path / "bus"
    program = subprocess.Popen(
        [sys.executable, "-m", "drivers.bus.simulator", "--link", str(link),
         "--keypad", "1", "--evaluator", "1", "--evaluator-model", "4key"],
        cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert program.stdin is not None and program.stdout is not None
    output: queue.Queue[str] = queue.Queue()
    pump = _pump_lines(program.stdout, output)
    try:
        assert f"(link {link})" in output.get(timeout=WAIT)
        with serial.Serial(str(link), 9600, timeout=WAIT) as host:
            program.stdin.write("1 call\n1 rate 2\n")
            program.stdin.flush()
            assert host.read(10) == keypad_press(1, "call_next")
            assert host.read(10) == evaluator_press(1, "satisfied", FOUR_KEY)
            host.write(keypad_display(1, "A023", 12) + evaluator_start(1))
            line = output.get(timeout=WAIT)
            while "lit" not in line:
                line = output.get(timeout=WAIT)
            assert line == "keypad 1 shows [023 12] beeps=0  evaluator 1 lit  acks=0"
        program.stdin.write("quit\n")
        program.stdin.flush()
        assert program.wait(timeout=WAIT) == 0
        assert not os.path.lexists(link)
    finally:
        program.kill()
        program.wait()
        pump.join()
        program.stdin.close()
        program.stdout.close()


def test_script_stops_at_a_wrong_line_and_names_it(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text("# a demo\n1 call\nsleep 0\n1 dance\n1 recall\n")
    done = subprocess.run(
        [sys.executable, "-m", "drivers.bus.simulator", "--keypad", "1", "--script", str(script)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2
    assert f"{script}:4: unknown key 'dance'" in done.stderr
