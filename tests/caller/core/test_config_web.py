"""[web]: the citizen pages' public address, checked (file: key: what was expected)."""

from __future__ import annotations

import pytest

from caller.core.config import ConfigError, parse_config
from tests.caller import halls


@pytest.mark.parametrize("url", ["hall.example", "ftp://hall.example", "https://", "https://h/x?y=1",
                                 "https://h/#f", "javascript:alert(1)", "https://a b"])
def test_a_bad_public_url_is_named_with_its_key(url):
    raw = halls.raw(web={"public_url": url})
    with pytest.raises(ConfigError) as e:
        parse_config(raw, "hall.toml")
    assert "hall.toml: web.public_url: expected an http(s) URL" in str(e.value)


def test_a_good_public_url_loses_its_trailing_slash():
    raw = halls.raw(web={"public_url": "https://gov.example/hall/"},
                    personal={"secret_file": "hall.secret"})
    assert parse_config(raw, device="eval").web.public_url == "https://gov.example/hall"
    assert parse_config(halls.raw()).web.public_url == ""
    raw["web"] = {"public_ur": "https://x"}
    with pytest.raises(ConfigError, match=r"web\.public_ur: unknown key \(did you mean 'public_url'"):
        parse_config(raw)


def test_a_published_page_needs_the_hall_secret_and_good_companions(tmp_path):
    with pytest.raises(ConfigError, match=r"personal\.secret_file: missing; \[web\] public_url"):
        parse_config(halls.raw(web={"public_url": "https://hall.example"}))
    good = parse_config(halls.raw(web={"notify_ahead": 5, "rating_url": "/p/rate/{code}"}))
    assert (good.web.notify_ahead, good.web.rating_url) == (5, "/p/rate/{code}")
    for key, value in (("notify_ahead", 0), ("notify_ahead", "3"), ("rating_url", "/admin/{code}"),
                       ("rating_url", "https://h/{id}"), ("rating_url", "javascript:x")):
        with pytest.raises(ConfigError, match=rf"web\.{key}: expected"):
            parse_config(halls.raw(web={key: value}))
