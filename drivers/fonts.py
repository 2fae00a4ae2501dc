"""Find a font that renders Simplified Chinese.

Every part that draws Chinese (the printer's raster tickets, the Kivy apps, the
charts) asks here, so a hall fixes a missing font in one place: the config key
`[hall] font`, the `HALLQ_FONT` environment variable, or a system CJK font.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from drivers.errors import DeviceError

KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)

INSTALL_HINT = (
    "no font with Chinese characters was found. Install one "
    "(Debian/Ubuntu: `sudo apt-get install fonts-wqy-microhei`), or set `font = \"/path/to/font.ttc\"` "
    "under [hall] in the config, or the HALLQ_FONT environment variable."
)


class FontNotFound(DeviceError, RuntimeError):
    """No usable CJK font; the message says how to get one."""


def _fc_match() -> str | None:
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", ":lang=zh-cn"],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    # fc-match always answers something; only trust it when the file is a known CJK family.
    lowered = out.lower()
    if out and Path(out).is_file() and any(k in lowered for k in ("cjk", "wqy", "hei", "song", "ming")):
        return out
    return None


def find_cjk_font(configured: str | None = None) -> str:
    """Return the path of a font that covers Simplified Chinese, or raise FontNotFound."""
    for candidate in (configured, os.environ.get("HALLQ_FONT")):
        if candidate:
            if Path(candidate).is_file():
                return candidate
            raise FontNotFound(f"the configured font {candidate!r} does not exist")
    for path in KNOWN_FONTS:
        if Path(path).is_file():
            return path
    found = _fc_match()
    if found:
        return found
    raise FontNotFound(INSTALL_HINT)
