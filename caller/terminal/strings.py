"""The clerk's words on the window terminal: the `terminal.*` keys of the hallq catalogs
(`caller.core.i18n`), Chinese by default.

    s = strings("en")
    s("waiting", n=3)            # "3 waiting"
    s.series("pause_reason")     # the reasons offered when pausing
    s.get("level.basic")         # a rating level's name
"""

from __future__ import annotations

from caller.core.i18n import LANGUAGES, Translator, translator

__all__ = ["LANGUAGES", "strings"]


def strings(lang: str = "zh") -> Translator:
    """The terminal's words in `lang`; UnknownLanguage (a ValueError) for one with no catalog."""
    return translator(lang, "terminal")
