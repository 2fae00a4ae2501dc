"""An ESC/POS decoder with no I/O: feed it bytes, get back finished jobs and status requests.

It reads what our ticket printer sends and what receipt printers are commonly sent:
ESC @, text in GB18030 (after FS &) or code page 437, size/alignment/emphasis commands,
GS v 0 / GS ( L / ESC * images, GS ( k QR codes, GS k barcodes, feeds, and GS V cuts,
which end a job. Real-time requests (DLE EOT n, GS r n) are returned on their own so a
simulator can answer them; their bytes belong to no job. DLE DC4 commands (drawer pulse,
power off, clear buffer) are kept with the job that carried them.

Shared by the network printer simulator and the virtual `image://` printer, so both turn
bytes back into what a printer would put on paper (`drivers.printer.paper` draws it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from PIL import Image

from drivers.errors import DeviceError
from drivers.printer.status import DLE_EOT, GS_R

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10
LF, FF, HT = 0x0A, 0x0C, 0x09

DEFAULT_LINE_DOTS = 30  # ESC 2 line pitch (1/6 inch at 180 dpi)
CHAR_DOTS = 24  # font A cell height; CJK characters are 24 x 24 dots

# Commands by how many parameter bytes follow the two command bytes.
_ESC_ONE = set(b"!-3=EGJMRUVadert{ ")
_ESC_TWO = set(b"$\\Bc")
_GS_ONE = set(b"!BbHhwfaI|r")
_GS_TWO = set(b"LW$\\P")
_FS_ONE = set(b"!-WC")
_FS_TWO = set(b"Sp")
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


@dataclass(frozen=True)
class TextLine:
    text: str
    width: int = 1  # character size multipliers (GS ! / ESC ! / FS W)
    height: int = 1
    align: str = "left"
    bold: bool = False
    invert: bool = False
    pitch: int = DEFAULT_LINE_DOTS  # dots the paper moves for this line


@dataclass(frozen=True)
class RasterBlock:
    image: Image.Image  # mode "1": 0 (black) where a dot is printed


@dataclass(frozen=True)
class QrBlock:
    data: str
    module: int
    align: str = "left"


@dataclass(frozen=True)
class BarcodeBlock:
    system: int
    data: str
    align: str = "left"


@dataclass(frozen=True)
class Feed:
    dots: int


PrintBlock = TextLine | RasterBlock | QrBlock | BarcodeBlock | Feed


@dataclass(frozen=True)
class StatusRequest:
    """A real-time request the printer must answer: `DLE EOT n` or `GS r n`."""

    command: bytes  # status.DLE_EOT or status.GS_R
    n: int


@dataclass
class PrintedJob:
    """Everything between two cuts, in the order the printer puts it on paper."""

    blocks: list[PrintBlock] = field(default_factory=list)
    cut: bool = False
    raw: bytes = b""
    # DLE DC4 commands the job carried (drawer pulse, power off, clear buffer), as sent.
    device_commands: list[bytes] = field(default_factory=list)

    @property
    def raster(self) -> Image.Image | None:
        """All raster images of the job stacked top to bottom, or None if it had none."""
        images = [b.image for b in self.blocks if isinstance(b, RasterBlock)]
        if not images:
            return None
        out = Image.new("1", (max(im.width for im in images), sum(im.height for im in images)), 1)
        y = 0
        for im in images:
            out.paste(im, (0, y))
            y += im.height
        return out

    @property
    def text_lines(self) -> list[str]:
        return [b.text for b in self.blocks if isinstance(b, TextLine)]

    @property
    def qr_data(self) -> list[str]:
        return [b.data for b in self.blocks if isinstance(b, QrBlock)]


class _NeedMore(DeviceError):
    """The buffer ends inside a command."""


_CUT = object()


@dataclass
class _Style:
    width: int = 1
    height: int = 1
    align: str = "left"
    bold: bool = False
    invert: bool = False
    chinese: bool = False
    line_dots: int = DEFAULT_LINE_DOTS


class EscPosDecoder:
    """Incremental decoder: any chunking of a byte stream gives the same results."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._style = _Style()
        self._line = bytearray()
        self._line_style = _Style()
        self._blocks: list[PrintBlock] = []
        self._job_raw = bytearray()
        self._device_commands: list[bytes] = []
        self.job_bytes = 0  # print data consumed so far; real-time requests not counted
        self._qr_data = b""
        self._qr_module = 3
        self._graphics: Image.Image | None = None

    @property
    def pending(self) -> bool:
        """True while bytes of a job that has not been cut yet are held."""
        return bool(self._job_raw)

    def feed(self, data: bytes) -> list[PrintedJob | StatusRequest]:
        """Decode `data`; return the jobs ended by a cut and the status requests, in order."""
        self._buffer += data
        out: list[PrintedJob | StatusRequest] = []
        pos = 0
        while pos < len(self._buffer):
            try:
                used, event = self._command(pos)
            except _NeedMore:
                break
            if isinstance(event, StatusRequest):
                out.append(event)
            else:
                self._job_raw += self._buffer[pos : pos + used]
                self.job_bytes += used
                if event is _CUT:
                    out.append(self._finish(cut=True))
            pos += used
        del self._buffer[:pos]
        return out

    def flush(self) -> PrintedJob | None:
        """End of stream: the job that was never cut (cut=False), if any of it came."""
        if not self._job_raw:
            return None
        return self._finish(cut=False)

    # -- reading the buffer ----------------------------------------------------------

    def _at(self, pos: int) -> int:
        if pos >= len(self._buffer):
            raise _NeedMore
        return self._buffer[pos]

    def _take(self, pos: int, n: int) -> bytes:
        if pos + n > len(self._buffer):
            raise _NeedMore
        return bytes(self._buffer[pos : pos + n])

    def _until_nul(self, pos: int) -> int:
        end = self._buffer.find(0, pos)
        if end < 0:
            raise _NeedMore
        return end

    # -- commands --------------------------------------------------------------------

    def _command(self, pos: int) -> tuple[int, object]:
        first = self._at(pos)
        if first == ESC:
            return self._esc(pos, self._at(pos + 1)), None
        if first == GS:
            return self._gs(pos, self._at(pos + 1))
        if first == FS:
            return self._fs(pos, self._at(pos + 1)), None
        if first == DLE:
            return self._dle(pos)
        if first in (LF, FF):
            self._line_feed()
        elif first == HT:
            self._add_text(ord(" "))
        elif first >= 0x20:
            self._add_text(first)
        return 1, None  # CR and other control bytes do nothing visible

    def _dle(self, pos: int) -> tuple[int, object]:
        second = self._at(pos + 1)
        if second == 0x04:  # DLE EOT n
            return 3, StatusRequest(DLE_EOT, self._at(pos + 2))
        if second == 0x05:  # DLE ENQ n
            return 3, None
        if second == 0x14:  # DLE DC4 fn ...: fn 1 (pulse) takes two more bytes
            used = 5 if self._at(pos + 2) == 1 else 3
            self._device_commands.append(self._take(pos, used))
            return used, None
        return 1, None

    def _esc(self, pos: int, op: int) -> int:
        style = self._style
        if op == ord("@"):
            self._line.clear()
            self._style = _Style()
            return 2
        if op == ord("2"):
            style.line_dots = DEFAULT_LINE_DOTS
            return 2
        if op == ord("D"):  # tab stops, NUL terminated
            return self._until_nul(pos + 2) - pos + 1
        if op == ord("*"):
            return self._column_image(pos)
        if op == ord("p"):
            self._at(pos + 4)
            return 5
        if op in _ESC_TWO:
            self._at(pos + 3)
            return 4
        if op not in _ESC_ONE:
            return 2
        n = self._at(pos + 2)
        if op == ord("!"):
            style.width = 2 if n & 0x20 else 1
            style.height = 2 if n & 0x10 else 1
            style.bold = bool(n & 0x08)
        elif op in b"EG":
            style.bold = bool(n & 1)
        elif op == ord("a"):
            style.align = _ALIGN.get(n, "left")
        elif op == ord("3"):
            style.line_dots = n
        elif op == ord("d"):
            self._feed(n * style.line_dots)
        elif op == ord("J"):
            self._feed(n)
        return 3

    def _gs(self, pos: int, op: int) -> tuple[int, object]:
        if op == ord("V"):  # cut: m, or m n for the feed-and-cut forms
            m = self._at(pos + 2)
            used = 4 if m in (65, 66, 97, 98, 103, 104) else 3
            self._at(pos + used - 1)
            return used, _CUT
        if op == ord("v"):
            return self._raster(pos), None
        if op == ord("("):
            return self._gs_paren(pos), None
        if op == ord("k"):
            return self._barcode(pos), None
        if op in _GS_TWO:
            self._at(pos + 3)
            return 4, None
        if op not in _GS_ONE:
            return 2, None
        n = self._at(pos + 2)
        if op == ord("r"):
            return 3, StatusRequest(GS_R, n)
        if op == ord("!"):
            self._style.width = (n >> 4 & 0x07) + 1
            self._style.height = (n & 0x07) + 1
        elif op == ord("B"):
            self._style.invert = bool(n & 1)
        return 3, None

    def _fs(self, pos: int, op: int) -> int:
        if op == ord("&"):
            self._style.chinese = True
        elif op == ord("."):
            self._style.chinese = False
        elif op in _FS_TWO:
            self._at(pos + 3)
            return 4
        elif op in _FS_ONE:
            if op == ord("W"):
                size = 2 if self._at(pos + 2) & 1 else 1
                self._style.width = self._style.height = size
            self._at(pos + 2)
            return 3
        return 2

    def _raster(self, pos: int) -> int:
        head = self._take(pos, 8)  # GS v 0 m xL xH yL yH, then the rows
        row_bytes = head[4] | head[5] << 8
        height = head[6] | head[7] << 8
        data = self._take(pos + 8, row_bytes * height)
        self._add_image(Image.frombytes("1", (row_bytes * 8, height), data, "raw", "1;I"))
        return 8 + len(data)

    def _column_image(self, pos: int) -> int:
        m = self._at(pos + 2)
        columns = self._at(pos + 3) | self._at(pos + 4) << 8
        stripe = 24 if m in (32, 33) else 8
        data = self._take(pos + 5, columns * stripe // 8)
        # Each column is `stripe` dots, top first: decode as rows, then swap the axes.
        rows = Image.frombytes("1", (stripe, columns), data, "raw", "1;I")
        self._add_image(rows.transpose(Image.Transpose.TRANSPOSE))
        return 5 + len(data)

    def _gs_paren(self, pos: int) -> int:
        head = self._take(pos, 5)  # GS ( fn pL pH, then pL + 256 pH bytes
        size = head[3] | head[4] << 8
        body = self._take(pos + 5, size)
        if head[2] == ord("k") and len(body) >= 2 and body[0] == 0x31:  # cn 49: QR Code
            self._qr_function(body[1], body[2:])
        elif head[2] == ord("L") and len(body) >= 2:
            self._graphics_function(body[1], body[2:])
        return 5 + size

    def _qr_function(self, fn: int, args: bytes) -> None:
        if fn == 67 and args:  # module size
            self._qr_module = args[0]
        elif fn == 80 and args:  # store: m = 48, then the data
            self._qr_data = args[1:]
        elif fn == 81:  # print the stored symbol
            self._flush_text()
            data = self._qr_data.decode("utf-8", errors="replace")
            self._blocks.append(QrBlock(data, self._qr_module, self._style.align))

    def _graphics_function(self, fn: int, args: bytes) -> None:
        if fn == 112 and len(args) >= 8:  # store: a bx by c xL xH yL yH, then the rows
            width = args[4] | args[5] << 8
            height = args[6] | args[7] << 8
            row_bytes = (width + 7) // 8
            rows = args[8 : 8 + row_bytes * height]
            image = Image.frombytes("1", (row_bytes * 8, height), rows, "raw", "1;I")
            self._graphics = image.crop((0, 0, width, height))
        elif fn == 50 and self._graphics is not None:  # print what was stored
            self._add_image(self._graphics)
            self._graphics = None

    def _barcode(self, pos: int) -> int:
        system = self._at(pos + 2)
        if system <= 6:  # data up to a NUL
            end = self._until_nul(pos + 3)
            data, used = bytes(self._buffer[pos + 3 : end]), end - pos + 1
        else:  # length byte, then the data
            n = self._at(pos + 3)
            data, used = self._take(pos + 4, n), 4 + n
        self._flush_text()
        text = data.decode("ascii", errors="replace")
        self._blocks.append(BarcodeBlock(system, text, self._style.align))
        return used

    # -- paper bookkeeping -----------------------------------------------------------

    def _add_text(self, byte: int) -> None:
        if not self._line:
            self._line_style = replace(self._style)
        self._line.append(byte)

    def _add_image(self, image: Image.Image) -> None:
        self._flush_text()
        self._blocks.append(RasterBlock(image))

    def _line_feed(self) -> None:
        """LF: print the buffered characters, or move one empty line."""
        if self._line:
            self._flush_text()
        else:
            self._blocks.append(TextLine("", pitch=self._style.line_dots))

    def _feed(self, dots: int) -> None:
        """ESC d / ESC J: print the buffered characters, then move the paper."""
        self._flush_text()
        if dots:
            self._blocks.append(Feed(dots))

    def _flush_text(self) -> None:
        if not self._line:
            return
        style = self._line_style
        text = bytes(self._line).decode("gb18030" if style.chinese else "cp437", errors="replace")
        self._line.clear()
        pitch = max(CHAR_DOTS * style.height, style.line_dots)
        self._blocks.append(
            TextLine(text, style.width, style.height, style.align, style.bold, style.invert, pitch)
        )

    def _finish(self, cut: bool) -> PrintedJob:
        self._flush_text()
        job = PrintedJob(blocks=self._blocks, cut=cut, raw=bytes(self._job_raw),
                         device_commands=self._device_commands)
        self._blocks = []
        self._job_raw = bytearray()
        self._device_commands = []
        return job
