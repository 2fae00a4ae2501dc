"""Hub protocol v1: message shapes, validation, roles and error codes.

Shared by the hub and every client. `docs/protocol.md` is the reference; the names
here are the ones it uses. Nothing in this module does I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VERSION = 1
MAX_FRAME = 64 * 1024
HELLO_TIMEOUT_S = 5.0
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORISED = 4401
MAX_ID_LENGTH = 128

ERROR_CODES = (
    "bad_request", "unknown_command", "forbidden", "unknown_service", "unknown_window",
    "unknown_ticket", "service_closed", "daily_limit_reached", "queue_empty",
    "no_current_ticket", "ticket_in_progress", "window_paused", "window_not_paused",
    "not_logged_in", "recall_limit", "no_rating_pending", "already_rated", "unknown_alert", "unknown_case",
    "case_not_called_back", "storage_error",
    "internal_error",
)

ALERT_KINDS = ("bad_rating", "printer_fault", "printer_ok", "device_offline", "device_online")

# command -> {argument: (type, required)}
_S, _I = str, int
SCHEMAS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "issue_ticket": {"service": (_S, True), "priority": (_S, False), "lang": (_S, False)},
    "call_next": {"window": (_S, True), "number": (_S, False)},
    "recall": {"window": (_S, True)},
    "skip": {"window": (_S, True)},
    "transfer": {"window": (_S, True), "to_service": (_S, False), "to_window": (_S, False)},
    "hold": {"window": (_S, True)},
    "call_held": {"window": (_S, True), "ticket": ((_S, _I), True)},
    "start": {"window": (_S, True)},
    "pause": {"window": (_S, True), "reason": (_S, False)},
    "resume": {"window": (_S, True)},
    "finish": {"window": (_S, True)},
    "request_rating": {"window": (_S, True)},
    "rate": {"window": (_S, True), "level": (_S, True)},
    "login": {"window": (_S, True), "staff": (_S, True)},
    "logout": {"window": (_S, True)},
    "report_alert": {"kind": (_S, True), "message": (_S, True), "window": (_S, False)},
    "set_notice": {"text": (_S, True)},
    "list_alerts": {},
    "ack_alert": {"alert": (_I, True), "by": (_S, True)},
    "list_cases": {},
    "case_callback": {"case": (_I, True), "by": (_S, True), "note": (_S, True)},
    "case_rectify": {"case": (_I, True), "by": (_S, True), "cause": (_S, True), "fix": (_S, True)},
    "case_close": {"case": (_I, True), "by": (_S, True), "outcome": (_S, True)},
    "snapshot": {},
    "stats": {},
}

_WINDOW_WORK = ("login", "logout", "call_next", "recall", "skip", "transfer", "hold",
                "call_held", "start", "pause", "resume", "finish", "request_rating", "snapshot",
                "stats")
ROLE_COMMANDS: dict[str, frozenset[str]] = {
    "kiosk": frozenset({"issue_ticket", "snapshot", "stats", "report_alert"}),
    "terminal": frozenset(_WINDOW_WORK),
    "counter": frozenset({*_WINDOW_WORK, "rate", "report_alert"}),
    "evaluator": frozenset({"rate", "snapshot", "report_alert"}),
    "display": frozenset({"snapshot", "stats", "report_alert"}),
    "led": frozenset({"snapshot", "report_alert"}),
    "admin": frozenset(SCHEMAS),
    # The manager's web console (`hallq web`): what its pages show and do, nothing more.
    "web": frozenset({"snapshot", "stats", "list_alerts", "ack_alert", "list_cases",
                      "case_callback", "case_rectify", "case_close", "pause", "resume",
                      "set_notice"}),
}
# Roles that act on any window (the others only on the windows they are bound to).
ALL_WINDOW_ROLES = frozenset({"admin", "web"})


class ProtocolError(Exception):
    """A frame the hub refuses; `code` is a protocol error code."""

    def __init__(self, code: str, detail: str, request_id: str | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.request_id = request_id


@dataclass(frozen=True)
class Hello:
    device: str
    token: str
    since: int | None


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def decode(frame: str | bytes) -> dict[str, Any]:
    """Parse one frame into a JSON object, or raise ProtocolError(bad_request)."""
    if isinstance(frame, bytes):
        raise ProtocolError("bad_request", "只接受文本帧（JSON）")
    if len(frame.encode("utf-8")) > MAX_FRAME:
        raise ProtocolError("bad_request", "帧超过 64 KiB")
    try:
        message = json.loads(frame)
    except ValueError as e:
        raise ProtocolError("bad_request", f"不是合法的 JSON（{e.msg}）") from e
    if not isinstance(message, dict):
        raise ProtocolError("bad_request", "帧必须是 JSON 对象")
    return message


def parse_hello(message: dict[str, Any]) -> Hello:
    if message.get("type") != "hello":
        raise ProtocolError("bad_request", "第一帧必须是 hello")
    device, token, since = message.get("device"), message.get("token"), message.get("since")
    if not isinstance(device, str) or not device or not isinstance(token, str):
        raise ProtocolError("bad_request", "hello 需要字符串 device 和 token")
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        raise ProtocolError("bad_request", "since 必须是非负整数")
    return Hello(device, token, since)


def parse_request(message: dict[str, Any]) -> dict[str, Any]:
    """Check a request's id, type and arguments; return it unchanged or raise."""
    rid = message.get("id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)
    if not isinstance(rid, str) or not rid or len(rid) > MAX_ID_LENGTH:
        raise ProtocolError("bad_request", "每个请求需要一个字符串 id（不超过 128 个字符）")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_request", "缺少 type", rid)
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtocolError("unknown_command", kind, rid)
    for name, (kinds, required) in schema.items():
        value = message.get(name)
        if value is None:
            if required:
                raise ProtocolError("bad_request", f"缺少参数 {name}", rid)
            continue
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ProtocolError("bad_request", f"参数 {name} 类型不对", rid)
    return {**message, "id": rid}


def allowed(role: str, command: str) -> bool:
    return command in ROLE_COMMANDS.get(role, frozenset())


def reply_ok(request_id: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"type": "reply", "id": request_id, "ok": True,
            **{k: v for k, v in result.items() if k != "ok"}}


def reply_error(request_id: str | None, code: str, message: str) -> dict[str, Any]:
    return {"type": "reply", "id": request_id, "ok": False,
            "error": {"code": code, "message": message}}
