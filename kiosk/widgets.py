"""The kiosk's look: colours, and the few widgets every screen is built from.

Sizes are given in "units" of 1/1080 of the window's short side, so one layout reads
the same on a 1920×1080 screen, a 1080×1920 portrait one and a 1280×800 tablet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import qrcode
from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.graphics.texture import Texture
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

RGBA = tuple[float, float, float, float]


def hex_colour(code: str, alpha: float = 1.0) -> RGBA:
    code = code.lstrip("#")
    return (int(code[0:2], 16) / 255, int(code[2:4], 16) / 255, int(code[4:6], 16) / 255, alpha)


# A calm hall palette: government blue, white cards on a pale ground, red only for
# the number and for trouble, green for the green channel.
BACKGROUND = hex_colour("EDF1F6")
HEADER = hex_colour("123E73")
HEADER_TEXT = hex_colour("FFFFFF")
HEADER_MUTED = hex_colour("C9D7EA")
PRIMARY = hex_colour("1C5FAE")
PRIMARY_PRESSED = hex_colour("154A88")
CARD = hex_colour("FFFFFF")
CARD_PRESSED = hex_colour("DCE8F7")
CARD_DISABLED = hex_colour("DDE1E6")
TEXT = hex_colour("1B2633")
MUTED = hex_colour("5A6677")
DISABLED_TEXT = hex_colour("8B95A1")
NUMBER = hex_colour("B3261E")
ALERT = hex_colour("B3261E")
ALERT_BACKGROUND = hex_colour("FBE3E1")
WARNING = hex_colour("A85F00")
GREEN = hex_colour("23804F")
GREEN_PRESSED = hex_colour("1A633D")
GREEN_LIGHT = hex_colour("E2F3E9")
NEUTRAL = hex_colour("6B7785")
NEUTRAL_PRESSED = hex_colour("525D69")


@dataclass(frozen=True)
class Units:
    """Converts design units into pixels for the current window."""

    scale: float
    landscape: bool

    @classmethod
    def of(cls, width: int, height: int) -> Units:
        return cls(min(width, height) / 1080, width >= height)

    def __call__(self, value: float) -> float:
        return round(value * self.scale, 1)


def tagged(widget: Any, kiosk_id: str) -> Any:
    """Name a widget so tests and scripts can find it (`kiosk_id`)."""
    widget.kiosk_id = kiosk_id
    return widget


def paint(widget: Widget, colour: RGBA, radius: float = 0) -> Color:
    """Fill the widget's background; returns the Color instruction to recolour it."""
    with widget.canvas.before:
        instruction = Color(*colour)
        shape = (RoundedRectangle(radius=[radius]) if radius else Rectangle())

    def follow(*_: object) -> None:
        shape.pos, shape.size = widget.pos, widget.size

    widget.bind(pos=follow, size=follow)
    follow()
    return instruction


def text(value: str, size: float, colour: RGBA = TEXT, *, bold: bool = False,
         halign: str = "left", valign: str = "middle", **kwargs: Any) -> Label:
    """A label that wraps inside its own box."""
    label = Label(text=value, font_size=size, color=colour, bold=bold, halign=halign,
                  valign=valign, **kwargs)
    label.bind(size=lambda w, s: setattr(w, "text_size", s))
    return label


def fitted(value: str, size: float, colour: RGBA = TEXT, *, bold: bool = False,
           halign: str = "left", **kwargs: Any) -> Label:
    """A label as tall as its wrapped text (for stacks that grow with content)."""
    label = Label(text=value, font_size=size, color=colour, bold=bold, halign=halign,
                  valign="top", size_hint_y=None, **kwargs)
    label.bind(width=lambda w, width: setattr(w, "text_size", (width, None)),
               texture_size=lambda w, ts: setattr(w, "height", ts[1]))
    return label


class Panel(BoxLayout):
    """A box with a flat or rounded background colour."""

    def __init__(self, colour: RGBA = CARD, radius: float = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.background = paint(self, colour, radius)


class Action(ButtonBehavior, Label):
    """A large rounded button with one line of text; greys out when disabled."""

    def __init__(self, value: str, size: float, colour: RGBA = PRIMARY,
                 pressed: RGBA = PRIMARY_PRESSED, radius: float = 12, **kwargs: Any) -> None:
        super().__init__(text=value, font_size=size, bold=True, color=HEADER_TEXT,
                         disabled_color=hex_colour("F4F6F8"), halign="center",
                         valign="middle", **kwargs)
        self.colours = (colour, pressed)
        self.background = paint(self, colour, radius)
        self.bind(size=lambda w, s: setattr(w, "text_size", s),
                  state=self._recolour, disabled=self._recolour)

    def _recolour(self, *_: object) -> None:
        if self.disabled:
            self.background.rgba = hex_colour("A7B0BA")
        else:
            self.background.rgba = self.colours[1] if self.state == "down" else self.colours[0]


class Card(ButtonBehavior, BoxLayout):
    """A tappable white card with a coloured bar on its left; grey when disabled."""

    def __init__(self, accent: RGBA, bar: float, radius: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accent = accent
        with self.canvas.before:
            self.fill = Color(*CARD)
            self._body = RoundedRectangle(radius=[radius])
            self.bar = Color(*accent)
            self._bar = RoundedRectangle(radius=[radius, 0, 0, radius])
        self._bar_width = bar
        self.bind(pos=self._layout, size=self._layout, state=self._recolour,
                  disabled=self._recolour)
        self._layout()

    def _layout(self, *_: object) -> None:
        self._body.pos, self._body.size = self.pos, self.size
        self._bar.pos, self._bar.size = self.pos, (self._bar_width, self.height)

    def _recolour(self, *_: object) -> None:
        if self.disabled:
            self.fill.rgba, self.bar.rgba = CARD_DISABLED, hex_colour("B4BCC5")
        else:
            self.fill.rgba = CARD_PRESSED if self.state == "down" else CARD
            self.bar.rgba = self.accent


def qr_texture(data: str) -> Texture:
    """A crisp black-on-white QR code texture, one texel per module (scale with nearest)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    side = len(matrix)
    # Kivy textures start at the bottom row.
    pixels = b"".join(b"\x00\x00\x00\xff" if dark else b"\xff\xff\xff\xff"
                      for row in reversed(matrix) for dark in row)
    texture = Texture.create(size=(side, side), colorfmt="rgba")
    texture.blit_buffer(pixels, colorfmt="rgba", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture


def qr_image(data: str, side: float) -> Image:
    image = Image(texture=qr_texture(data), size_hint=(None, None), size=(side, side),
                  fit_mode="contain")
    image.qr_data = data
    return image
