"""Text messages through a real hub process and a real HTTP server on loopback as the hall's
SMS gateway: the holder of a remote ticket is texted when it is near the front and when it
is called, each body signed; a gateway that hangs or refuses never delays a call."""

from __future__ import annotations

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from caller.core.client import ThreadedHubClient
from caller.core.personal import new_secret, read_secret
from caller.hub.notify import SIGNATURE_HEADER, sign
from tests.hubproc import DEMO_CONFIG, HubProcess

pytestmark = [pytest.mark.e2e]
PHONE = "13812345678"


class Gateway:
    """The hall's SMS gateway: records what it gets; can hang or refuse on demand."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, str, bytes]] = []
        self.hang = threading.Event()  # set: hold each request until `release`
        self.release = threading.Event()
        self.holding = threading.Event()
        self.refuse = 0  # refuse this many requests with 503
        self.got = threading.Condition()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if gateway.hang.is_set():
                    gateway.holding.set()
                    gateway.release.wait(30)
                if gateway.refuse:
                    gateway.refuse -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                with gateway.got:
                    gateway.received.append((json.loads(body), self.headers[SIGNATURE_HEADER], body))
                    gateway.got.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = 20) -> list[dict]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.received) >= n, timeout), self.received
            return [m for m, _, _ in self.received]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    g = Gateway()
    yield g
    g.close()


def texting_hall(tmp: Path, url: str) -> Path:
    new_secret(tmp / "hall.secret")
    new_secret(tmp / "sms.key")
    path = tmp / "hall.toml"
    path.write_text(DEMO_CONFIG.read_text(encoding="utf-8") + f"""
[personal]
secret_file = "hall.secret"

[web]
notify_ahead = 2

[booking.services.civil]
remote = true

[sms]
sender = "webhook"
url = "{url}"
secret_file = "sms.key"
signature = "青山镇便民服务中心"
retries = 3
""", encoding="utf-8")
    return path


def test_the_holder_is_texted_near_the_front_and_when_called(tmp_path, gateway):
    config = texting_hall(tmp_path, gateway.url)
    key = read_secret(tmp_path / "sms.key")
    with HubProcess(config, tmp_path / "hall.db") as hub:
        log = hub.log_path
        admin = ThreadedHubClient(hub.url, "admin", "demo-admin").start()
        try:
            ok = lambda kind, **a: admin.request(kind, **a).result(10)  # noqa: E731
            ok("login", window="1", staff="1001")
            for _ in range(3):
                ok("issue_ticket", service="civil")
            mine = ok("remote_ticket", service="civil", phone=PHONE)
            assert mine["ok"] and mine["ahead"] == 3
            ok("call_next", window="1")  # two ahead: not yet
            ok("call_next", window="1")  # one ahead: near the front
            [near] = gateway.wait_for(1)
            assert near["kind"] == "near" and near["phone"] == PHONE
            assert near["text"] == (f"【青山镇便民服务中心】您的{mine['ticket']['number']}号（民政救济）"
                                    "前面还有1人，请回到大厅留意叫号。")
            ok("call_next", window="1")
            ok("call_next", window="1")
            called = gateway.wait_for(2)[1]
            assert called["kind"] == "called"
            number = mine["ticket"]["number"]
            assert called["text"] == f"【青山镇便民服务中心】请{number}号到1号窗口办理（民政救济）。"
            for _, signature, body in gateway.received:
                assert hmac.compare_digest(signature, sign(key, body))
            ok("recall", window="1")  # a recall texts nobody again
        finally:
            admin.stop()
    assert len(gateway.received) == 2
    assert PHONE not in log.read_text(encoding="utf-8")  # the number is never logged


def test_a_hanging_or_refusing_gateway_never_delays_a_call(tmp_path, gateway):
    config = texting_hall(tmp_path, gateway.url)
    gateway.hang.set()
    gateway.refuse = 1  # then, released, it refuses once: the retry delivers
    with HubProcess(config, tmp_path / "hall.db") as hub:
        admin = ThreadedHubClient(hub.url, "admin", "demo-admin").start()
        try:
            ok = lambda kind, **a: admin.request(kind, **a).result(10)  # noqa: E731
            ok("login", window="1", staff="1001")
            mine = ok("remote_ticket", service="civil", phone=PHONE)  # nobody ahead: near at once
            assert gateway.holding.wait(20)  # the gateway holds the hub's message…
            called = ok("call_next", window="1")  # …and the call goes through meanwhile
            assert called["ok"] and called["ticket"]["id"] == mine["ticket"]["id"]
            assert ok("finish", window="1")["ok"]
            assert not gateway.release.is_set() and gateway.received == []
            gateway.hang.clear()
            gateway.release.set()
            kinds = [m["kind"] for m in gateway.wait_for(2)]
            assert kinds == ["near", "called"]
        finally:
            admin.stop()
