r"""The ``bx5`` strip protocol (sans-I/O): Onbon BX-5/6 controllers, dynamic area.

Sources. Onbon's own protocol documents ("BX-5K/6K通讯协议", doc.onbonbx.com, and the
BX-5E dynamic-area description reproduced in Onbon's Led5kSDK documentation) give the
packet and area layout; a published capture of a "发送实时显示信息" (A3 06) frame
with a field-by-field breakdown (deanled.cn, "equipmentassemblydisplay/330") confirms
it byte for byte; Onbon's CRC-16 table, as published in integrators' code, is the
reflected 0xA001 table with initial value 0x0000 and no final XOR, i.e. CRC-16/ARC
(check value 0xBB3D), computed over everything between the A5 preamble and the CRC.
That capture's CRC only checks out with CRC-16/ARC (and the area width as 0x18; the
page shows 0x80, apparently edited after the capture). Text colours are the
controller's in-text codes ``\C1`` red, ``\C2`` green, ``\C3`` yellow, as used with
Onbon's SDK for dynamic areas.

Frame (multi-byte fields little-endian)::

    A5 x8                    preamble, sent as is
    -- escaped from here to the CRC: A5->A6 02, A6->A6 01, 5A->5B 02, 5B->5B 01 --
    DstAddr    2             strip (screen) address; Onbon's SDK uses 0xFFFE as "any"
    SrcAddr    2             0x8000, the PC
    Reserved   6             00
    DeviceType 1             0xFE, any controller model
    ProtoVer   1             0x02
    DataLen    2             length of Data
    Data:
      A3 06                  command group / command: send dynamic area
      R          1           0x02: no reply (the line is shared and only written)
      Reserved   2           00 00
      DeleteAreaNum 1        0
      AreaNum    1           1
      AreaDataLen 2          length of the area below
      AreaType   1           0x00
      AreaX, AreaY 2+2       0, 0 (X in bytes of 8 dots, Y in dots)
      AreaWidth  2           width in bytes of 8 dots
      AreaHeight 2           height in dots
      DynamicAreaLoc 1       0, the area id
      Lines_sizes 1          0, line spacing
      RunMode    1           0x01: show, then stay on the last page
      Timeout    2           0 (only used by run mode 2)
      Reserved   3           00
      SingleLine 1           0x01: single line
      NewLine    1           0x01: no automatic wrapping
      DisplayMode 1          0x01: static (others: 02 type out, 03-06 move L/R/U/D)
      ExitMode   1           0x00
      Speed      1           0x00, fastest
      StayTime   1           0x0A, five seconds (unit 0.5 s)
      TextLen    4           length of Text
      Text                   GBK; each segment starts with its colour code
    CRC        2             CRC-16/ARC of DstAddr..last Data byte
    -- end of escaped part --
    5A                       end

Choices where the public material is silent or varies: the reserved bytes are zero,
the reply flag is "no reply", and the area is one full-strip line. A backslash in the
text would start a controller code, so it is sent as the full-width "＼". The display
modes have no flash: the caller alternates writes to flash, and :func:`encode` ignores
the effect. The decoder reads only A3 06 frames and takes the first area's text.
"""

from __future__ import annotations

from drivers.led.base import Colour, StripText, gbk_char, read_gbk_char

PREAMBLE = 0xA5
PREAMBLE_LEN = 8
END = 0x5A
MAX_ADDRESS = 0xFFFF
PC_ADDRESS = 0x8000
DEVICE_TYPE_ANY = 0xFE
PROTOCOL_VERSION = 0x02
CMD_DYNAMIC_AREA = b"\xa3\x06"
NO_REPLY = 0x02
RUN_STAY_ON_LAST_PAGE = 0x01
SINGLE_LINE = 0x01
NO_AUTO_WRAP = 0x01
DISPLAY_STATIC = 0x01
STAY_TIME_HALF_SECONDS = 0x0A
DEFAULT_WIDTH_PX = 128
DEFAULT_HEIGHT_PX = 16
HEADER_LEN = 14
AREA_HEADER_LEN = 27
# A strip frame is a few hundred bytes; a longer run without an end byte is garbage.
MAX_FRAME = 4096

COLOUR_CODES: dict[Colour, bytes] = {"red": b"\\C1", "green": b"\\C2", "yellow": b"\\C3"}
COLOUR_BY_DIGIT: dict[int, Colour] = {code[2]: name for name, code in COLOUR_CODES.items()}
BACKSLASH_STAND_IN = "＼"

_ESCAPE = {0xA5: b"\xa6\x02", 0xA6: b"\xa6\x01", 0x5A: b"\x5b\x02", 0x5B: b"\x5b\x01"}
_UNESCAPE = {(0xA6, 0x02): 0xA5, (0xA6, 0x01): 0xA6, (0x5B, 0x02): 0x5A, (0x5B, 0x01): 0x5B}


def crc16(data: bytes) -> int:
    """CRC-16/ARC: reflected polynomial 0xA001, initial value 0, no final XOR."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def escape(data: bytes) -> bytes:
    """Replace the bytes that mark frame edges (A5, 5A) and the escape bytes themselves."""
    out = bytearray()
    for byte in data:
        out += _ESCAPE.get(byte, bytes((byte,)))
    return bytes(out)


def unescape(data: bytes) -> bytes | None:
    """Undo :func:`escape`; None when an escape byte is not followed by 01 or 02."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        byte = data[pos]
        if byte in (0xA6, 0x5B):
            if pos + 1 >= len(data) or (byte, data[pos + 1]) not in _UNESCAPE:
                return None
            out.append(_UNESCAPE[byte, data[pos + 1]])
            pos += 2
        else:
            out.append(byte)
            pos += 1
    return bytes(out)


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "little")


