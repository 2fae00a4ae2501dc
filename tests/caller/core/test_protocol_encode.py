"""`protocol.encode` writes every frame and every stored event: the fast encoder must give
the same JSON as the standard library, and whatever it refuses must still encode (or fail)
as before."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from caller.core import protocol


def test_a_message_encodes_as_compact_json_with_chinese_kept():
    message = {"type": "event", "seq": 7, "event": protocol.Event.TICKET_CALLED,
               "text": "请A001号到1号窗口", "ratio": 0.1, "windows": ("1", "2"), "none": None}
    text = protocol.encode(message)
    assert text == json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    assert "请A001号" in text


def test_what_the_fast_encoder_refuses_still_encodes():
    lone = {"note": "a\ud800b", "big": 2 ** 70, "counts": {1: 2}}
    assert json.loads(protocol.encode(lone)) == {"note": "a\ud800b", "big": 2 ** 70,
                                                 "counts": {"1": 2}}
    assert "\\ud800" in protocol.encode(lone)  # escaped: the frame stays valid UTF-8


def test_a_value_json_cannot_encode_is_still_an_error():
    with pytest.raises(TypeError):
        protocol.encode({"at": datetime(2026, 11, 23, 9, 0)})
