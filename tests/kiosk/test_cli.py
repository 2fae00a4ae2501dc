"""`hallq kiosk` refuses to start, with a clear reason, when it could not work."""

from __future__ import annotations

import argparse

import pytest

from kiosk import main as kiosk_main
from tests.hubproc import DEMO_CONFIG


def start(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="hallq kiosk")
    kiosk_main.add_arguments(parser)
    return kiosk_main.run(parser.parse_args(["--config", str(DEMO_CONFIG), "--headless", *argv]))


def test_without_a_chinese_font_it_says_so_and_how_to_fix_it(monkeypatch, capsys):
    monkeypatch.setenv("HALLQ_FONT", "/nonexistent/font.ttc")
    assert start() == 2
    err = capsys.readouterr().err
    assert "cannot show Chinese" in err and "/nonexistent/font.ttc" in err


def test_an_unknown_device_names_the_kiosks_there_are(capsys):
    assert start("--device", "kiosk-9") == 2
    assert "no device 'kiosk-9'; the kiosk devices in this config: kiosk-1" in capsys.readouterr().err


def test_a_device_of_another_role_is_refused(capsys):
    assert start("--device", "wall-1") == 2
    assert "expected \"kiosk\", got 'display'" in capsys.readouterr().err


def test_a_bad_printer_url_is_refused_before_the_window_opens(capsys):
    assert start("--printer", "lpt://1") == 2
    assert "unsupported printer URL 'lpt://1'" in capsys.readouterr().err


def test_a_bad_window_size_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        start("--size", "big")
    assert "expected WIDTHxHEIGHT like 1920x1080, got 'big'" in capsys.readouterr().err
