"""The kiosk's words: the `kiosk.*` keys of the hallq catalogs (`caller.core.i18n`).

The citizen's screen starts in Chinese and can switch to English; what goes to the hub for
the staff (`staff_words`) is always Chinese. Service names, materials and the hub's refusal
messages come from the hall's config and the hub and are shown as they arrive.
"""

from __future__ import annotations

from datetime import date

from caller.core.i18n import DEFAULT_LANGUAGE, Translator, translator

__all__ = ["clock_date", "staff_words", "words"]


def words(lang: str) -> Translator:
    """The citizen's words in `lang`; UnknownLanguage for a language with no catalog."""
    return translator(lang, "kiosk")


def staff_words() -> Translator:
    """The alerts sent to the hub for the hall's staff: in Chinese whatever the screen shows."""
    return translator(DEFAULT_LANGUAGE, "kiosk.staff")


def clock_date(t: Translator, day: date) -> str:
    """The header's date, e.g. `2026年11月23日 星期一` or `Mon 23/11/2026`."""
    return t("date", year=day.year, month=day.month, day=day.day,
             weekday=t.series("weekday")[day.weekday()])
