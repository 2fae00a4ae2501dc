"""The last guard before text becomes device bytes: no character a device could take
for a command (ESC/POS ``GS V`` cuts, ``DLE DC4`` power-off, LED frame bytes) ever
leaves a driver as text.

Apps clean hub and config text earlier (``caller.core.text``); drivers cannot rely on that.
"""

from __future__ import annotations

import unicodedata

# Cc: C0 controls, DEL and C1 controls; Cf: invisible format characters (bidi
# overrides, zero-width joiners); Zl/Zp: the Unicode line and paragraph separators;
# Cs: lone surrogates (valid in JSON, yet no encoding can carry them).
CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def is_control(char: str) -> bool:
    """True for a character that is a command or formatting, not something to show."""
    return unicodedata.category(char) in CONTROL_CATEGORIES


def without_controls(text: str, replacement: str = "") -> str:
    """``text`` with every control character replaced by ``replacement``."""
    return "".join(replacement if is_control(char) else char for char in text)
