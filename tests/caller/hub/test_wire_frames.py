"""The hub frames its events itself (one framing for every connection); a websocket
client must read exactly the text the hub meant, at every length boundary of RFC 6455."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from caller.hub.server import _wire


def _read(wire: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False, max_size=None)
    try:
        while True:
            next(parser)
    except StopIteration as done:
        return done.value


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70_000])
def test_a_frame_reads_back_as_its_text_at_every_length_boundary(size: int) -> None:
    text = ("号" * size)[: size // 3] + "a" * (size - 3 * (size // 3))  # `size` bytes of UTF-8
    assert len(text.encode()) == size
    wire = _wire(text)
    assert wire == Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    frame = _read(wire)
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data.decode() == text
