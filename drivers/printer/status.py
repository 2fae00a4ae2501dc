"""Printer status: the ESC/POS real-time status bytes, both ways, with no I/O.

Bit meanings follow Epson's ESC/POS reference:

- `DLE EOT 1` printer status: bits 1 and 4 always on, bits 0 and 7 always off; bit 3 = offline.
- `DLE EOT 2` offline cause: bit 2 cover open, bit 5 stopped at paper end, bit 6 error.
- `DLE EOT 4` roll paper sensor: bits 2-3 near end, bits 5-6 paper end.
- `GS r 1` paper sensor: bits 0-1 near end, bits 2-3 paper end; bits 4 and 7 always off.
  It is not answered while the printer is offline at paper end, which is why `DLE EOT`
  (answered in real time, even offline) is asked first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

PaperState = Literal["ok", "low", "out", "unknown"]

DLE_EOT = b"\x10\x04"
GS_R = b"\x1dr"
ASK_PRINTER = DLE_EOT + b"\x01"
ASK_OFFLINE_CAUSE = DLE_EOT + b"\x02"
ASK_ERROR_CAUSE = DLE_EOT + b"\x03"
ASK_PAPER = DLE_EOT + b"\x04"
ASK_PAPER_GS_R = GS_R + b"\x01"

_FIXED_MASK = 0x93  # bits 0, 1, 4, 7 of every DLE EOT answer
_FIXED_VALUE = 0x12
_OFFLINE = 0x08
_COVER_OPEN = 0x04
_STOPPED_AT_PAPER_END = 0x20
_ERROR = 0x40
_NEAR_END = 0x0C
_PAPER_END = 0x60
_GS_R_NEAR_END = 0x03
_GS_R_PAPER_END = 0x0C
_GS_R_FIXED_MASK = 0x90


@dataclass(frozen=True)
class PrinterStatus:
    """What a backend knows about its printer right now. `error` is a technical detail in
    English, for the log; whoever shows the status to people words it from the state."""

    online: bool
    paper: PaperState = "unknown"
    error: str | None = None


def _is_dle_eot_answer(byte: int) -> bool:
    return byte & _FIXED_MASK == _FIXED_VALUE


def decode_online(byte: int) -> bool | None:
    """`DLE EOT 1` answer -> online?; None if the byte is not a valid answer."""
    if not _is_dle_eot_answer(byte):
        return None
    return not byte & _OFFLINE


def decode_offline_cause(byte: int) -> str | None:
    """`DLE EOT 2` answer -> a short reason (English, for logs), or None when nothing is wrong."""
    if not _is_dle_eot_answer(byte):
        return None
    causes = [
        text
        for bit, text in (
            (_COVER_OPEN, "cover open"),
            (_STOPPED_AT_PAPER_END, "stopped at paper end"),
            (_ERROR, "printer error"),
        )
        if byte & bit
    ]
    return ", ".join(causes) or None


def decode_paper(byte: int) -> PaperState:
    """`DLE EOT 4` answer -> paper state."""
    if not _is_dle_eot_answer(byte):
        return "unknown"
    if byte & _PAPER_END:
        return "out"
    if byte & _NEAR_END:
        return "low"
    return "ok"


def decode_paper_gs_r(byte: int) -> PaperState:
    """`GS r 1` answer -> paper state."""
    if byte & _GS_R_FIXED_MASK:
        return "unknown"
    if byte & _GS_R_PAPER_END:
        return "out"
    if byte & _GS_R_NEAR_END:
        return "low"
    return "ok"


def status_reply(
    command: bytes, n: int, paper: PaperState, cover_open: bool = False
) -> bytes:
    """The byte a printer in this state answers to `DLE EOT n` / `GS r n`; b"" for no answer.

    `command` is `DLE_EOT` or `GS_R`. Used by the simulators, so they answer exactly what
    a printer does.
    """
    out = paper == "out"
    low = paper in ("low", "out")
    if command == DLE_EOT:
        replies = {
            1: _FIXED_VALUE | (_OFFLINE if out or cover_open else 0),
            2: _FIXED_VALUE
            | (_COVER_OPEN if cover_open else 0)
            | (_STOPPED_AT_PAPER_END if out else 0),
            3: _FIXED_VALUE,
            4: _FIXED_VALUE | (_NEAR_END if low else 0) | (_PAPER_END if out else 0),
        }
        return bytes([replies[n]]) if n in replies else b""
    if command == GS_R and n in (1, 49):
        if out or cover_open:
            return b""  # GS r is processed from the buffer, which an offline printer does not do
        return bytes([_GS_R_NEAR_END if low else 0])
    if command == GS_R and n in (2, 50):
        return b"\x00"
    return b""


Exchange = Callable[[bytes], int | None]


def read_status(exchange: Exchange) -> PrinterStatus:
    """Ask a printer for its status through `exchange(request) -> answer byte or None`.

    `exchange` sends one request and returns the single byte answered, or None when
    the printer did not answer within the transport's timeout.
    """
    printer = exchange(ASK_PRINTER)
    online = decode_online(printer) if printer is not None else None
    if online is None:
        # Connected but silent: many printers never answer; printing may still work.
        return PrinterStatus(online=True, paper="unknown", error="no status answer")
    error = None
    if not online:
        cause = exchange(ASK_OFFLINE_CAUSE)
        error = (decode_offline_cause(cause) if cause is not None else None) or "offline"
    paper_byte = exchange(ASK_PAPER)
    paper = decode_paper(paper_byte) if paper_byte is not None else "unknown"
    if paper == "unknown" and online:
        gs_r = exchange(ASK_PAPER_GS_R)
        paper = decode_paper_gs_r(gs_r) if gs_r is not None else "unknown"
    return PrinterStatus(online=online, paper=paper, error=error)
