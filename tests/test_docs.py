"""Keep the reference documents, the example configs and the deployment files honest.

The protocol reference must name every command, argument, error code, event, payload key
and role the code has; the config schema every key the loader accepts, with the defaults
the loader fills in; the example configs must load and pass every program's own checks;
every `hallq` command line in `deploy/` must name a real sub-command with options it
accepts, and the systemd units must pass `systemd-analyze verify`; the statistics guide
every figure, ranking column, appointment count and rating-record field the reports
write; the hardware guide's frame listing what the encoders make.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import configparser
import contextlib
import importlib
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest

from caller.core import config as config_module
from caller.core import protocol
from caller.core.config import (
    ANNOUNCE_FIELDS,
    EVALUATOR_MODELS,
    LED_PROTOCOLS,
    PRINTER_SCHEMES,
    RATING_LEVELS,
    ROLES,
    WEEKDAYS,
    Calling,
    ConfigError,
    load_config,
    parse_config,
)
from caller.core.i18n import translator
from caller.manager import record, report, stats
from caller.manager.booking_stats import BOOKING_COLUMNS
from hallq import check_config
from hallq.cli import COMMANDS

REPO = Path(__file__).resolve().parent.parent
PROTOCOL_MD = REPO / "docs" / "protocol.md"
SCHEMA_MD = REPO / "config" / "SCHEMA.md"
STATISTICS_MD = REPO / "docs" / "statistics.md"
HARDWARE_MD = REPO / "docs" / "hardware.md"
DOCS = [PROTOCOL_MD, SCHEMA_MD, REPO / "docs" / "deployment.md", HARDWARE_MD,
        REPO / "deploy" / "README.md", STATISTICS_MD]
EXAMPLES = sorted((REPO / "config" / "examples").glob("*.toml"))
DEPLOY = REPO / "deploy"
# The example configs read these tokens from the environment (token_env).
EXAMPLE_ENV = {"HALLQ_TOKEN_ADMIN": "example-admin-token"}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """From the line `heading` to the next heading of the same or a higher level."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == heading]
    assert starts, f"no heading {heading!r}"
    level = len(heading) - len(heading.lstrip("#"))
    body = []
    for line in lines[starts[0] + 1:]:
        if re.match(rf"#{{1,{level}}} ", line):
            break
        body.append(line)
    return "\n".join(body)


def row(text: str, key: str) -> list[str]:
    """The cells of the table row whose first cell is `key` in backticks."""
    for line in text.splitlines():
        if line.startswith(f"| `{key}` |"):
            return [cell.strip() for cell in line.strip().strip("|").split("|")]
    raise AssertionError(f"no table row for `{key}`")


def backticked(text: str) -> set[str]:
    """Every `name` in the text, outside fenced code blocks."""
    return set(re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S)))


# ---------------------------------------------------------------- docs/protocol.md


def command_section(command: str) -> str:
    text = read(PROTOCOL_MD)
    for line in text.splitlines():
        if line.startswith("### ") and f"`{command}`" in line:
            return section(text, line.strip())
    raise AssertionError(f"docs/protocol.md has no ### heading for `{command}`")


@pytest.mark.parametrize("command", sorted(protocol.SCHEMAS))
def test_every_command_has_a_section_naming_its_arguments(command):
    text = command_section(command)
    for argument in protocol.SCHEMAS[command]:
        assert re.search(rf"\b{argument}\b", text), f"{command}: argument {argument} not documented"


def test_every_error_code_is_in_the_table_with_its_message():
    table = section(read(PROTOCOL_MD), "## Error codes")
    for code in protocol.ERROR_CODES:
        cells = row(table, code)
        message = translator("zh", "hub")(code)
        for piece in re.split(r"\{\w+\}", message):
            assert piece.strip() in cells[2], f"{code}: message {message!r} not shown"


def emitted_events() -> dict[str, set[str]]:
    """Every event the engine emits, with the payload keys passed by name."""
    tree = ast.parse(read(REPO / "caller" / "hub" / "engine.py"))
    events: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_emit" and node.args
                and isinstance(node.args[0], ast.Attribute)):  # _emit(Event.NAME, ...)
            keys = {k.arg for k in node.keywords if k.arg is not None}
            events.setdefault(protocol.Event[node.args[0].attr].value, set()).update(keys)
    assert len(events) > 15
    return events


def test_every_event_and_payload_key_is_in_the_events_table():
    table = section(read(PROTOCOL_MD), "## Events")
    for name, keys in emitted_events().items():
        payload = row(table, name)[1]
        assert keys <= backticked(payload), f"{name}: undocumented payload keys {keys - backticked(payload)}"


