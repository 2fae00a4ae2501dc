"""The headless script grammar every Kivy program shares (caller.kivyapp): both spellings
read the same, and a wrong step is refused with its line before anything runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from caller.kivyapp import (
    COMMON_VERBS,
    STEP_TIMEOUT_S,
    ScriptError,
    Step,
    load_script,
    matches,
    parse_script,
)
from tests.hubproc import DEMO_CONFIG, REPO

VERBS = (*COMMON_VERBS, "tap")


def steps(source: str) -> list[tuple]:
    return [(s.verb, s.arg, s.timeout) for s in parse_script(source, VERBS)]


def test_lines_json_lines_and_a_json_list_say_the_same():
    lines = ("wait connected\n"
             "# a comment\n"
             "wait printed 3   # at least three\n"
             "tap service:civil\n"
             "shot home\n"
             "sleep 0.5\n"
             '{"wait": {"state": "serving", "held": []}, "timeout": 5}\n')
    listed = ('[{"wait": {"connected": true}}, {"wait": {"printed": 3}}, '
              '{"tap": "service:civil"}, {"shot": "home"}, {"sleep": 0.5}, '
              '{"wait": {"state": "serving", "held": []}, "timeout": 5}]')
    expected = [("wait", {"connected": True}, STEP_TIMEOUT_S),
                ("wait", {"printed": 3}, STEP_TIMEOUT_S),
                ("tap", "service:civil", STEP_TIMEOUT_S),
                ("shot", "home", STEP_TIMEOUT_S),
                ("sleep", 0.5, STEP_TIMEOUT_S),
                ("wait", {"state": "serving", "held": []}, 5.0)]
    assert steps(lines) == expected
    assert steps(listed) == expected


def test_a_line_value_is_json_when_it_looks_like_json_and_text_otherwise():
    assert steps("wait ticket A001\nwait ticket null\nwait held [\"A001\"]\n"
                 "wait message_has 重呼 A001（第 1 次）\nwait screen {not json\n") == [
        ("wait", {"ticket": "A001"}, STEP_TIMEOUT_S),
        ("wait", {"ticket": None}, STEP_TIMEOUT_S),
        ("wait", {"held": ["A001"]}, STEP_TIMEOUT_S),
        ("wait", {"message_has": "重呼 A001（第 1 次）"}, STEP_TIMEOUT_S),
        ("wait", {"screen": "{not json"}, STEP_TIMEOUT_S)]


@pytest.mark.parametrize(("source", "error"), [
    ("wait connected\nclick confirm\n", "line 2: unknown step 'click'; expected one of wait, "
                                        "sleep, shot, mark, tap"),
    ('{"wait": {"connected": true}\n', "line 1: not valid JSON"),
    ('{"tap": "a", "shot": "b"}\n', "line 1: expected one verb"),
    ('{"wait": {"connected": true}, "timeout": -1}\n', "line 1: timeout: expected seconds"),
    ('{"wait": {"connected": true}, "timeout": true}\n', "line 1: timeout: expected seconds"),
    ("wait\n", "line 1: wait: expected conditions"),
    ('{"wait": []}\n', "line 1: wait: expected conditions"),
    ("sleep soon\n", "line 1: sleep: expected seconds"),
    ("sleep -1\n", "line 1: sleep: expected seconds"),
    ("sleep nan\n", "line 1: sleep: expected seconds"),
    ("shot ../../etc/passwd\n", "line 1: shot: '../../etc/passwd' is not a name"),
    ("mark a/b\n", "line 1: mark: 'a/b' is not a name"),
    ("tap\n", "line 1: tap: expected a text argument"),
    ('{"tap": 3}\n', "line 1: tap: expected a text argument"),
    ('["tap confirm"]', "step 1: expected an object"),
    ('[{"wait": {"connected": true}}, {"press": "call_next"}]', "step 2: unknown step 'press'"),
    ("[1, 2", "not valid JSON"),
])
def test_a_wrong_step_is_refused_with_its_line(source, error):
    with pytest.raises(ScriptError) as caught:
        parse_script(source, VERBS)
    assert str(caught.value).startswith(error), caught.value


def test_a_script_file_is_read_and_queued_and_a_missing_one_is_refused(tmp_path):
    path = tmp_path / "steps.txt"
    path.write_text("wait connected\nshot home\n", encoding="utf-8")
    queued = load_script(path, VERBS)
    assert [queued.get_nowait() for _ in range(3)] == [
        Step("wait", {"connected": True}, line=1), Step("shot", "home", line=2), None]
    with pytest.raises(ScriptError, match="cannot read it"):
        load_script(tmp_path / "missing.txt", VERBS)


def test_conditions_compare_numbers_as_at_least_and_look_inside_dotted_keys():
    view = {"printed": 3, "connected": True, "held": [], "voice": {"idle": True, "spoken": 2},
            "ticket": None}
    assert matches(view, "printed", 3) and matches(view, "printed", 2)
    assert not matches(view, "printed", 4)
    assert matches(view, "voice.idle", True) and matches(view, "voice.spoken", 1)
    assert not matches(view, "voice.missing", True)
    assert matches(view, "connected", True) and not matches(view, "connected", 1)  # no bool maths
    assert matches(view, "held", []) and matches(view, "ticket", None)


@pytest.mark.gui
@pytest.mark.parametrize(("program", "script", "where"), [
    (["kiosk"], "wait connected\ntap\n", "line 2"),
    (["terminal", "--device", "term-1"], '[{"wait": {"connected": true}}, {"press": 1}]', "step 2"),
    (["display", "--no-voice"], "wait connected\n{\"shot\": \"a/b\"}\n", "line 2"),
])
def test_each_program_refuses_a_wrong_script_before_it_starts(tmp_path, program, script, where):
    path = tmp_path / "steps.txt"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "hallq", *program, "--config", str(DEMO_CONFIG), "--headless",
         "--hub", "ws://127.0.0.1:9/", "--script", str(path), "--shots", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"script {path}: {where}: " in result.stderr
    assert not (tmp_path / "out" / "record.json").exists()
