"""One i18n mechanism: the catalogs are complete in both languages, compile with Babel (at
setup, in the wheel build, or on first use), and every program's words come from them."""

from __future__ import annotations

import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from caller.core.i18n import (
    DOMAIN,
    LANGUAGES,
    LOCALE_DIR,
    Translator,
    UnknownLanguage,
    compile_catalogs,
    load_catalog,
    main,
    translator,
)


def messages(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        catalog = read_po(file)
    return {m.id: m.string for m in catalog if m.id}


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_chinese_is_the_default_and_both_catalogs_are_complete():
    chinese, english = messages("zh_CN"), messages("en")
    assert set(LANGUAGES.values()) == {"zh_CN", "en"}
    assert set(chinese) == set(english)
    assert len(chinese) > 200
    assert not [key for key, text in chinese.items() if not text.strip()]
    assert not [key for key, text in english.items() if not text.strip()]


def test_every_translation_has_the_same_placeholders():
    chinese, english = messages("zh_CN"), messages("en")
    wrong = {key: (fields(chinese[key]), fields(english[key]))
             for key in chinese if fields(chinese[key]) != fields(english[key])}
    assert wrong == {}


def test_every_program_has_its_words_in_both_languages():
    for scope, key, zh, en in [
        ("hub", "queue_empty", "当前没有等候的群众", "Nobody is waiting"),
        ("kiosk", "prompt", "请选择您要办理的业务", "Please choose a service"),
        ("terminal", "call_next", "叫号", "Next"),
        ("wall", "now_calling", "正在呼叫", "Now calling"),
        ("ticket", "issued_at", "取号时间：{time}", "Issued: {time}"),
    ]:
        assert translator("zh", scope)(key) == zh
        assert translator("en", scope)(key) == en
    assert translator("en", "kiosk").series("weekday") == ["Mon", "Tue", "Wed", "Thu", "Fri",
                                                           "Sat", "Sun"]


@pytest.mark.parametrize("lang", ["fr", "zh_CN", "", None, "EN"])
def test_an_unknown_language_is_refused_naming_the_ones_there_are(lang):
    with pytest.raises(UnknownLanguage) as error:
        translator(lang)
    assert str(error.value) == f"unknown language {lang!r}; expected one of en, zh"
    assert isinstance(error.value, ValueError)


def test_a_key_no_catalog_has_is_an_error_not_a_blank():
    t = translator("en", "kiosk")
    with pytest.raises(KeyError, match=r"kiosk\.no_such_words"):
        t("no_such_words")
    assert t.get("no_such_words") is None
    assert t.get("no_such_words", "fallback") == "fallback"


@pytest.fixture
def locale_dir(tmp_path: Path) -> Path:
    """A copy of the catalog sources, nothing compiled."""
    for locale in LANGUAGES.values():
        target = tmp_path / locale / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po", target)
    return tmp_path


def test_catalogs_compile_when_missing_or_stale_and_only_then(locale_dir: Path):
    mo = {locale: locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.mo" for locale in ("zh_CN", "en")}
    assert sorted(compile_catalogs(locale_dir)) == sorted(mo.values())
    assert load_catalog("en", locale_dir).gettext("hub.queue_empty") == "Nobody is waiting"
    assert oct(mo["en"].stat().st_mode & 0o777) == "0o644"
    assert compile_catalogs(locale_dir) == []  # up to date: nothing written
    po = mo["en"].with_suffix(".po")
    po.write_text(po.read_text(encoding="utf-8").replace("Nobody is waiting", "No one is waiting"),
                  encoding="utf-8")
    stale = mo["en"].stat().st_mtime
    os.utime(po, (stale + 10, stale + 10))
    assert compile_catalogs(locale_dir) == [mo["en"]]
    assert load_catalog("en", locale_dir).gettext("hub.queue_empty") == "No one is waiting"
    assert compile_catalogs(locale_dir, force=True) == sorted(mo.values())
    assert not list(locale_dir.glob("*/LC_MESSAGES/.*"))  # no temporary file left behind


def test_a_key_missing_in_english_falls_back_to_chinese(locale_dir: Path):
    po = locale_dir / "en" / "LC_MESSAGES" / f"{DOMAIN}.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgid "hub.queue_empty"\nmsgstr "Nobody is waiting"', 'msgid "hub.queue_empty"\nmsgstr ""'),
        encoding="utf-8")
    compile_catalogs(locale_dir)
    english = load_catalog("en", locale_dir)
    english.add_fallback(load_catalog("zh_CN", locale_dir))
    t = Translator("en", english, "hub")
    assert t("queue_empty") == "当前没有等候的群众"
    assert t("window_paused") == "The window is paused; resume service first"


def test_pybabel_compiles_the_catalogs_as_setup_does(locale_dir: Path):
    pybabel = Path(sys.executable).with_name("pybabel")
    done = subprocess.run([str(pybabel), "-q", "compile", "-d", str(locale_dir), "-D", DOMAIN],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert load_catalog("zh_CN", locale_dir).gettext("terminal.call_next") == "叫号"


def test_the_command_line_compiles_and_says_what(locale_dir: Path, capsys):
    assert main(["--locale-dir", str(locale_dir)]) == 0
    assert capsys.readouterr().out.count("compiled ") == 2
    assert main(["--locale-dir", str(locale_dir)]) == 0
    assert capsys.readouterr().out == ""


def test_a_read_only_install_uses_its_built_catalogs_or_says_how_to_build_them(monkeypatch, tmp_path):
    import caller.core.i18n as i18n

    def cannot_write(*args: object, **kwargs: object) -> list[Path]:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(i18n, "compile_catalogs", cannot_write)
    i18n._catalog.cache_clear()
    try:
        assert i18n.translator("en", "hub")("queue_empty") == "Nobody is waiting"  # built before
        i18n._catalog.cache_clear()
        monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
        with pytest.raises(i18n.CatalogMissing, match=r"pybabel compile -d .* -D hallq"):
            i18n.translator("zh")
    finally:
        i18n._catalog.cache_clear()


def test_the_hub_refuses_in_the_requests_language_and_chinese_otherwise():
    from caller.core.messages import LEVEL_NAMES, say

    assert say("unknown_service", detail="tax") == "没有这项业务：tax"
    assert say("unknown_service", "en", detail="tax") == "No such service: tax"
    assert say("queue_empty", "fr") == "当前没有等候的群众"  # a client's odd language: Chinese
    assert say("no_such_code") == "no_such_code"
    assert LEVEL_NAMES["basic"] == "基本满意"


def test_a_kiosk_in_english_gets_the_engines_refusal_in_english():
    from tests.caller.halls import Driver

    hall = Driver()
    english = hall("issue_ticket", service="nope", lang="en")["error"]
    chinese = hall("issue_ticket", service="nope", lang="zh")["error"]
    assert english == {"code": "unknown_service", "message": "No such service: nope"}
    assert chinese == {"code": "unknown_service", "message": "没有这项业务：nope"}