def test_the_roles_table_lists_exactly_what_each_role_may_send():
    table = section(read(PROTOCOL_MD), "## Roles")
    for role, commands in protocol.ROLE_COMMANDS.items():
        assert backticked(row(table, role)[1]) == set(commands), role


def test_close_codes_and_limits_are_stated():
    text = read(PROTOCOL_MD)
    for code in (protocol.CLOSE_BAD_HELLO, protocol.CLOSE_UNAUTHORISED):
        assert f"| {code} |" in text
    assert f"{protocol.MAX_FRAME // 1024} KiB" in text
    assert f"within {protocol.HELLO_TIMEOUT_S:g} seconds" in text
    assert f"the protocol version, `{protocol.VERSION}`" in text


@pytest.mark.e2e
def test_every_field_a_real_hub_sends_is_documented(hub_process):
    """Welcome, snapshot (services, windows, manager, today figures) and /healthz."""
    token = load_config(hub_process.config).devices["admin"].token

    async def welcome() -> dict:
        from websockets.asyncio.client import connect

        async with connect(hub_process.url) as ws:
            await ws.send(json.dumps({"type": "hello", "device": "admin", "token": token}))
            return json.loads(await ws.recv())

    message = asyncio.run(welcome())
    health_url = hub_process.url.replace("ws://", "http://") + "healthz"
    with urllib.request.urlopen(health_url, timeout=5) as response:
        health = json.load(response)
    snapshot = message["snapshot"]
    documented = {name.removesuffix("[]") for name in backticked(read(PROTOCOL_MD))}
    shown = {
        "welcome": set(message),
        "snapshot": set(snapshot),
        "snapshot.hall": set(snapshot["hall"]),
        "snapshot.services[]": set(snapshot["services"][0]),
        "snapshot.windows[]": set(snapshot["windows"][0]),
        "snapshot.manager": set(snapshot["manager"]),
        "snapshot.manager.today": set(snapshot["manager"]["today"]),
        "healthz": set(health),
    }
    for where, keys in shown.items():
        assert keys <= documented, f"{where}: undocumented {sorted(keys - documented)}"


# ---------------------------------------------------------------- config/SCHEMA.md

# Which part of SCHEMA.md documents the keys each parser function accepts.
PARSER_SECTIONS = {
    "parse_config": "## Top level",
    "_parse_hall": "## `[hall]`",
    "_parse_calling": "## `[calling]`",
    "_parse_service": "## `[[services]]`",
    "_parse_window": "## `[[windows]]`",
    "_parse_device": "## `[[devices]]`",
    "_parse_personal": "## `[personal]`",
    "_parse_rating": "## `[rating]`",
    "_parse_central": "## `[central]`",
    "_parse_staff": "## `[staff]`",
    "_parse_booking": "## `[booking]`",
    "_parse_web": "## `[web]`",
    "_parse_sms": "## `[sms]`",
}


def loader_keys() -> dict[str, list[set[str]]]:
    """For each parser function in caller/core/config.py, the key sets of its known_keys calls,
    the function's own table first."""
    tree = ast.parse(read(Path(config_module.__file__)))
    found: dict[str, list[set[str]]] = {}
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        calls = [n for n in ast.walk(function) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr == "known_keys"]
        for call in sorted(calls, key=lambda c: c.lineno):
            keys = call.args[2]
            if isinstance(keys, ast.BinOp):  # {"id", "role", …} | role-specific keys
                keys = keys.left
            if isinstance(keys, ast.Name):  # the fields of a dataclass: tested beside it
                continue
            assert isinstance(keys, ast.Set), f"{function.name}: cannot read the keys"
            found.setdefault(function.name, []).append({e.value for e in keys.elts})
    return found


def test_every_key_the_loader_accepts_is_in_its_section():
    text = read(SCHEMA_MD)
    found = loader_keys()
    assert set(found) == set(PARSER_SECTIONS), "a parser function SCHEMA.md does not know"
    for function, key_sets in found.items():
        part = section(text, PARSER_SECTIONS[function])
        main, *nested = key_sets
        for key in main:
            row(part, key)
        for key in set().union(*nested):
            assert re.search(rf"\b{key}\b", part), f"{function}: key {key} not documented"


def test_every_role_and_its_keys_are_documented():
    devices = section(read(SCHEMA_MD), "## `[[devices]]`")
    assert set(config_module._DEVICE_KEYS) == set(ROLES)
    for role in ROLES:
        row(devices, role)
        part = section(devices, f"### `{role}`")
        for key in config_module._DEVICE_KEYS[role]:
            row(part, key)


