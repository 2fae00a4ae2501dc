"""Hub protocol v1: message shapes, validation, event names, roles, alert kinds and error codes.

Shared by the hub and every client. `docs/protocol.md` is the reference; the names
here are the ones it uses. Event names, role names and alert kinds are spelled here
once, as :class:`Event`, :class:`Role` and :class:`AlertKind` (string enums, so a
member equals its wire value and goes into JSON and SQLite as that string); every
other module uses the members. Nothing in this module does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from caller.core import validate
from caller.core.errors import HallqError

VERSION = 1
MAX_FRAME = 64 * 1024
HELLO_TIMEOUT_S = 5.0
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_TOO_SLOW = 1013  # websocket "try again later": the device did not read what it was sent
MAX_ID_LENGTH = 128

ERROR_CODES = (
    "bad_request", "unknown_command", "forbidden", "unknown_service", "unknown_window",
    "unknown_ticket", "service_closed", "daily_limit_reached", "queue_empty",
    "no_current_ticket", "ticket_in_progress", "window_paused", "window_not_paused",
    "not_logged_in", "recall_limit", "no_rating_pending", "already_rated", "unknown_alert", "unknown_case",
    "case_not_called_back", "rate_limited", "storage_error",
    "id_required", "id_unavailable", "bad_id_number",
    "bad_case_no", "not_appealable", "already_appealed", "unknown_appeal",
    "unknown_staff", "staff_disabled", "staff_not_here", "bad_staff", "bad_photo",
    "bad_reasons", "reasons_closed",
    "booking_closed", "remote_closed", "remote_full", "booking_hours", "slot_unavailable",
    "slot_full", "booking_exists", "booking_banned", "unknown_booking", "booking_not_today",
    "booking_ended", "checkin_early", "checkin_late", "cancel_too_late", "bad_phone",
    "bad_name", "unknown_ban",
    "internal_error",
)


class Event(StrEnum):
    """Every event the hub broadcasts (docs/protocol.md, "Events")."""

    TICKET_ISSUED = "ticket_issued"
    TICKET_CALLED = "ticket_called"
    TICKET_STARTED = "ticket_started"
    TICKET_SKIPPED = "ticket_skipped"
    TICKET_TRANSFERRED = "ticket_transferred"
    TICKET_HELD = "ticket_held"
    TICKET_FINISHED = "ticket_finished"
    TICKET_CANCELLED = "ticket_cancelled"
    WINDOW_PAUSED = "window_paused"
    WINDOW_RESUMED = "window_resumed"
    WINDOW_LOGIN = "window_login"
    WINDOW_LOGOUT = "window_logout"
    RATING_REQUESTED = "rating_requested"
    RATING_RECEIVED = "rating_received"
    RATING_TIMEOUT = "rating_timeout"
    RATING_DEFAULTED = "rating_defaulted"  # the hall's no-rating policy, days later
    BAD_RATING_REASONS = "bad_rating_reasons"  # what a bad rating named, from a screen evaluator
    STAFF_CHANGED = "staff_changed"  # the roster: a member added, changed, disabled, a photo
    APPEAL_FILED = "appeal_filed"
    APPEAL_DECIDED = "appeal_decided"
    ALERT = "alert"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    CASE_OPENED = "case_opened"
    CASE_UPDATED = "case_updated"
    QUEUE_CHANGED = "queue_changed"
    SERVICE_STATUS = "service_status"
    NOTICE_CHANGED = "notice_changed"
    BOOKING_MADE = "booking_made"  # 预约 (caller.hub.booking_desk)
    BOOKING_CHANGED = "booking_changed"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_CHECKED_IN = "booking_checked_in"
    BOOKING_NO_SHOW = "booking_no_show"
    BAN_STARTED = "ban_started"  # 失信: no bookings for a while
    BAN_LIFTED = "ban_lifted"


# The events that open or close a window's rating.
RATING_EVENTS = (Event.RATING_REQUESTED, Event.RATING_RECEIVED, Event.RATING_TIMEOUT)


class Role(StrEnum):
    """What a device is in the hall config (`role = "..."`); decides its commands."""

    KIOSK = "kiosk"
    TERMINAL = "terminal"
    COUNTER = "counter"
    EVALUATOR = "evaluator"
    DISPLAY = "display"
    LED = "led"
    ADMIN = "admin"
    WEB = "web"  # the manager's console (`hallq web`), a client like any device
    SHIPPER = "shipper"  # `hallq ship`: reports how far the centre holds the event log


class AlertKind(StrEnum):
    """The `kind` of an alert (`alert` event, `report_alert` command)."""

    BAD_RATING = "bad_rating"
    PRINTER_FAULT = "printer_fault"
    PRINTER_OK = "printer_ok"
    DEVICE_OFFLINE = "device_offline"
    DEVICE_ONLINE = "device_online"
    CLOCK_STEP = "clock_step"  # raised by the hub itself when the system clock steps back
    SHIP_BACKLOG = "ship_backlog"  # raised by the hub: more unshipped events than [central] allows
    SHIP_CAUGHT_UP = "ship_caught_up"  # the backlog is back under the limit


# command -> {argument: (type, required)}
_S, _I = str, int
SCHEMAS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "issue_ticket": {"service": (_S, True), "priority": (_S, False), "lang": (_S, False),
                     "person": (dict, False)},
    "call_next": {"window": (_S, True), "number": (_S, False)},
    "recall": {"window": (_S, True)},
    "skip": {"window": (_S, True)},
    "transfer": {"window": (_S, True), "to_service": (_S, False), "to_window": (_S, False)},
    "hold": {"window": (_S, True)},
    "call_held": {"window": (_S, True), "ticket": ((_S, _I), True)},
    "start": {"window": (_S, True)},
    "pause": {"window": (_S, True), "reason": (_S, False)},
    "resume": {"window": (_S, True)},
    "finish": {"window": (_S, True), "case_no": (_S, False)},
    "request_rating": {"window": (_S, True)},
    "rate": {"window": (_S, True), "level": (_S, True)},
    "rate_reasons": {"window": (_S, True), "ticket": (_I, True), "reasons": (list, True),
                     "comment": (_S, False)},
    "login": {"window": (_S, True), "staff": (_S, True)},
    "logout": {"window": (_S, True)},
    "report_alert": {"kind": (_S, True), "message": (_S, True), "window": (_S, False),
                     "part": (_S, False)},
    "set_notice": {"text": (_S, True)},
    "list_alerts": {},
    "ack_alert": {"alert": (_I, True), "by": (_S, True)},
    "list_cases": {},
    "case_callback": {"case": (_I, True), "by": (_S, True), "note": (_S, True)},
    "case_rectify": {"case": (_I, True), "by": (_S, True), "cause": (_S, True), "fix": (_S, True)},
    "case_close": {"case": (_I, True), "by": (_S, True), "outcome": (_S, True)},
    "appeal_file": {"ticket": (_I, True), "by": (_S, True), "reason": (_S, True)},
    "appeal_decide": {"appeal": (_I, True), "by": (_S, True), "decision": (_S, True),
                      "note": (_S, True)},
    "list_appeals": {},
    "staff_save": {"staff_no": (_S, True), "name": (_S, True), "title": (_S, False),
                   "stars": (_I, False), "windows": (list, False)},
    "staff_disable": {"staff_no": (_S, True)},
    "staff_enable": {"staff_no": (_S, True)},
    "staff_photo": {"staff_no": (_S, True), "photo": (_S, True)},
    "staff_list": {},
    "booking_slots": {"service": (_S, True), "lang": (_S, False)},
    "book": {"service": (_S, True), "day": (_S, True), "slot": (_S, True), "name": (_S, True),
             "phone": (_S, True), "id_number": (_S, True), "lang": (_S, False)},
    "change_booking": {"code": (_S, True), "day": (_S, True), "slot": (_S, True),
                       "lang": (_S, False)},
    "cancel_booking": {"code": (_S, True), "lang": (_S, False)},
    "booking_status": {"code": (_S, True), "lang": (_S, False)},
    "check_in": {"code": (_S, False), "phone": (_S, False), "id_last6": (_S, False),
                 "person": (dict, False), "lang": (_S, False)},
    "remote_ticket": {"service": (_S, True), "phone": (_S, True), "lang": (_S, False)},
    "list_bookings": {"day": (_S, False)},
    "list_bans": {},
    "lift_ban": {"ban": (_I, True), "by": (_S, True)},
    "snapshot": {},
    "queue_status": {},
    "ticket_state": {"number": (_S, False), "day": (_S, False), "code": (_S, False),
                     "lang": (_S, False)},
    "stats": {},
    "shipped": {"seq": (_I, True)},
}

# The staff roster (工号, name, title, stars, windows, photo): the admin and the console.
ROSTER_COMMANDS = ("staff_save", "staff_disable", "staff_enable", "staff_photo", "staff_list")
_WINDOW_WORK = ("login", "logout", "call_next", "recall", "skip", "transfer", "hold",
                "call_held", "start", "pause", "resume", "finish", "request_rating", "snapshot",
                "stats")
ROLE_COMMANDS: dict[str, frozenset[str]] = {
    Role.KIOSK: frozenset({"issue_ticket", "check_in", "ticket_state", "snapshot", "stats",
                           "report_alert"}),
    Role.TERMINAL: frozenset(_WINDOW_WORK),
    Role.COUNTER: frozenset({*_WINDOW_WORK, "rate", "report_alert"}),
    Role.EVALUATOR: frozenset({"rate", "rate_reasons", "snapshot", "report_alert"}),
    Role.DISPLAY: frozenset({"snapshot", "stats", "report_alert"}),
    Role.LED: frozenset({"snapshot", "report_alert"}),
    Role.ADMIN: frozenset(SCHEMAS) - {"shipped"},  # the prune trusts the shipper alone
    # The manager's web console (`hallq web`): what its pages show and do, nothing more.
    Role.WEB: frozenset({"snapshot", "stats", "list_alerts", "ack_alert", "list_cases",
                         "case_callback", "case_rectify", "case_close", "pause", "resume",
                         "set_notice", "appeal_file", "appeal_decide", "list_appeals",
                         *ROSTER_COMMANDS,
                         # and the citizen's pages under /p, for which it is the hub client
                         "booking_slots", "book", "change_booking", "cancel_booking",
                         "booking_status", "remote_ticket", "list_bookings", "list_bans",
                         "lift_ban", "queue_status"}),
    # `hallq ship`: tells the hub how far the centre holds its events, so the prune keeps the rest.
    Role.SHIPPER: frozenset({"shipped"}),
}
# Roles that manage the hall: they act on any window (the others only on the windows they
# are bound to) and see the devices connected on `/healthz`.
MANAGING_ROLES = frozenset({Role.ADMIN, Role.WEB})


class ProtocolError(HallqError):
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


TRANSIENT_ERRORS = frozenset({"storage_error", "internal_error", "rate_limited"})
"""Refusals a retry of the same request id may overcome: never remembered."""


# orjson encodes the protocol's messages an order of magnitude faster than json (see
# BENCHMARKS.md); what it refuses, or would encode where json raises, goes to json.
_ORJSON_AS_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode(message: dict[str, Any]) -> str:
    try:
        return orjson.dumps(message, option=_ORJSON_AS_JSON).decode()
    except orjson.JSONEncodeError:  # a lone surrogate, an integer past 64 bits, a key not a str
        pass
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate slipped in: \u-escapes keep the frame valid
        text = json.dumps(message, separators=(",", ":"))
    return text


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} 不是 JSON 数值")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # what json.loads builds each call


def decode(frame: str | bytes) -> dict[str, Any]:
    """Parse one frame into a JSON object, or raise ProtocolError(bad_request)."""
    if isinstance(frame, bytes):
        raise ProtocolError("bad_request", "只接受文本帧（JSON）")
    if len(frame) > MAX_FRAME // 4 and len(frame.encode("utf-8")) > MAX_FRAME:  # <= 4 bytes a char
        raise ProtocolError("bad_request", "帧超过 64 KiB")
    try:
        message = _DECODER.decode(frame)
    except json.JSONDecodeError as e:
        raise ProtocolError("bad_request", f"不是合法的 JSON（{e.msg}）") from None
    except (ValueError, RecursionError):  # a number too long, NaN, nesting too deep
        raise ProtocolError("bad_request", "不是可接受的 JSON（数值过长或嵌套过深）") from None
    if not isinstance(message, dict):
        raise ProtocolError("bad_request", "帧必须是 JSON 对象")
    return message


def parse_hello(message: dict[str, Any]) -> Hello:
    if message.get("type") != "hello":
        raise ProtocolError("bad_request", "第一帧必须是 hello")
    device, token, since = message.get("device"), message.get("token"), message.get("since")
    if not isinstance(device, str) or not device or not isinstance(token, str):
        raise ProtocolError("bad_request", "hello 需要字符串 device 和 token")
    try:
        device, token = validate.text("device", device), validate.text("token", token)
    except validate.Invalid as e:
        raise ProtocolError("bad_request", str(e)) from None
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        raise ProtocolError("bad_request", "since 必须是非负整数")
    return Hello(device, token, since)


def parse_request(message: dict[str, Any]) -> dict[str, Any]:
    """Check a request's id, type and arguments at the door (see `caller.core.validate`);
    return the request with its arguments cleaned and nothing else, or raise."""
    rid = message.get("id")
    if isinstance(rid, int) and not isinstance(rid, bool):
        rid = str(rid)
    if not isinstance(rid, str) or not rid or len(rid) > MAX_ID_LENGTH:
        raise ProtocolError("bad_request", "每个请求需要一个字符串 id（不超过 128 个字符）")
    try:
        rid = validate.text("id", rid)
    except validate.Invalid as e:
        raise ProtocolError("bad_request", str(e)) from None
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_request", "缺少 type", rid)
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtocolError("unknown_command", kind, rid)
    request: dict[str, Any] = {"type": kind, "id": rid}
    for name, (kinds, required) in schema.items():
        value = message.get(name)
        if value is None:
            if required:
                raise ProtocolError("bad_request", f"缺少参数 {name}", rid)
            continue
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ProtocolError("bad_request", f"参数 {name} 类型不对", rid)
        try:
            request[name] = validate.value(name, value)
        except validate.Invalid as e:
            raise ProtocolError("bad_request", str(e), rid) from None
    return request


def allowed(role: str, command: str) -> bool:
    return command in ROLE_COMMANDS.get(role, frozenset())


def reply_ok(request_id: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"type": "reply", "id": request_id, "ok": True,
            **{k: v for k, v in result.items() if k != "ok"}}


def reply_error(request_id: str | None, code: str, message: str) -> dict[str, Any]:
    return {"type": "reply", "id": request_id, "ok": False,
            "error": {"code": code, "message": message}}


# ---------------------------------------------------------------------- events by role

Audience = tuple[str, tuple[str, ...]]
"""Who receives the same event stream: ("admin"|"kiosk"|"display"|"window", windows)."""

PUBLIC_EVENTS = frozenset({"queue_changed", "notice_changed", "service_status"})
DISPLAY_EVENTS = PUBLIC_EVENTS | {
    "ticket_issued", "ticket_called", "ticket_started", "ticket_finished", "ticket_skipped", "ticket_held",
    "ticket_transferred", "ticket_cancelled",
    "window_login", "window_logout", "window_paused", "window_resumed", "rating_requested",
}
WINDOW_EVENTS = DISPLAY_EVENTS | {"rating_received", "rating_timeout"}
WITHHELD = "withheld"
"""The name an event carries, with nothing but its seq, to a device that may not see it."""

_ROLE_AUDIENCE = {"admin": "admin", "web": "admin", "kiosk": "kiosk", "display": "display", "led": "display",
                  "terminal": "window", "counter": "window", "evaluator": "window"}


def audience(role: str, windows: tuple[str, ...] | list[str]) -> Audience:
    kind = _ROLE_AUDIENCE.get(role, "kiosk")
    return (kind, tuple(sorted(windows)) if kind == "window" else ())


def _event_windows(event: dict[str, Any]) -> set[str]:
    found = {event.get("window"), event.get("from_window")}
    ticket = event.get("ticket")
    if isinstance(ticket, dict):
        found.update((ticket.get("window"), ticket.get("target_window")))
    to = event.get("to")
    if isinstance(to, dict):
        found.add(to.get("window"))
    return {w for w in found if isinstance(w, str)}


def visible(event: dict[str, Any], to: Audience) -> bool:
    """May this audience see this event? Calls and queues are public in the hall; what
    happens at a window goes to that window's devices and the walls; ratings to the
    window's devices; alerts, cases and ticket issuing to admins only."""
    kind, windows = to
    name = event.get("event")
    if kind == "admin":
        return True
    if kind == "kiosk":
        return name in PUBLIC_EVENTS
    if kind == "display":
        return name in DISPLAY_EVENTS
    if name not in WINDOW_EVENTS:
        return False
    if name in PUBLIC_EVENTS or name == "ticket_called":
        return True
    return bool(_event_windows(event) & set(windows))


