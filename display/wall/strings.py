"""Everything the TV wall shows in words: the `wall.*` keys of the hallq catalogs
(`caller.core.i18n`), Simplified Chinese first."""

from __future__ import annotations

from datetime import date

from caller.core.i18n import Translator, translator

__all__ = ["date_line", "words"]


def words(lang: str) -> Translator:
    """The wall's words in `lang`; UnknownLanguage (a ValueError) for one with no catalog."""
    return translator(lang, "wall")


def date_line(lang: str, day: date) -> str:
    """E.g. "2026年11月23日 星期一"."""
    t = words(lang)
    return f"{t('date', year=day.year, month=day.month, day=day.day)} {t.series('weekday')[day.weekday()]}"
