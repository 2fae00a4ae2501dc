"""What the hub says to a clerk, citizen or manager: refusals, closing reasons, alerts.

The sentences are the `hub.*` keys of the hallq catalogs (`caller.core.i18n`); keys are the
protocol's error codes and a few reasons. Simplified Chinese is the default language.
"""

from __future__ import annotations

from caller.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, translator

LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
# The 好差评 levels in Chinese, for the manager's reports and the hub's alerts.
LEVEL_NAMES = {level: translator(DEFAULT_LANGUAGE, "hub.level")(level) for level in LEVELS}


def say(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The sentence for `key` in `lang`, filled in.

    The language comes from a client's request, so one the hub has no words for falls back
    to Chinese rather than failing the request; an unknown key is said as itself.
    """
    words = translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE, "hub")
    values.setdefault("detail", "")
    return words.get(key, key).format(**values)