def shown(message: dict[str, Any], to: Audience) -> dict[str, Any]:
    """``message`` as ``to`` may see it: a ticket's holder (masked name, last four of the
    ID number) only for admins and the devices of the window the ticket is at; the masked
    name alone on walls, LED strips and other windows when the hall enables it; nothing
    for kiosks. The message itself is returned when there is nothing to take out."""
    kind, windows = to
    if kind == "admin" or not _has_holder(message):
        return message
    return _without_holders(message, kind, windows)


_HOLDER_KEY = '"holder":'  # in JSON text this can only be a key: a string's own quotes are escaped


def encode_for(message: dict[str, Any], to: Audience, encoded: str | None = None) -> str:
    """The frame of ``message`` as ``to`` may see it (``shown``), from its own frame
    (``encoded``, made here when not given), which is returned itself when nothing is to
    be taken out. Looking for a holder in the text costs far less than walking the message."""
    text = encode(message) if encoded is None else encoded
    if to[0] == "admin" or _HOLDER_KEY not in text:
        return text
    return encode(_without_holders(message, *to))


def _has_holder(value: Any) -> bool:
    if isinstance(value, dict):
        return "holder" in value or any(_has_holder(v) for v in value.values()
                                        if isinstance(v, dict | list))
    if isinstance(value, list):
        return any(_has_holder(v) for v in value if isinstance(v, dict | list))
    return False


