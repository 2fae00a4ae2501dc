"""Weak tokens are refused by `hallq check-config` and by the hub at start, each problem
naming the file, the key and what was expected; a demo hall is exempt but served on
loopback only; `hallq token new` writes a fresh token file with mode 0600."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from caller.core.config import ConfigError, load_config
from caller.hub.main import EXIT_CONFIG
from hallq.cli import main as hallq
from tests.hubproc import DEMO_CONFIG, REPO

STRONG = "3f9c2a7be41d5608c9e7aa12b3f04d5e6a7b8c9d0e1f2a3b"
OTHER = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29180716253443"
HALL = """[hall]
name = "令牌测试大厅"
{demo}
[[services]]
id = "a"
name = "甲业务"
prefix = "A"

[[windows]]
id = "1"
name = "1号窗口"
services = {{ a = 1 }}
"""


def device(did: str, role: str, source: str) -> str:
    return f'\n[[devices]]\nid = "{did}"\nrole = "{role}"\n{source}\n'


def write_hall(folder: Path, *devices: str, demo: bool = False) -> Path:
    path = folder / "hall.toml"
    path.write_text(HALL.format(demo="demo = true" if demo else "") + "".join(devices),
                    encoding="utf-8")
    return path


def token_file(folder: Path, name: str, token: str, mode: int = 0o600) -> str:
    path = folder / "tokens" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(mode)
    return f'token_file = "tokens/{name}"'


def check_config(path: Path) -> tuple[int, str, str]:
    with contextlib.redirect_stdout(io.StringIO()) as out, \
            contextlib.redirect_stderr(io.StringIO()) as err:
        status = hallq(["check-config", str(path)])
    return status, out.getvalue(), err.getvalue()


def refused(path: Path) -> list[str]:
    status, out, err = check_config(path)
    assert status == 2 and "config OK" not in out
    return [line.strip() for line in err.splitlines()[1:]]


@pytest.mark.parametrize(("source", "expected"), [
    ('token = "1"', "devices[0] (id 'kiosk').token: the config holds a 1-byte token "
                    "(fewer than 16 bytes)"),
    ('token = "short-token"', "the config holds a 11-byte token (fewer than 16 bytes)"),
    ('token = "1111111111111111111111"', "fewer than 8 different characters"),
    ('token = "demo-admin-token-1234567890"', "devices[0] (id 'kiosk').token: the config holds "
                                              "a demo token"),
    ('token = "EXAMPLE-ONLY-kiosk-ce5147323b2678ac4a866eb5"', "holds the example token"),
])
def test_weak_inline_tokens_are_refused_naming_file_and_key(tmp_path, source, expected):
    path = write_hall(tmp_path, device("kiosk", "kiosk", source))
    [problem] = refused(path)
    assert problem.startswith(f"{path}: ") and expected in problem
    assert "expected a long random token" in problem


def test_an_example_token_file_is_refused_with_the_command_that_replaces_it(tmp_path):
    source = token_file(tmp_path, "k.token", "EXAMPLE-ONLY-term-1-ce5147323b2678ac4a866eb5")
    path = write_hall(tmp_path, device("k", "kiosk", source))
    assert refused(path) == [
        f"{path}: devices[0] (id 'k').token_file: {tmp_path}/tokens/k.token holds the example "
        f"token shipped with hallq; expected a fresh random token: hallq token new k --config "
        f"{path}"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_token_file_others_may_read_is_refused(tmp_path, mode):
    path = write_hall(tmp_path, device("k", "kiosk", token_file(tmp_path, "k.token", STRONG, mode)))
    assert refused(path) == [
        f"{path}: devices[0] (id 'k').token_file: {tmp_path}/tokens/k.token has mode {mode:04o}, "
        f"others may read it; expected 0600 or 0400 (chmod 600 {tmp_path}/tokens/k.token)"]


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_strong_tokens_in_private_files_pass(tmp_path, monkeypatch, mode):
    monkeypatch.setenv("HALLQ_TEST_ADMIN", OTHER)
    path = write_hall(tmp_path, device("k", "kiosk", token_file(tmp_path, "k.token", STRONG, mode)),
                      device("admin", "admin", 'token_env = "HALLQ_TEST_ADMIN"'))
    status, out, _ = check_config(path)
    assert status == 0 and out.endswith("config OK\n")


def test_a_weak_token_in_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("HALLQ_TEST_ADMIN", "admin")
    path = write_hall(tmp_path, device("admin", "admin", 'token_env = "HALLQ_TEST_ADMIN"'))
    [problem] = refused(path)
    assert ("devices[0] (id 'admin').token_env: the environment variable HALLQ_TEST_ADMIN holds "
            "a 5-byte token") in problem


def test_two_devices_with_one_token_are_refused(tmp_path):
    path = write_hall(tmp_path, device("k1", "kiosk", f'token = "{STRONG}"'),
                      device("k2", "kiosk", f'token = "{STRONG}"'))
    assert refused(path) == [f"{path}: devices (id 'k2'): has the same token as device 'k1'; "
                             "expected a token of its own"]


def test_every_token_problem_is_reported_at_once_with_the_others(tmp_path):
    path = write_hall(tmp_path, device("k", "kiosk", 'token = "1"'),
                      device("admin", "admin", 'token = "x"\nwindows = ["9"]'))
    problems = refused(path)
    assert len(problems) == 3
    assert any("(id 'admin').windows: unknown window '9'" in p for p in problems)


def test_a_demo_hall_keeps_its_public_tokens(tmp_path):
    path = write_hall(tmp_path, device("admin", "admin", 'token = "demo-admin"'), demo=True)
    status, out, _ = check_config(path)
    assert status == 0 and "demo hall: tokens not checked" in out
    status, out, _ = check_config(DEMO_CONFIG)
    assert status == 0 and out.endswith("config OK\n")


def test_the_county_example_is_refused_as_a_real_hall_naming_each_token_file(monkeypatch):
    monkeypatch.setenv("HALLQ_TOKEN_ADMIN", OTHER)
    example = REPO / "config" / "examples" / "county-hall.toml"
    load_config(example)  # fine for the programs that only read their own token
    with pytest.raises(ConfigError) as refusal:
        load_config(example, strict=True)
    files = sorted(p.name for p in (example.parent / "tokens").glob("*.token"))
    assert len(refusal.value.problems) == len(files)
    for name, problem in zip(files, sorted(refusal.value.problems,
                                           key=lambda p: p.split("tokens/")[1]), strict=True):
        assert f".token_file: {example.parent}/tokens/{name} holds the example token" in problem


# ---------------------------------------------------------------- the hub


def hub(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hallq", "hub", "--port", "0",
                           "--db", "unused.db", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


@pytest.mark.e2e
def test_the_hub_refuses_weak_tokens_at_start(tmp_path):
    path = write_hall(tmp_path, device("admin", "admin", 'token = "x"'))
    result = subprocess.run([sys.executable, "-m", "hallq", "hub", "--config", str(path),
                             "--db", str(tmp_path / "hall.db"), "--port", "0"],
                            capture_output=True, text=True, timeout=30, cwd=REPO)
    assert result.returncode == EXIT_CONFIG and result.stdout == ""
    assert f"{path}: devices[0] (id 'admin').token: the config holds a 1-byte token" in (
        result.stderr)
    assert not (tmp_path / "hall.db").exists()


@pytest.mark.e2e
@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--host", "192.168.1.10"],
                                  ["--config", str(DEMO_CONFIG), "--host", "0.0.0.0"],
                                  ["--config", str(DEMO_CONFIG), "--host", "::"]],
                         ids=["no-config-any", "no-config-lan", "demo-any", "demo-any-v6"])
def test_the_demo_hall_is_not_served_beyond_loopback(args):
    result = hub(*args)
    assert result.returncode == EXIT_CONFIG and result.stdout == ""
    assert "on loopback only" in result.stderr
    assert f"got --host {args[-1]}" in result.stderr and "Traceback" not in result.stderr
    assert not (REPO / "unused.db").exists()


@pytest.mark.e2e
def test_the_hub_without_a_config_serves_the_demo_hall_on_loopback(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "hallq", "hub", "--port", "0",
                             "--db", str(tmp_path / "hall.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] and ready["url"].startswith("ws://127.0.0.1:")
        # once it answers, its signal handlers are in place (SIGTERM then stops it cleanly)
        with urllib.request.urlopen(f"http://127.0.0.1:{ready['port']}/healthz", timeout=10) as r:
            assert json.load(r)["hall"] == load_config(DEMO_CONFIG).hall.name
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        proc.stdout.close()
    assert proc.returncode == 0


# ---------------------------------------------------------------- hallq token new


def run_token(*args: str) -> tuple[int, str, str]:
    with contextlib.redirect_stdout(io.StringIO()) as out, \
            contextlib.redirect_stderr(io.StringIO()) as err:
        status = hallq(["token", *args])
    return status, out.getvalue(), err.getvalue()


def test_token_new_writes_a_fresh_private_token_file_the_hub_accepts(tmp_path):
    old = "EXAMPLE-ONLY-k-ce5147323b2678ac4a866eb5"
    path = write_hall(tmp_path, device("k", "kiosk", token_file(tmp_path, "k.token", old, 0o644)),
                      device("w", "display", 'token_file = "more/w.token"'))
    previous = os.umask(0)  # even a careless umask gives 0600
    try:
        status, out, err = run_token("new", "k", "w", "--config", str(path))
    finally:
        os.umask(previous)
    assert status == 0, err
    assert f"k: new token in {tmp_path}/tokens/k.token (mode 0600)" in out
    tokens = {}
    for name in ("tokens/k.token", "more/w.token"):
        file = tmp_path / name
        assert file.stat().st_mode & 0o777 == 0o600
        tokens[name] = file.read_text(encoding="utf-8").strip()
        assert len(tokens[name]) == 48 and tokens[name] != old
        assert tokens[name] not in out + err  # a secret is never printed
    assert len(set(tokens.values())) == 2
    config = load_config(path, strict=True)
    assert config.devices["k"].token == tokens["tokens/k.token"]
    assert not list(tmp_path.rglob("*.new"))


def test_token_new_all_renews_every_token_file(tmp_path):
    path = write_hall(tmp_path, device("k", "kiosk", token_file(tmp_path, "k.token", STRONG)),
                      device("w", "display", token_file(tmp_path, "w.token", OTHER)),
                      device("admin", "admin", 'token_env = "HALLQ_TEST_ADMIN"'))
    status, out, _ = run_token("new", "--all", "--config", str(path))
    assert status == 0 and out.count("new token in") == 2
    assert (tmp_path / "tokens" / "k.token").read_text().strip() != STRONG


@pytest.mark.parametrize(("ids", "expected"), [
    (["nobody"], "devices: no device 'nobody'; expected one of k, admin"),
    (["admin"], "devices[1] (id 'admin').token_file: missing (the device has token_env); "
                "expected token_file = \"tokens/admin.token\""),
    ([], "devices: expected at least one device id (or --all)"),
])
def test_token_new_refuses_what_it_cannot_do_and_writes_nothing(tmp_path, ids, expected):
    path = write_hall(tmp_path, device("k", "kiosk", token_file(tmp_path, "k.token", STRONG)),
                      device("admin", "admin", 'token_env = "HALLQ_TEST_ADMIN"'))
    status, out, err = run_token("new", *ids, "--config", str(path))
    assert status == 2 and out == ""
    assert err.strip() == f"hallq token: {path}: {expected}"
    assert (tmp_path / "tokens" / "k.token").read_text().strip() == STRONG


def test_token_new_names_a_config_it_cannot_read(tmp_path):
    status, _, err = run_token("new", "k", "--config", str(tmp_path / "missing.toml"))
    assert status == 2 and f"{tmp_path}/missing.toml: cannot read the file" in err