def test_every_allowed_value_is_documented():
    text = read(SCHEMA_MD)
    devices = section(text, "## `[[devices]]`")
    calling = section(text, "## `[calling]`")
    assert all(f"`{level}`" in calling for level in RATING_LEVELS)
    assert all(f"`{{{name}}}`" in calling for name in ANNOUNCE_FIELDS)
    assert all(f'`"{day}"`' in text for day in WEEKDAYS)
    assert all(f"`{scheme}://" in section(devices, "### `kiosk`") for scheme in PRINTER_SCHEMES)
    assert all(f'"{model}"' in section(devices, "### `counter`") for model in EVALUATOR_MODELS)
    assert all(f'"{name}"' in section(devices, "### `led`") for name in LED_PROTOCOLS)
    from drivers.bus.models import KEYPAD_MODELS

    assert all(f'"{name}"' in section(devices, "### `counter`") for name in KEYPAD_MODELS)


def test_terminal_actions_are_listed_with_their_default_keys():
    from caller.terminal.shortcuts import ACTIONS, DEFAULT_SHORTCUTS

    part = section(section(read(SCHEMA_MD), "## `[[devices]]`"), "### `terminal`")
    for action in ACTIONS:
        assert row(part, action)[1] == f"`{DEFAULT_SHORTCUTS[action]}`", action


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"


def assert_default(part: str, key: str, value: object) -> None:
    cell = row(part, key)[2]
    if value is None:
        assert cell.startswith("none"), f"{key}: default {cell!r}, loader has none"
    else:
        assert cell.startswith(toml_value(value)), f"{key}: default {cell!r}, loader has {value!r}"


def test_documented_defaults_are_the_loaders():
    text = read(SCHEMA_MD)
    calling = section(text, "## `[calling]`")
    for field in fields(Calling):
        assert_default(calling, field.name, field.default)
    hall = section(text, "## `[hall]`")
    assert_default(hall, "timezone", "Asia/Shanghai")
    assert_default(hall, "reset_time", "00:00")
    assert_default(hall, "notice", "")


def test_documented_device_defaults_are_the_loaders():
    """Load one device of each role with only its required keys: whatever the loader
    fills in must be the default SCHEMA.md states."""
    raw = {
        "hall": {"name": "默认值"},
        "services": [{"id": "s", "name": "业务", "prefix": "A"}],
        "windows": [{"id": "1", "name": "1号窗口", "services": {"s": 1}}],
        "devices": [
            {"id": "k", "role": "kiosk", "token": "t"},
            {"id": "c", "role": "counter", "token": "t", "windows": ["1"], "port": "/dev/x",
             "addresses": {"1": 1}},
            {"id": "l", "role": "led", "token": "t", "port": "/dev/y", "strips": {"1": 1}},
        ],
    }
    config = parse_config(raw)
    devices = section(read(SCHEMA_MD), "## `[[devices]]`")
    required = {"port", "addresses", "strips"}
    for device in config.devices.values():
        part = section(devices, f"### `{device.role}`")
        for key, value in device.options.items():
            if key not in required:
                assert_default(part, key, value)
    from display.voice.announcer import VoiceSettings
    from display.wall.options import VOICE_OPTIONS

    voice_defaults = {f.name: f.default for f in fields(VoiceSettings)}
    display = section(devices, "### `display`")
    for key, option in VOICE_OPTIONS.items():
        assert_default(display, key, voice_defaults[option.field])


@pytest.fixture
def example_env(monkeypatch):
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_load_and_pass_every_programs_checks(path, example_env):
    # strict=False: the examples' placeholder tokens are refused on purpose (see below)
    check_config.load_checked(str(path), strict=False)


def test_example_configs_need_their_token_variables(monkeypatch):
    for name in EXAMPLE_ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="HALLQ_TOKEN_ADMIN is not set"):
        load_config(REPO / "config" / "examples" / "county-hall.toml")


def code_block_after(text: str, marker: str, skip: int = 0) -> str:
    """The contents of the code block that follows `marker` (`skip` blocks later)."""
    rest = text[text.index(marker):]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", rest, flags=re.S)
    return blocks[skip]


