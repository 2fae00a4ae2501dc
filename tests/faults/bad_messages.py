"""Malformed and unauthorised websocket messages for the hub, each with the refusal it
must get, made from a seeded ``random.Random``.

The expectations are written from the protocol contract (`/work/shared/PROTOCOL.md`),
not read from ``caller.core.protocol``: who may send what, which frames are not requests at
all. Every message is one the hub must refuse without changing anything, given a hall
where windows 1 and 3–7 have nobody logged in and there are no alerts or cases.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass

# The long-lived connections, by role: device id, token, the windows it is bound to.
SESSIONS = {
    "kiosk": ("kiosk-1", "demo-kiosk-1", ()),
    "terminal": ("term-1", "demo-term-1", ("1",)),
    "display": ("wall-1", "demo-wall-1", ()),
    "evaluator": ("eval-1", "demo-eval-1", ("1", "2", "8")),
    "counter": ("counter-a", "demo-counter-a", ("3", "4", "5", "6", "7")),
    "admin": ("admin", "demo-admin", ()),
}
HALL_WINDOWS = tuple(str(n) for n in range(1, 9))
FRAME_LIMIT = 64 * 1024
CLOSE_TOO_BIG = 1009  # websocket "message too big"
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORISED = 4401

# Arguments that are right in type and presence, per command ("W": the window).
VALID_ARGS: dict[str, dict[str, object]] = {
    "issue_ticket": {"service": "civil"},
    "call_next": {"window": "W"},
    "recall": {"window": "W"},
    "skip": {"window": "W"},
    "transfer": {"window": "W", "to_window": "2"},
    "hold": {"window": "W"},
    "call_held": {"window": "W", "ticket": "A001"},
    "start": {"window": "W"},
    "pause": {"window": "W", "reason": "午休"},
    "resume": {"window": "W"},
    "finish": {"window": "W"},
    "request_rating": {"window": "W"},
    "rate": {"window": "W", "level": "satisfied"},
    "login": {"window": "W", "staff": "1001"},
    "logout": {"window": "W"},
    "report_alert": {"kind": "printer_fault", "message": "打印机缺纸"},
    "set_notice": {"text": "今日下午停电，暂停办理"},
    "ack_alert": {"alert": 1, "by": "值班长"},
    "case_callback": {"case": 1, "by": "值班长", "note": "已回访"},
    "case_rectify": {"case": 1, "by": "值班长", "cause": "态度", "fix": "培训"},
    "case_close": {"case": 1, "by": "值班长", "outcome": "满意"},
}
REQUIRED = {"service", "window", "ticket", "level", "staff", "kind", "message", "text", "alert",
            "by", "case", "note", "cause", "fix", "outcome"}
WINDOW_WORK = ("login", "logout", "call_next", "recall", "skip", "transfer", "hold", "call_held",
               "start", "pause", "resume", "finish", "request_rating")
MANAGER = ("set_notice", "list_alerts", "ack_alert", "list_cases", "case_callback", "case_rectify",
           "case_close")
# What PROTOCOL.md says each role may not send.
FORBIDDEN = {
    "kiosk": (*WINDOW_WORK, "rate", *MANAGER),
    "terminal": ("issue_ticket", "rate", "report_alert", *MANAGER),
    "display": ("issue_ticket", *WINDOW_WORK, "rate", *MANAGER),
    "evaluator": ("issue_ticket", *WINDOW_WORK, *MANAGER),
    "counter": ("issue_ticket", *MANAGER),
    "admin": (),
}
NOT_A_STRING = (None, 7, 1.5, True, False)
"""``type`` values that are not a command name (None: ``type`` left out)."""
UNHASHABLE = (["snapshot"], {"type": "snapshot"})
"""Also not strings; kept apart because the hub fails on them (see test_ws_garbage)."""
UNKNOWN_COMMANDS = ("hello", "welcome", "reply", "event", "delete_ticket", "reset", "Issue_Ticket",
                    "call-next", "", "snapshot ", "__proto__", "issue_ticket\u0000", "取号", "DROP TABLE")


@dataclass(frozen=True)
class Case:
    """One message and the refusal it must get.

    On the long-lived connection of ``role``: a reply with error ``code`` naming
    ``reply_id``. With ``own_connection``: a new connection of ``role`` says ``hello`` (the
    right one when None), then sends ``frame`` (if any); the hub must close it with ``code``.
    """

    kind: str
    role: str
    frame: str | bytes
    code: str | int
    reply_id: str | None = None
    own_connection: bool = False
    hello: str | bytes | None = None


def _encode(message: object) -> str:
    return json.dumps(message, ensure_ascii=False)


def _text(rng: random.Random, size: int) -> str:
    alphabet = string.ascii_letters + string.digits + "号窗口业务办理群众"
    return "".join(rng.choices(alphabet, k=size))


def _wrong_value(rng: random.Random, name: str, valid: object) -> object:
    if isinstance(valid, int):
        pool: list[object] = [str(valid), 1.0, True, [valid], {"id": valid}]
    else:
        pool = [1.5, False, ["A001"], {"v": "x"}]
        if name != "ticket":  # a held ticket may be named by its id, an int
            pool.append(7)
    return rng.choice(pool)


def _request(kind: str, rid: object, window: str, **changes: object) -> dict:
    args = {k: (window if v == "W" else v) for k, v in VALID_ARGS.get(kind, {}).items()}
    return {"type": kind, "id": rid, **args, **changes}


class BadMessages:
    """Seeded cases; ids are unique so no refusal is answered from the earlier-reply cache."""

    def __init__(self, seed: int, types: tuple[object, ...] = NOT_A_STRING + UNHASHABLE) -> None:
        self.rng = random.Random(seed)
        self.types = types
        self._serial = 0

    def _id(self) -> str:
        self._serial += 1
        return f"bad-{self._serial}"

    def cases(self, count: int) -> list[Case]:
        makers = [(self.bad_json, 10), (self.not_an_object, 5), (self.binary, 6), (self.missing_id, 6),
                  (self.wrong_id, 8), (self.long_id, 4), (self.no_type, 5), (self.unknown_command, 8),
                  (self.wrong_type, 12), (self.missing_argument, 6), (self.forbidden_for_role, 12),
                  (self.other_window, 10), (self.oversize_field, 6), (self.bad_hello, 5),
                  (self.oversize_frame, 0.3)]
        functions, weights = zip(*makers, strict=True)
        return [self.rng.choices(functions, weights)[0]() for _ in range(count)]

    def _role(self, *roles: str) -> str:
        return self.rng.choice(roles or tuple(SESSIONS))

    def _any_window(self) -> str:
        return self.rng.choice(HALL_WINDOWS)

    def _any_request(self, rid: object) -> dict:
        return _request(self.rng.choice(list(VALID_ARGS)), rid, self._any_window())

    # --- not a request at all: the reply carries no id

    def bad_json(self) -> Case:
        rng = self.rng
        whole = _encode(self._any_request(self._id()))
        frame = rng.choice([whole[:rng.randrange(len(whole))], "{'type': 'snapshot'}", "{", "}",
                            "", " ", "NaN}", _text(rng, rng.randint(1, 60)), "\u0000", "[1, 2"])
        return Case("bad json", self._role(), frame, "bad_request")

    def not_an_object(self) -> Case:
        frame = self.rng.choice(["[]", "[{}]", "1", "-0.5", '"snapshot"', "null", "true", "NaN",
                                 _encode([self._any_request(self._id())])])
        return Case("not an object", self._role(), frame, "bad_request")

    def binary(self) -> Case:
        rng = self.rng
        frame = rng.choice([_encode(self._any_request(self._id())).encode(),
                            rng.randbytes(rng.randint(1, 200))])
        return Case("binary frame", self._role(), frame, "bad_request")

    def missing_id(self) -> Case:
        message = self._any_request(None)
        del message["id"]
        return Case("missing id", self._role(), _encode(message), "bad_request")

    def wrong_id(self) -> Case:
        rid = self.rng.choice([1.5, True, False, None, [], ["bad-1"], {"id": "x"}, ""])
        # An empty string is a string: the reply names it; other ids cannot be named.
        return Case("wrong id", self._role(), _encode(self._any_request(rid)), "bad_request",
                    "" if rid == "" else None)

    # --- a request id the reply carries

    def long_id(self) -> Case:
        rid = _text(self.rng, self.rng.randint(129, 4000))
        return Case("id too long", self._role(), _encode(self._any_request(rid)), "bad_request", rid)

    def no_type(self) -> Case:
        rid = self._id()
        message = self._any_request(rid)
        kind = self.rng.choice(self.types)
        if kind is None:
            del message["type"]
        else:
            message["type"] = kind
        return Case("no type", self._role(), _encode(message), "bad_request", rid)

    def unknown_command(self) -> Case:
        rid = self._id()
        kind = self.rng.choice([*UNKNOWN_COMMANDS, "x_" + _text(self.rng, 8)])
        message = {**self._any_request(rid), "type": kind}
        return Case("unknown command", self._role(), _encode(message), "unknown_command", rid)

    def wrong_type(self) -> Case:
        rid, kind = self._id(), self.rng.choice(list(VALID_ARGS))
        message = _request(kind, rid, self._any_window())
        name = self.rng.choice(list(VALID_ARGS[kind]))
        message[name] = _wrong_value(self.rng, name, message[name])
        return Case(f"wrong type of {name}", self._role(), _encode(message), "bad_request", rid)

    def missing_argument(self) -> Case:
        rid = self._id()
        kind = self.rng.choice([k for k, args in VALID_ARGS.items() if set(args) - {"window"} & REQUIRED])
        message = _request(kind, rid, self._any_window())
        del message[self.rng.choice(sorted(set(VALID_ARGS[kind]) - {"window"} & REQUIRED))]
        return Case("missing argument", self._role(), _encode(message), "bad_request", rid)

    def forbidden_for_role(self) -> Case:
        rid, role = self._id(), self._role("kiosk", "terminal", "display", "evaluator", "counter")
        kind = self.rng.choice(FORBIDDEN[role])
        message = _request(kind, rid, self._any_window())
        return Case(f"{kind} by a {role}", role, _encode(message), "forbidden", rid)

    def other_window(self) -> Case:
        rid, role = self._id(), self._role("terminal", "evaluator", "counter")
        own = SESSIONS[role][2]
        kind = "rate" if role == "evaluator" else self.rng.choice([*WINDOW_WORK, "rate"] if role == "counter"
                                                                   else WINDOW_WORK)
        window = self.rng.choice([w for w in (*HALL_WINDOWS, "99", "0", "１") if w not in own])
        return Case(f"{kind} for window {window} by a {role}", role, _encode(_request(kind, rid, window)),
                    "forbidden", rid)

    def oversize_field(self) -> Case:
        """A huge argument, or a number out of range: refused at the door, naming the field
        (the frame still fits 64 KiB)."""
        rid, rng = self._id(), self.rng
        big = _text(rng, rng.randint(1000, 20_000))
        role, message = rng.choice([
            ("kiosk", _request("issue_ticket", rid, "", service=big)),
            ("kiosk", _request("issue_ticket", rid, "", priority=big)),
            ("terminal", _request("call_next", rid, "1", number=big)),
            ("counter", _request("rate", rid, rng.choice(SESSIONS["counter"][2]), level=big)),
            ("evaluator", _request("rate", rid, "8", level=big)),
            ("admin", _request("ack_alert", rid, "", alert=10**15, by="值班长")),
            ("admin", _request("case_close", rid, "", case=10**12, by="值班长", outcome="满意")),
            ("admin", _request("case_callback", rid, "", case=1, note=big + "。")),
            ("admin", _request("login", rid, "99", staff=big)),
        ])
        return Case("oversize field", role, _encode(message), "bad_request", rid)

    # --- on a connection of its own

    def bad_hello(self) -> Case:
        rng = self.rng
        role = self._role()
        device, token, _ = SESSIONS[role]
        hello = {"type": "hello", "device": device, "token": token}
        wrong = rng.choice([
            ({**hello, "token": token + "x"}, CLOSE_UNAUTHORISED),
            ({**hello, "token": ""}, CLOSE_UNAUTHORISED),
            ({**hello, "token": _text(rng, 32)}, CLOSE_UNAUTHORISED),
            ({**hello, "device": "kiosk-99"}, CLOSE_UNAUTHORISED),
            ({**hello, "device": device.upper()}, CLOSE_UNAUTHORISED),
            ({"type": "hello", "device": device}, CLOSE_BAD_HELLO),
            ({**hello, "device": ""}, CLOSE_BAD_HELLO),
            ({**hello, "since": -1}, CLOSE_BAD_HELLO),
            ({**hello, "since": "5"}, CLOSE_BAD_HELLO),
            ({**hello, "since": True}, CLOSE_BAD_HELLO),
            ({**hello, "type": "helo"}, CLOSE_BAD_HELLO),
            ({**hello, "token": 1234}, CLOSE_BAD_HELLO),
            ([hello], CLOSE_BAD_HELLO),
            (None, CLOSE_BAD_HELLO),
        ])
        message, code = wrong
        if message is None:
            frame: str | bytes = rng.choice([_encode(hello)[:-1], _encode(hello).encode()])
        else:
            frame = _encode(message)
        return Case("bad hello", role, "", code, own_connection=True, hello=frame)

    def oversize_frame(self) -> Case:
        rid = self._id()
        message = _request("issue_ticket", rid, "", service="civil",
                           lang=_text(self.rng, self.rng.randint(FRAME_LIMIT, FRAME_LIMIT + 20_000)))
        return Case("frame over 64 KiB", self._role(), _encode(message), CLOSE_TOO_BIG, own_connection=True)