def _text_bytes(content: StripText) -> bytes:
    out = bytearray()
    for text, colour in content.segments:
        out += COLOUR_CODES[colour]
        for ch in text.replace("\\", BACKSLASH_STAND_IN):
            out += gbk_char(ch)
    return bytes(out)


def _area(text: bytes, width_px: int, height_px: int) -> bytes:
    return (
        bytes([0x00])  # AreaType
        + _u16(0)  # AreaX
        + _u16(0)  # AreaY
        + _u16(width_px // 8)
        + _u16(height_px)
        + bytes([0x00, 0x00, RUN_STAY_ON_LAST_PAGE])  # DynamicAreaLoc, Lines_sizes, RunMode
        + _u16(0)  # Timeout
        + bytes(3)  # Reserved
        + bytes([SINGLE_LINE, NO_AUTO_WRAP, DISPLAY_STATIC, 0x00, 0x00, STAY_TIME_HALF_SECONDS])
        + len(text).to_bytes(4, "little")
        + text
    )


def encode(
    address: int,
    content: StripText,
    *,
    width_px: int = DEFAULT_WIDTH_PX,
    height_px: int = DEFAULT_HEIGHT_PX,
) -> bytes:
    """The frame that makes the controller at ``address`` show ``content``.

    ``width_px``/``height_px`` give the strip's size in dots (width a multiple of 8).
    """
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"bx5 strip address must be 0-{MAX_ADDRESS:#06x}, not {address}")
    if width_px <= 0 or width_px % 8 or height_px <= 0:
        raise ValueError(f"bx5 area must be a positive multiple of 8 dots wide, not {width_px}")
    area = _area(_text_bytes(content), width_px, height_px)
    data = (
        CMD_DYNAMIC_AREA
        + bytes([NO_REPLY, 0x00, 0x00])
        + bytes([0x00, 0x01])  # DeleteAreaNum, AreaNum
        + _u16(len(area))
        + area
    )
    packet = (
        _u16(address)
        + _u16(PC_ADDRESS)
        + bytes(6)
        + bytes([DEVICE_TYPE_ANY, PROTOCOL_VERSION])
        + _u16(len(data))
        + data
    )
    body = escape(packet + _u16(crc16(packet)))
    if len(body) > MAX_FRAME:
        raise ValueError(f"text too long for one strip ({len(body)} > {MAX_FRAME} bytes)")
    return bytes([PREAMBLE]) * PREAMBLE_LEN + body + bytes([END])


def _parse_text(text: bytes) -> StripText | None:
    chars: list[tuple[str, Colour]] = []
    colour: Colour = "red"
    pos = 0
    while pos < len(text):
        code = text[pos : pos + 3]
        if len(code) == 3 and code[:2] == b"\\C" and code[2] in COLOUR_BY_DIGIT:
            colour = COLOUR_BY_DIGIT[code[2]]
            pos += 3
            continue
        read = read_gbk_char(text, pos)
        if read is None:
            return None
        ch, pos = read
        chars.append((ch, colour))
    return StripText.from_chars(chars)


def _parse_data(data: bytes) -> StripText | None:
    if data[:2] != CMD_DYNAMIC_AREA or len(data) < 6:
        return None
    pos = 5 + 1 + data[5]  # after R, Reserved(2), DeleteAreaNum and the deleted ids
    if pos + 3 > len(data) or data[pos] < 1:
        return None
    area_len = int.from_bytes(data[pos + 1 : pos + 3], "little")
    area = data[pos + 3 : pos + 3 + area_len]
    if len(area) != area_len or area_len < AREA_HEADER_LEN:
        return None
    text_len = int.from_bytes(area[23:27], "little")
    if AREA_HEADER_LEN + text_len != area_len:
        return None
    return _parse_text(area[AREA_HEADER_LEN:])


def _parse(escaped: bytes) -> tuple[int, StripText] | None:
    packet = unescape(escaped)
    if packet is None or len(packet) < HEADER_LEN + 2:
        return None
    data_len = int.from_bytes(packet[12:14], "little")
    if len(packet) != HEADER_LEN + data_len + 2:
        return None
    if crc16(packet[:-2]) != int.from_bytes(packet[-2:], "little"):
        return None
    content = _parse_data(packet[HEADER_LEN:-2])
    if content is None:
        return None
    return int.from_bytes(packet[0:2], "little"), content


class Decoder:
    """Streaming decoder: feed bytes as they come, get every valid dynamic-area frame.

    A5 and 5A never occur inside an escaped frame, so every A5 (re)starts a frame and
    every 5A ends one: garbage costs at most the frame it touches.
    """

    def __init__(self) -> None:
        self._frame = bytearray()
        self._in_frame = False

    def feed(self, data: bytes) -> list[tuple[int, StripText]]:
        frames: list[tuple[int, StripText]] = []
        for byte in data:
            if byte == PREAMBLE:
                self._frame.clear()
                self._in_frame = True
            elif not self._in_frame:
                continue
            elif byte == END:
                decoded = _parse(bytes(self._frame))
                if decoded is not None:
                    frames.append(decoded)
                self._frame.clear()
                self._in_frame = False
            else:
                self._frame.append(byte)
                if len(self._frame) > MAX_FRAME:
                    self._frame.clear()
                    self._in_frame = False
        return frames