def test_check_config_outputs_in_schema_are_current(example_env, monkeypatch, tmp_path):
    """On a copy of the county hall: its placeholder tokens refused, `hallq token new
    --all`, then the summary and `config OK`; and the broken config's problems."""
    from hallq.cli import main as hallq

    text = read(SCHEMA_MD)
    example = "config/examples/county-hall.toml"
    shutil.copytree(REPO / "config" / "examples", tmp_path / "hall" / "config" / "examples")
    monkeypatch.chdir(tmp_path / "hall")
    shown = code_block_after(text, "## Checking a config").splitlines()
    assert shown[0].endswith(f"hallq check-config {example}")
    with pytest.raises(ConfigError) as refused:
        load_config(example, strict=True)
    assert shown[1:] == str(refused.value).splitlines()

    shown = code_block_after(text, "Fresh tokens for every device").splitlines()
    assert shown[0] == f"$ hallq token new --all --config {example}"
    check = next(i for i, line in enumerate(shown) if line.endswith(f"check-config {example}"))
    with contextlib.redirect_stdout(io.StringIO()) as written:
        assert hallq(["token", "new", "--all", "--config", example]) == 0
    assert shown[1:check] == written.getvalue().splitlines()
    summary = check_config.summary(load_config(example, strict=True))
    assert shown[check + 1:] == [*summary.splitlines(), "config OK"]

    broken = code_block_after(text, "A broken config")
    (tmp_path / "hall.toml").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as refused:
        load_config("hall.toml", strict=True)
    shown = code_block_after(text, "A broken config", skip=1).splitlines()
    assert shown[0] == "$ hallq check-config hall.toml"
    assert shown[1:] == str(refused.value).splitlines()


