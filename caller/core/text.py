"""Hub and config text made safe to show, print or say.

Whatever a device outputs that came from the hub or the hall config (notice, staff ids,
pause reasons, service and window names, materials, announcements) goes through
:func:`clean` first: one line, no control characters, at most ``limit`` characters.
"""

from __future__ import annotations

import re

from drivers.text import is_control

ELLIPSIS = "…"
_SPACES = re.compile(" {2,}")
_AS_SPACE = frozenset("\t\n\v\f\r\x85\u2028\u2029")  # tabs and line breaks


def clean(value: object, limit: int | None = None) -> str:
    """``value`` as one line of text a device can output as it is.

    Tabs and line breaks become spaces, other control and format characters are
    dropped, runs of spaces become one and the ends are trimmed of spaces; text longer than
    ``limit`` characters is cut and ends in ``…``. ``None`` is the empty text.
    """
    if value is None:
        return ""
    chars = ((" " if char in _AS_SPACE else "") if is_control(char) else char for char in str(value))
    text = _SPACES.sub(" ", "".join(chars)).strip(" ")
    if limit is not None and len(text) > limit:
        return text[: max(0, limit - 1)].rstrip() + ELLIPSIS
    return text
