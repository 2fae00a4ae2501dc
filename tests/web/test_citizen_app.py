"""The citizen app inside `hallq web`: its own prefix, pages without cookies or tokens, its
own not-found page, strict headers, and a rate limit per address (a real server, loopback)."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import pytest

from web.citizen.limits import PublicLimits

pytestmark = [pytest.mark.e2e]


def get(hall, path: str, source: str = "127.0.0.1") -> tuple[int, dict[str, str], str]:
    url = urlsplit(hall.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"Accept-Language": "zh-CN"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


def test_the_public_pages_live_under_p_without_cookie_or_token(hall):
    deadline = time.monotonic() + 20
    while "民政救济" not in (html := get(hall, "/p/")[2]) and time.monotonic() < deadline:
        assert "暂时无法获取排队信息" in html  # before the hub's first snapshot: says so
        time.sleep(0.2)
    status, headers, html = get(hall, "/p/")
    assert status == 200
    assert "set-cookie" not in headers
    assert "demo-" not in html and "token" not in html.lower()
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    assert 'lang="zh-CN"' in html and "当前排队情况" in html and "民政救济" in html
    assert "/p/static/citizen.css" in html and "/static/console.css" not in html


def test_english_on_request(hall):
    status, _, html = get(hall, "/p/?lang=en")
    assert status == 200 and 'lang="en"' in html and "Queues now" in html
    status, _, html = get(hall, "/p/?lang=xx")  # an unknown language: Chinese, not an error
    assert status == 200 and "当前排队情况" in html


def test_the_styles_are_served_under_the_public_prefix_and_may_be_cached(hall):
    status, headers, css = get(hall, "/p/static/citizen.css")
    assert status == 200 and "font" in css and headers.get("cache-control") != "no-store"


@pytest.mark.parametrize("path", ["/p/nothing", "/p/t", "/p/static/../../app.py", "/p/%00"])
def test_an_unknown_public_path_gets_the_phone_page_not_the_console(hall, path):
    status, headers, html = get(hall, path)
    assert status == 404
    assert "页面不存在" in html and "登录" not in html and "set-cookie" not in headers


def test_an_address_over_the_limit_is_refused_and_others_are_not(hall):
    statuses = [get(hall, "/p/", source="127.0.0.9")[0] for _ in range(61)]
    assert statuses[:60] == [200] * 60
    status, headers, html = get(hall, "/p/", source="127.0.0.9")
    assert status == 429 and int(headers["retry-after"]) > 0 and "访问过于频繁" in html
    assert get(hall, "/p/", source="127.0.0.10")[0] == 200  # the next phone is not punished


def test_the_limits_slide_and_peeking_does_not_count():
    now = [0.0]
    limits = PublicLimits({"miss": (2, 10.0)}, clock=lambda: now[0])
    assert not limits.blocked("miss", "a")
    assert limits.allow("miss", "a") and limits.allow("miss", "a")
    assert limits.blocked("miss", "a") and not limits.allow("miss", "a")
    assert not limits.blocked("miss", "b")
    now[0] = 10.5
    assert not limits.blocked("miss", "a") and limits.allow("miss", "a")