# ---------------------------------------------------------------- deploy/


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as {section: {key: [values]}} (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for number, line in enumerate(read(path).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path.name}:{number}: not a key=value line"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def check_hallq_command(words: list[str], where: str) -> None:
    """`words` (after the program) is a hallq command its sub-command's parser accepts."""
    assert words and words[0] in COMMANDS, f"{where}: {words[:1]} is not a hallq sub-command"
    module = importlib.import_module(COMMANDS[words[0]][0])
    parser = argparse.ArgumentParser(prog=f"hallq {words[0]}")
    module.add_arguments(parser)
    try:
        with contextlib.redirect_stderr(io.StringIO()) as errors:
            parser.parse_args(words[1:])
    except SystemExit:
        pytest.fail(f"{where}: hallq {' '.join(words)}: {errors.getvalue().strip()}")


UNITS = sorted([*DEPLOY.rglob("*.service"), *DEPLOY.rglob("*.timer")])


def unit_environment(unit: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    env = {}
    for assignment in unit.get("Service", {}).get("Environment", []):
        key, _, value = assignment.partition("=")
        env[key] = value
    return env


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_units_have_their_sections_and_run_real_hallq_commands(path):
    unit = parse_unit(path)
    kind = "Service" if path.suffix == ".service" else "Timer"
    assert {"Unit", kind, "Install"} <= set(unit), f"{path.name}: sections {sorted(unit)}"
    if kind == "Timer":
        target = unit["Timer"].get("Unit", [path.with_suffix(".service").name])[0]
        assert (path.parent / target).is_file(), f"{path.name} starts a unit that is not here"
        assert unit["Timer"].get("OnCalendar")
        return
    env = unit_environment(unit)
    lines = [v for key in ("ExecStart", "ExecStartPre", "ExecStartPost")
             for v in unit["Service"].get(key, [])]
    hallq_lines = [v for v in lines if shlex.split(v.lstrip("+-@:!"))[0].endswith("/hallq")]
    assert len(unit["Service"]["ExecStart"]) == 1 and hallq_lines
    for line in hallq_lines:
        assert "%i" not in line or "@" in path.name, f"{path.name}: %i in a unit that is no template"
        line = line.replace("%i", "counter-a")
        line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)
        _program, *words = shlex.split(line.lstrip("+-@:!"))
        check_hallq_command(words, path.name)


def test_systemd_accepts_the_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    hallq = Path(sys.executable).with_name("hallq")
    assert hallq.is_file()
    names = []
    for path in UNITS:
        text = read(path).replace("/opt/hallq/.venv/bin/hallq", str(hallq))
        name = path.name.replace("@.", "@example.")
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(name)
    result = subprocess.run([analyze, "verify", "--man=no", *names], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_kiosk_autostart_entry_runs_the_kiosk():
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(DEPLOY / "linux" / "hallq-kiosk.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    program, *words = shlex.split(desktop["Exec"])
    assert program.endswith("/hallq") and words[0] == "kiosk"
    check_hallq_command(words, "hallq-kiosk.desktop")


def test_the_windows_kiosk_script_restarts_the_kiosk():
    raw = (DEPLOY / "windows" / "hallq-kiosk.bat").read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "a .bat needs CRLF lines"
    text = raw.decode("ascii")
    commands = [line for line in text.splitlines() if "hallq.exe " in line]
    assert len(commands) == 1 and "goto loop" in text
    program, *words = shlex.split(commands[0], posix=False)
    assert program.endswith(r"\hallq.exe")
    check_hallq_command(words, "hallq-kiosk.bat")


def test_the_windows_wall_task_runs_the_wall():
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    task = ET.parse(DEPLOY / "windows" / "hallq-wall.xml").getroot()
    assert task.find("t:Triggers/t:LogonTrigger", ns) is not None
    program = task.findtext("t:Actions/t:Exec/t:Command", namespaces=ns)
    arguments = task.findtext("t:Actions/t:Exec/t:Arguments", namespaces=ns)
    assert program.endswith(r"\hallq.exe")
    check_hallq_command(shlex.split(arguments, posix=False), "hallq-wall.xml")
    restart = task.find("t:Settings/t:RestartOnFailure", ns)
    assert 1 <= int(restart.findtext("t:Count", namespaces=ns)) <= 255  # an unsignedByte


# ---------------------------------------------------------------- docs/statistics.md


def test_every_figure_of_the_report_is_in_the_figures_table():
    table = section(read(STATISTICS_MD), "## The figures")
    rows = {line.split("|")[1]: line.split("|")[2] for line in table.splitlines()
            if line.startswith("| `")}

    def row_of(key: str) -> str:
        found = [titles for keys, titles in rows.items() if f"`{key}`" in keys]
        assert found, f"figure `{key}` has no row"
        return found[0]

    for key in stats.figures([], followup=True):
        row_of(key)
    for column in report.COLUMNS:  # transferred_out too, computed per window apart
        assert column.title in row_of(column.key), f"`{column.key}`: header {column.title} not shown"


def test_every_ranking_column_is_documented():
    text = section(read(STATISTICS_MD), "## The window ranking (流动红旗)")
    for key, title, _ in report.RANKING_COLUMNS:
        assert f"`{key}`" in text, f"ranking column `{key}` not documented"
        assert title.strip("（分钟）") in text, f"ranking column `{key}`: header {title} not shown"
    for weight in fields(stats.RankingWeights):
        assert float(row(text, weight.name)[1]) == weight.default, f"weight `{weight.name}`"


def test_every_appointment_count_is_in_its_table():
    table = section(read(STATISTICS_MD), "## Appointments (预约统计)")
    for key, title in BOOKING_COLUMNS.items():
        assert row(table, key)[1] == title, f"appointment count `{key}`"


def test_every_rating_record_field_is_documented_with_its_column():
    text = section(read(STATISTICS_MD), "## The rating record (好差评评价数据)")
    for key, title in record.FIELDS:
        assert f"{title} (`{key}`)" in text, f"record field {title} (`{key}`) not documented"
    header = next(line for line in text.splitlines() if line.startswith("办件编号,"))
    assert header.split(",") == list(record.HEADERS)  # the example's CSV header is current


def test_the_json_report_keys_are_listed():
    files = section(read(STATISTICS_MD), "## The files")
    keys = stats.Report("", date(2026, 1, 1), date(2026, 1, 1), "", {}, {}, [], stats.RankingWeights(),
                        False, bookings=[{}]).to_dict()
    for key in keys:
        assert f"`{key}`" in files, f"JSON key `{key}` not listed"


# ---------------------------------------------------------------- docs/hardware.md


def test_the_frame_listing_is_what_the_encoders_make():
    text = read(HARDWARE_MD)
    listing = re.search(r"```python\n(.*?)```\n\n```\n\$ python bus_frames.py\n(.*?)```",
                        section(text, "### Evaluator keys"), re.S)
    assert listing, "no bus_frames.py listing under ### Evaluator keys"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(listing.group(1), {})  # the documented program, as a reader would run it
    assert out.getvalue() == listing.group(2)


# ---------------------------------------------------------------- all docs


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_files_and_commands_the_docs_name_exist(path):
    text = read(path)
    for name in set(re.findall(r"(?:^|[\s`(])((?:deploy|config|docs)/[\w@./-]+\.\w+)", text)):
        assert (REPO / name).exists(), f"{path.name} refers to {name}, which does not exist"
    for name in set(re.findall(r"^\$ (?:\S+=\S+ )*hallq ([\w-]+)", text, flags=re.M)):
        assert name in COMMANDS, f"{path.name} shows `hallq {name}`, which is no sub-command"
