"""The one way every hallq program finds its words: gettext catalogs, one per language.

The source is `caller/locale/<locale>/LC_MESSAGES/hallq.po`, one domain for every program
(the kiosk, the terminal, the wall, the hub and the ticket share one translator's file and
one compile step). Message ids are keys, namespaced by the program that shows them
(`kiosk.prompt`, `terminal.call_next`, `hub.queue_empty`, `ticket.ahead`), so the
Simplified Chinese catalog is a real translation like the English one and a test can check
that both are complete. Values are `str.format` templates (`{n}`, `{service}`).

Simplified Chinese is the default and the fallback: a key missing from another language's
catalog is looked up in zh_CN. The `.mo` files are built from the `.po` files by
`pybabel compile` at setup, by the wheel build (setup.py), and otherwise on first use
(`compile_catalogs` rebuilds a `.mo` that is missing or older than its `.po`).

    t = translator("en", "kiosk")
    t("waiting", prefix="A", n=3)     # "A · 3 waiting"
"""

from __future__ import annotations

import argparse
import gettext
import logging
import os
import tempfile
import threading
from functools import cache
from pathlib import Path

from caller.core.errors import HallqError

DOMAIN = "hallq"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANGUAGE = "zh"
# The language codes the protocol and the configs use -> the catalog's locale.
LANGUAGES: dict[str, str] = {"zh": "zh_CN", "en": "en"}

log = logging.getLogger(__name__)
_compile_lock = threading.Lock()


class CatalogMissing(HallqError, RuntimeError):
    """A language's compiled catalog is not there and cannot be built here."""


class UnknownLanguage(HallqError, ValueError):
    """A language with no catalog was asked for."""

    def __init__(self, lang: object) -> None:
        super().__init__(f"unknown language {lang!r}; expected one of {', '.join(sorted(LANGUAGES))}")
        self.lang = lang


def check_language(lang: object) -> str:
    """`lang` if there is a catalog for it; UnknownLanguage naming the ones there are."""
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise UnknownLanguage(lang)
    return lang


class Translator:
    """The words of one language, optionally for one program's keys (`scope`)."""

    def __init__(self, lang: str, catalog: gettext.NullTranslations, scope: str = "") -> None:
        self.lang = lang
        self.scope = scope
        self._catalog = catalog

    def _key(self, key: str) -> str:
        return f"{self.scope}.{key}" if self.scope else key

    def get(self, key: str, default: str | None = None) -> str | None:
        """The template for `key` (unfilled), or `default` when no catalog has it."""
        full = self._key(key)
        found = self._catalog.gettext(full)
        return default if found == full else found

    def __call__(self, key: str, **values: object) -> str:
        """The text for `key`, filled in with `values`; KeyError for a key no catalog has."""
        template = self.get(key)
        if template is None:
            raise KeyError(f"no text for {self._key(key)!r} in the {DOMAIN} catalogs")
        return template.format(**values) if values else template

    def series(self, key: str) -> list[str]:
        """The texts `key.0`, `key.1`, … (e.g. the weekdays), up to the first one missing."""
        items: list[str] = []
        while (item := self.get(f"{key}.{len(items)}")) is not None:
            items.append(item)
        return items

    def scoped(self, scope: str) -> Translator:
        """The same language for another program's keys."""
        return Translator(self.lang, self._catalog, scope)


def translator(lang: str = DEFAULT_LANGUAGE, scope: str = "") -> Translator:
    """The translator for `lang` ("zh" or "en"); UnknownLanguage for any other."""
    return Translator(check_language(lang), _catalog(lang), scope)


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    locale, mo = LANGUAGES[lang], _mo_path(LANGUAGES[lang], LOCALE_DIR)
    try:
        compile_catalogs(LOCALE_DIR)
    except (OSError, ImportError) as exc:
        # An installed copy may be read-only or lack Babel: its built catalogs still serve.
        if not mo.exists():
            raise CatalogMissing(f"no compiled catalog {mo} and it cannot be built ({exc}); "
                                 f"run `pybabel compile -d {LOCALE_DIR} -D {DOMAIN}`") from exc
        log.warning("catalogs not recompiled (%s); using the ones built before", exc)
    catalog = load_catalog(locale, LOCALE_DIR)
    if lang != DEFAULT_LANGUAGE:
        catalog.add_fallback(_catalog(DEFAULT_LANGUAGE))
    return catalog


def load_catalog(locale: str, locale_dir: Path = LOCALE_DIR) -> gettext.GNUTranslations:
    """The compiled catalog of `locale` (e.g. "zh_CN") under `locale_dir`."""
    with _mo_path(locale, locale_dir).open("rb") as file:
        return gettext.GNUTranslations(file)


def _po_path(locale: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _mo_path(locale: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return _po_path(locale, locale_dir).with_suffix(".mo")


def compile_catalogs(locale_dir: Path = LOCALE_DIR, force: bool = False) -> list[Path]:
    """Compile every `<locale>/LC_MESSAGES/hallq.po` under `locale_dir` whose `.mo` is missing
    or older (or all, with `force`); return the `.mo` files written."""
    written = []
    with _compile_lock:
        for po in sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            mo = po.with_suffix(".mo")
            if force or not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                _compile(po, mo)
                written.append(mo)
    return written


def _compile(po: Path, mo: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as file:
        catalog = read_po(file)
    # Written aside and renamed: a program starting meanwhile never reads half a file.
    handle, temporary = tempfile.mkstemp(dir=mo.parent, prefix=f".{mo.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            write_mo(file, catalog)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; every program reads it
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m caller.core.i18n",
        description="Compile hallq's gettext catalogs (.po -> .mo) that are missing or out of date.")
    parser.add_argument("--force", action="store_true", help="compile every catalog")
    parser.add_argument("--locale-dir", type=Path, default=LOCALE_DIR)
    args = parser.parse_args(argv)
    for mo in compile_catalogs(args.locale_dir, args.force):
        print(f"compiled {mo}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
