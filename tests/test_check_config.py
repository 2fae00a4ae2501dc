"""`hallq check-config` refuses whatever any program would refuse at start, naming the file,
the key and what was expected, with exit status 2; every program refuses a config in the
same form and with the same status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from caller.core.config import ConfigError, load_config
from hallq.check_config import load_checked
from hallq.cli import main
from tests.hubproc import DEMO_CONFIG


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value, ensure_ascii=False)


def demo_with(tmp_path: Path, changes: dict[str, dict[str, object]]) -> Path:
    """A copy of the demo hall in which device id -> {key: value} replaces or adds keys."""
    blocks = re.split(r"(?m)^(?=\[\[)", DEMO_CONFIG.read_text(encoding="utf-8"))
    for i, block in enumerate(blocks):
        found = re.search(r'(?m)^id = "([^"]+)"$', block)
        if not block.startswith("[[devices]]") or not found or found[1] not in changes:
            continue
        keys = changes[found[1]]
        lines = [line for line in block.splitlines()
                 if line.split(" = ", 1)[0] not in keys]
        lines[1:1] = [f"{key} = {toml_value(value)}" for key, value in keys.items()]
        blocks[i] = "\n".join(lines) + "\n\n"
    path = tmp_path / "hall.toml"
    path.write_text("".join(blocks), encoding="utf-8")
    return path


def check(capsys, path: Path) -> tuple[int, list[str]]:
    code = main(["check-config", str(path)])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(("device", "keys", "expected"), [
    ("wall-1", {"voice_rate": "fast"},
     "devices (id 'wall-1').voice_rate: expected words per minute from 80 to 450, e.g. 150, "
     "got 'fast'"),
    ("wall-1", {"voice_rate": 5000},
     "devices (id 'wall-1').voice_rate: expected words per minute from 80 to 450, e.g. 150, "
     "got 5000"),
    ("wall-1", {"orientation": "sideways"},
     "devices (id 'wall-1').orientation: expected \"landscape\" or \"portrait\", got 'sideways'"),
    ("wall-1", {"area": "nowhere"},
     "devices (id 'wall-1').area: expected one of the windows' areas (一楼, 二楼), got 'nowhere'"),
    ("wall-1", {"voice_volume": 2.5},
     "devices (id 'wall-1').voice_volume: expected a number from 0.0 to 1.0, got 2.5"),
    ("wall-1", {"voice_lang": "fr"}, "devices (id 'wall-1').voice_lang: expected zh, yue, en, got 'fr'"),
    ("wall-1", {"voice_backend": "sapi"},
     "devices (id 'wall-1').voice_backend: expected auto, pyttsx3, espeak-ng, got 'sapi'"),
    ("wall-1", {"voice_chime": 1}, "devices (id 'wall-1').voice_chime: expected true or false, got 1"),
    ("wall-1", {"voice_one": "1"}, "devices (id 'wall-1').voice_one: expected \"一\" or \"幺\", got '1'"),
    ("counter-a", {"baudrate": 9601},
     "devices[5] (id 'counter-a').baudrate: expected one of 1200, 2400, 4800, 9600, 19200, 38400, "
     "57600, 115200, got 9601"),
    ("counter-a", {"baudrate": "fast"}, "devices[5] (id 'counter-a').baudrate: expected one of 1200"),
    ("counter-a", {"keypad": "acme"},
     "devices (id 'counter-a').keypad: unknown keypad model 'acme'; known: default"),
    ("counter-a", {"keypad": 7},
     "devices (id 'counter-a').keypad: expected the name of a keypad model, got 7"),
    ("led-a", {"baudrate": 0}, "devices[6] (id 'led-a').baudrate: expected one of 1200"),
    ("led-a", {"idle_text": "长" * 600},
     "devices (id 'led-a').idle_text: expected at most 32 columns for one strip "
     "(a Chinese character takes 2), got 1200"),
    ("led-a", {"idle_text": " "}, "devices[6] (id 'led-a').idle_text: expected a text to show, got ' '"),
    ("led-a", {"protocol": "neon"},
     "devices[6] (id 'led-a').protocol: expected one of gbk-color, bx5, got 'neon'"),
    ("kiosk-1", {"printer": "tcp://"},
     "devices (id 'kiosk-1').printer: unsupported printer URL 'tcp://'; use one of:"),
    ("kiosk-1", {"priority_entry": "yes"},
     "devices[0] (id 'kiosk-1').priority_entry: expected true or false, got 'yes'"),
    ("term-1", {"shortcuts": {"pause": "Esc"}},
     "devices (id 'term-1').shortcuts.pause: expected a key F1-F15, a letter or a digit, got 'Esc'"),
])
def test_check_config_refuses_what_a_program_would(tmp_path, capsys, device, keys, expected):
    path = demo_with(tmp_path, {device: keys})
    code, err = check(capsys, path)
    assert code == 2
    assert err[0] == "1 problem(s) in the hall config:"
    assert err[1].startswith(f"  {path}: {expected}"), err


def test_every_problem_of_every_device_is_reported_at_once(tmp_path, capsys):
    path = demo_with(tmp_path, {
        "kiosk-1": {"priority_entry": "yes"},
        "term-2": {"shortcuts": {"finish": "F1"}},
        "wall-1": {"area": "nowhere", "voice_rate": "fast"},
        "counter-a": {"keypad": "acme"},
        "led-a": {"idle_text": "长" * 600},
    })
    code, err = check(capsys, path)
    assert code == 2 and err[0] == "6 problem(s) in the hall config:"
    assert [line.split(": ")[1] for line in err[1:]] == [
        "devices[0] (id 'kiosk-1').priority_entry", "devices (id 'term-2').shortcuts",
        "devices (id 'wall-1').area", "devices (id 'wall-1').voice_rate",
        "devices (id 'counter-a').keypad", "devices (id 'led-a').idle_text"]


def test_a_device_the_loader_refused_is_not_checked_again(tmp_path):
    path = demo_with(tmp_path, {"led-a": {"strips": "all", "idle_text": "长" * 600}})
    with pytest.raises(ConfigError) as refused:
        load_checked(str(path))
    assert [p.split(": ")[0] for p in refused.value.problems] == ["devices[6] (id 'led-a').strips"]


def test_the_plain_loader_leaves_the_programs_keys_to_them(tmp_path):
    """The hub loads the config without the programs' checks: a wall's voice is not its
    business, and a bad one must not stop the hall."""
    path = demo_with(tmp_path, {"wall-1": {"voice_rate": "fast"}})
    assert load_config(path).devices["wall-1"].options["voice_rate"] == "fast"
    with pytest.raises(ConfigError, match="voice_rate"):
        load_checked(str(path))


def test_the_demo_hall_passes_every_programs_checks(capsys):
    code = main(["check-config", str(DEMO_CONFIG)])
    assert code == 0 and capsys.readouterr().out.endswith("config OK\n")


# Every program, each with what it needs besides the config to get as far as reading it.
PROGRAMS = {
    "hub": ["--db", "never.db"],
    "kiosk": ["--headless"],
    "terminal": ["--device", "term-1", "--headless"],
    "display": ["--headless"],
    "counter": ["--device", "counter-a"],
    "led": ["--device", "led-a"],
    "send": ["--device", "admin", "snapshot"],
    "cases": ["list"],
    "report": ["--from", "2026-11-23", "--db", "never.db"],
    "demo": ["--headless", "--out", "never"],
}


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_program_refuses_a_broken_config_alike(tmp_path, capsys, monkeypatch, program):
    monkeypatch.chdir(tmp_path)
    broken = tmp_path / "broken.toml"
    broken.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'name = "青山镇便民服务中心"', "name = 1", 1), encoding="utf-8")
    assert main([program, "--config", str(broken), *PROGRAMS[program]]) == 2
    assert capsys.readouterr().err == (f"1 problem(s) in the hall config:\n"
                                       f"  {broken}: hall.name: expected a string, got 1\n")
    assert not any(tmp_path.glob("never*")), "nothing is made from a refused config"


@pytest.mark.parametrize(("program", "role", "args"), [
    ("kiosk", "kiosk", ["--headless"]),
    ("terminal", "terminal", ["--headless"]),
    ("display", "display", ["--headless"]),
    ("counter", "counter", []),
    ("led", "led", []),
    ("cases", "admin", ["list"]),
])
def test_every_program_refuses_a_device_of_another_role_alike(capsys, program, role, args):
    assert main([program, "--config", str(DEMO_CONFIG), "--device", "eval-1", *args]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "1 problem(s) in the hall config:"
    assert err[1].startswith(f"  {DEMO_CONFIG}: devices (id 'eval-1').role: expected \"{role}\", "
                             f"got 'evaluator' (the {role} devices in this config: ")


def test_every_device_program_has_options_that_check_config_runs():
    """A program added without registering its options would let check-config pass configs
    that program refuses."""
    import importlib

    from hallq.check_config import PROGRAM_OPTIONS
    from hallq.cli import COMMANDS

    device_programs = ("kiosk", "terminal", "display", "counter", "led")  # named as their role
    for role in device_programs:
        package = COMMANDS[role][0].rsplit(".", 1)[0]
        assert PROGRAM_OPTIONS[role] is importlib.import_module(f"{package}.options").parse
    assert set(PROGRAM_OPTIONS) == set(device_programs)
