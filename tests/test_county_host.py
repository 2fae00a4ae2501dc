"""The county host's units (deploy/county/): one instance per hall, each hall with its own
config, database, user and ports, hardened, grouped by the hall's target, running real
`hallq` commands, and accepted by systemd."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_docs import check_hallq_command, parse_unit

COUNTY = Path(__file__).resolve().parent.parent / "deploy" / "county"
SERVICES = sorted(COUNTY.glob("*@.service"))
TIMERS = sorted(COUNTY.glob("*@.timer"))
TARGET = COUNTY / "hallq-hall@.target"
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
             "PrivateTmp": "yes"}
LONG_RUNNING = ("hallq-hub@.service", "hallq-web@.service", "hallq-ship@.service")


def hall_env() -> dict[str, str]:
    lines = (COUNTY / "hall.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def hallq_words(unit: dict, hall: str) -> list[str]:
    """The hallq command the unit starts, for hall `hall`, with hall.env's ports."""
    line = unit["Service"]["ExecStart"][0].replace("%i", hall)
    line = re.sub(r"\$\{(\w+)\}", lambda m: hall_env()[m.group(1)], line)
    program, *words = shlex.split(line)
    assert program == "/opt/hallq/.venv/bin/hallq"
    return words


def test_the_county_set_is_complete():
    names = {p.name for p in [*SERVICES, *TIMERS]}
    assert {*LONG_RUNNING, "hallq-backup@.service", "hallq-backup@.timer"} <= names
    assert TARGET.is_file()


def test_the_hall_target_starts_every_unit_of_the_hall():
    wants = set(parse_unit(TARGET)["Unit"]["Wants"][0].split())
    assert wants == {p.name.replace("@.", "@%i.") for p in
                     [*SERVICES, *TIMERS] if p.name != "hallq-backup@.service"}
    assert parse_unit(TARGET)["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("path", [*SERVICES, *TIMERS], ids=lambda p: p.name)
def test_each_unit_belongs_to_its_halls_target(path):
    unit = parse_unit(path)
    assert unit["Install"]["WantedBy"] == ["hallq-hall@%i.target"]
    if path.name != "hallq-backup@.service":  # a oneshot the timer starts
        assert unit["Unit"]["PartOf"] == ["hallq-hall@%i.target"]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_each_service_runs_as_the_halls_own_user_hardened(path):
    service = parse_unit(path)["Service"]
    assert service["User"] == ["hallq-%i"] and service["Group"] == ["hallq-%i"]
    for key, value in HARDENING.items():
        assert service.get(key) == [value], f"{path.name}: {key}"
    if path.name in LONG_RUNNING:
        assert service["StateDirectory"] == ["hallq/%i"]
        assert service["Restart"] == ["always"] and service["MemoryMax"]
        # the ports file is required: a hall without its own ports must not start
        assert "/etc/hallq/%i/hall.env" in service["EnvironmentFile"]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_each_service_runs_a_real_hallq_command_on_the_halls_own_files(path):
    words = hallq_words(parse_unit(path), "qingshan")
    check_hallq_command(words, path.name)
    options = dict(zip(words[1::2], words[2::2], strict=False))
    assert options["--db"] == "/var/lib/hallq/qingshan/hall.db"
    if "--config" in options:
        assert options["--config"] == "/etc/hallq/qingshan/hall.toml"


def test_two_halls_share_no_file_and_no_port():
    env = hall_env()
    assert env["HALLQ_HUB_PORT"] != env["HALLQ_WEB_PORT"]

    def files(hall: str) -> set[str]:
        found = set()
        for path in SERVICES:
            words = hallq_words(parse_unit(path), hall)
            found |= {w for w in words if w.startswith(("/etc/", "/var/"))}
        return found

    assert files("qingshan") and not files("qingshan") & files("baiyun")


def test_systemd_accepts_the_county_units(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    hallq = Path(sys.executable).with_name("hallq")
    names = []
    for path in [*SERVICES, *TIMERS, TARGET]:
        text = path.read_text(encoding="utf-8").replace("/opt/hallq/.venv/bin/hallq", str(hallq))
        name = path.name.replace("@.", "@qingshan.")
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(name)
    result = subprocess.run([analyze, "verify", "--man=no", *names], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
