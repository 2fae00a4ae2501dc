"""Staff portraits for the screen evaluator: an upload is decoded with Pillow and drawn
afresh as a small JPEG, so nothing a person uploaded is ever stored or served as it came.

`make(upload)` checks the upload (its size, that Pillow reads it as a JPEG, PNG or WebP
picture of sane dimensions) and returns the portrait: PORTRAIT_SIZE pixels, cropped to
the middle, RGB, no metadata, at most PORTRAIT_MAX bytes (it fits in one hub frame as
base64). `check(data)` is what the hub asks of the bytes it is sent: a JPEG portrait
that `make` could have made. `placeholder(name, colour)` draws one for nobody in particular
(the demo's roster, tests): a silhouette on a coloured card with the name's first
character.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from caller.core.errors import HallqError

UPLOAD_MAX = 5 * 1024 * 1024  # bytes of an uploaded picture
PIXELS_MAX = 40_000_000  # a larger picture is refused unread (decompression bombs)
FORMATS = ("JPEG", "PNG", "WEBP")
PORTRAIT_SIZE = (240, 320)  # width, height: 3:4 like an ID photo
PORTRAIT_MAX = 40_000  # bytes of the JPEG made


class PortraitError(HallqError, ValueError):
    """An upload that is no usable picture; the message says why (Chinese)."""


def _open(data: bytes, formats: tuple[str, ...]) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(formats))
            if image.width * image.height > PIXELS_MAX:
                raise PortraitError(f"图片太大（{image.width}×{image.height} 像素）")
            image.load()
        except (UnidentifiedImageError, Image.DecompressionBombError,
                Image.DecompressionBombWarning, OSError, SyntaxError, ValueError) as e:
            if isinstance(e, PortraitError):
                raise
            raise PortraitError(f"不是可读的 {'/'.join(formats)} 图片") from None
    return image


def make(upload: bytes) -> bytes:
    """The portrait JPEG drawn from an uploaded picture; PortraitError when it is none."""
    if not upload:
        raise PortraitError("没有收到图片")
    if len(upload) > UPLOAD_MAX:
        raise PortraitError(f"图片超过 {UPLOAD_MAX // (1024 * 1024)} MB")
    image = _open(upload, FORMATS)
    image = ImageOps.exif_transpose(image).convert("RGB")
    return _encode(ImageOps.fit(image, PORTRAIT_SIZE, Image.Resampling.LANCZOS))


def placeholder(name: str, colour: tuple[int, int, int], font: str | None = None) -> bytes:
    """A generated portrait, no real person's: a silhouette in `colour` on a lighter card and
    the name's first character in the CJK font file `font` (`drivers.fonts.find_cjk_font`;
    None: no character)."""
    w, h = PORTRAIT_SIZE[0] * 2, PORTRAIT_SIZE[1] * 2  # drawn large, scaled down: smooth edges
    image = Image.new("RGB", (w, h), tuple(min(255, c + 150) for c in colour))
    draw = ImageDraw.Draw(image)
    draw.ellipse((w * 0.30, h * 0.14, w * 0.70, h * 0.46), fill=colour)  # head
    draw.rounded_rectangle((w * 0.14, h * 0.50, w * 0.86, h * 1.1), radius=int(w * 0.3), fill=colour)
    if font is not None:
        face = ImageFont.truetype(font, h * 3 // 16)
        draw.text((w / 2, h * 0.76), name[:1], fill=(255, 255, 255), font=face, anchor="mm")
    return _encode(image.resize(PORTRAIT_SIZE, Image.Resampling.LANCZOS))


def _encode(image: Image.Image) -> bytes:
    for quality in (85, 75, 60, 45):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= PORTRAIT_MAX:
            return out.getvalue()
    raise PortraitError("图片压缩后仍然太大")


def check(data: bytes) -> str | None:
    """Why `data` is not a portrait as `make` makes them (a sentence), or None."""
    if not data or len(data) > PORTRAIT_MAX:
        return f"照片应为不超过 {PORTRAIT_MAX} 字节的 JPEG"
    try:
        image = _open(data, ("JPEG",))
    except PortraitError as e:
        return str(e)
    if image.size != PORTRAIT_SIZE:
        return f"照片应为 {PORTRAIT_SIZE[0]}×{PORTRAIT_SIZE[1]} 像素"
    return None