def with_holders(value: Any, keep: Callable[[dict, dict], dict | None]) -> Any:
    """`value` with each object's `holder` as `keep(the object, its holder)` says (left
    out where it says None), however deep the holders lie."""
    if isinstance(value, list):
        return [with_holders(v, keep) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: with_holders(v, keep) for k, v in value.items() if k != "holder"}
    holder = value.get("holder")
    if isinstance(holder, dict):
        kept = keep(value, holder)
        if kept is not None:
            out["holder"] = kept
    return out


def _without_holders(value: Any, kind: str, windows: tuple[str, ...]) -> Any:
    def keep(owner: dict, holder: dict) -> dict | None:
        if kind == "window" and owner.get("window") in windows:
            return holder
        if kind != "kiosk" and holder.get("wall"):
            return {"name": holder.get("name")}
        return None

    return with_holders(value, keep)


def withheld(event: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "seq": event["seq"], "event": WITHHELD}



def arrival(ticket: dict | None) -> str:
    """How a ticket came when not from the kiosk, as terminals, the console and walls mark
    it: "booking" (an appointment checked in, 预约) or "remote" (线上取号); else ""."""
    source = (ticket or {}).get("source")
    return source if source in ("booking", "remote") else ""


def holder_name(ticket: dict | None) -> str:
    """The masked name (张*三) that came with a ticket for a wall or a strip: there only when
    the hall shows names (``[personal] wall_names``); "" otherwise. Never the ID number."""
    holder = (ticket or {}).get("holder")
    name = holder.get("name") if isinstance(holder, dict) else None
    return name if isinstance(name, str) else ""
