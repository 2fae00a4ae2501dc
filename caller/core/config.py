"""The hall configuration: typed model, TOML loader and validation.

`load_config(path)` reads the TOML, checks every key, and raises `ConfigError`
listing *every* problem as `file: key: what was expected`. The model is frozen
data; nothing in it does I/O, so the engine can hold it.

`strict=True` (the hub and `hallq check-config`) also refuses weak tokens: short ones,
the shipped example and demo tokens, one token for two devices, and token files that
others may read. A demo hall (`[hall] demo = true`) is exempt; the hub serves it on
loopback only.

The loader knows which keys each device role has, their defaults and the structure
every program relies on. The keys only one program understands are checked by that
program's `options.py`; this layer cannot import the programs, so whoever can (the
`hallq` top layer) passes their parsers in as `checks`, one per role, and the loader
runs each for every device of that role (see `hallq.check_config`).
"""

from __future__ import annotations

import difflib
import itertools
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, time
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caller.core.booking import CHECKIN_RULES, LATE_RULES, BookingConfig, ServiceBooking
from caller.core.errors import HallqError
from caller.core.personal import SecretError, read_secret
from caller.core.protocol import SCHEMAS, Role

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLES = tuple(Role)
WINDOW_ROLES = (Role.TERMINAL, Role.COUNTER, Role.EVALUATOR)
RATING_LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
EVALUATOR_MODELS = ("5key", "4key")
LED_PROTOCOLS = ("gbk-color", "bx5")
PRINTER_SCHEMES = ("usb", "serial", "tcp", "file", "cups", "win32", "image")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
DEFAULT_BAUDRATE = 9600
DEFAULT_IDLE_TEXT = "热情为您服务"
DEFAULT_ANNOUNCE = "请{number}号到{window_name}办理"
DEFAULT_REASONS = ("态度不好", "效率低", "材料要求说不清", "多次跑腿", "其他")
REASON_MAX = 20  # characters of one configured reason
REASONS_MAX = 12
ANNOUNCE_FIELDS = ("number", "window_name", "window", "service_name")
MIN_TOKEN_BYTES = 16
MIN_TOKEN_CHARS = 8  # different characters: "1111111111111111" is no secret
# The four levels of halls (市级, 区县级, 乡镇（街道）级, 村（社区）级), `[hall] level`.
HALL_LEVELS = ("city", "county", "town", "village")
_HALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Span:
    """A daily opening span, [start, end)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Season:
    name: str
    start: tuple[int, int]  # (month, day), inclusive
    end: tuple[int, int]
    hours: tuple[Span, ...]


@dataclass(frozen=True)
class SegmentCap:
    start: time
    end: time
    cap: int


@dataclass(frozen=True)
class Hall:
    name: str
    timezone: str = "Asia/Shanghai"
    notice: str = ""
    font: str | None = None
    reset_time: time = time(0, 0)
    hours: tuple[Span, ...] = ()  # empty: open all day
    open_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # Monday = 0
    weekday_hours: dict[int, tuple[Span, ...]] = field(default_factory=dict)
    seasons: tuple[Season, ...] = ()
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    demo: bool = False  # a demo hall: public tokens, loopback only
    id: str = ""  # the hall's id at the centre (required with [central])
    region_code: str = ""  # 行政区划代码, 6 or 12 digits
    level: str = ""  # one of HALL_LEVELS

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Calling:
    recall_limit: int = 3
    skip: str = "drop"  # "drop" | "requeue"
    requeue_places: int = 3
    requeue_max: int = 1
    rating_timeout_s: int = 15
    rating_default: str | None = None
    announce: str = DEFAULT_ANNOUNCE
    followup_working_days: int = 5
    recent_calls: int = 10


@dataclass(frozen=True)
class RatingPolicy:
    """[rating]: what becomes of a ticket nobody rated, how the rating record codes the
    satisfaction levels and names the channel, and the 流动红旗 weights."""

    unrated: str = "keep"  # "keep": stays unrated; "default": default_level after N days
    default_level: str = "basic"
    default_after_days: int = 7
    code_order: str = "satisfied_first"  # 1 = 非常满意 … 5 = 非常不满意; or the reverse
    channel_name: str = "窗口评价器"
    channel_code: str = "5"
    ranking_weights: dict[str, float] = field(default_factory=dict)  # {} : the defaults
    reasons: tuple[str, ...] = DEFAULT_REASONS  # what a bad rating may name (screen evaluator)
    reasons_timeout_s: int = 60  # after a bad rating, how long its reasons are taken

    def level_code(self, level: str) -> int:
        """The 满意度代码 of a level in this hall's order."""
        place = RATING_LEVELS.index(level)
        return place + 1 if self.code_order == "satisfied_first" else len(RATING_LEVELS) - place


@dataclass(frozen=True)
class StaffPolicy:
    """[staff]: whether a login must name a 工号 of the hall's roster (`hallq staff`)."""

    roster_required: bool = False


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    prefix: str
    materials: tuple[str, ...] = ()
    department: str = ""
    numbers: tuple[int, int] = (1, 999)
    daily_cap: int | None = None
    segment_caps: tuple[SegmentCap, ...] = ()
    hours: tuple[Span, ...] | None = None  # None: the hall's hours
    green_channel: bool = False
    id_required: bool = False  # no ticket without an ID card (or a scanned e-ID)
    one_live_ticket_per_person: bool = False  # a second swipe reprints the live ticket
    green_channel_age: int | None = None  # this age and over goes to the priority queue
    item_code: str = ""  # 事项编码 of the service item (GB/T 39554.1); "" until configured
    item_name: str = ""  # 事项名称 as the item list spells it; "" means the service's name

    @property
    def digits(self) -> int:
        return max(3, len(str(self.numbers[1])))


@dataclass(frozen=True)
class Window:
    id: str
    name: str
    services: dict[str, int]  # service id -> weight: 2 first, 1 normal, 0 only when idle
    area: str = ""
    backup: str | None = None  # B window that serves this window's directed tickets when away


@dataclass(frozen=True)
class Device:
    id: str
    role: str
    token: str
    windows: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)  # role-specific keys, validated


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: `per_s` sustained, `burst` at once."""

    per_s: float
    burst: int


@dataclass(frozen=True)
class Personal:
    """Real-name tickets: the hall secret for the ID-number hash, how long holders are
    kept, and whether the TV wall and LED strips show masked names."""

    secret: bytes | None = field(default=None, repr=False)  # read by the hub only
    secret_file: str = ""
    retention_days: int = 30
    wall_names: bool = False


@dataclass(frozen=True)
class Central:
    """`hallq ship`: where the hall's events go and what leaves the hall (docs/central.md)."""

    dsn_file: str  # the PostgreSQL connection string, in a file of mode 0600
    device: str = "shipper"  # the device (role shipper) it reports the shipped position as
    batch_size: int = 5000
    backlog_max: int = 500_000  # unshipped events kept before the hub raises an alert
    personal_data: bool = False  # ship the keyed hashes and masked names of ticket holders


@dataclass(frozen=True)
class WebPublic:
    """[web]: the citizen pages of `hallq web` (docs/deployment.md).

    `public_url` is where the hall's reverse proxy publishes `/p/`; without it the ticket
    carries no QR code that promises a status page."""

    public_url: str = ""  # "https://hall.example" (no trailing slash); "": not published
    notify_ahead: int = 3  # "almost your turn" when this few or fewer are ahead
    rating_url: str = ""  # the finished page's link to rate, "{code}": the ticket's; "": none


SMS_SENDERS = ("webhook", "file")


@dataclass(frozen=True)
class Sms:
    """[sms]: text messages to ticket holders who left a phone number (docs/deployment.md)."""

    sender: str  # "webhook": POST to the hall's SMS gateway; "file": JSON lines (tests, demo)
    url: str = ""  # webhook: the gateway's address
    secret_file: str = ""  # webhook: the key the body is signed with (hallq secret new FILE)
    file: str = ""  # file: where the messages go
    signature: str = ""  # the hall's signature 【…】; "": the hall's name
    retries: int = 3
    timeout_s: float = 5.0
    key: bytes | None = field(default=None, repr=False)  # the webhook's key, read by the hub


@dataclass(frozen=True)
class HallConfig:
    path: str
    hall: Hall
    calling: Calling
    services: dict[str, Service]
    windows: dict[str, Window]
    devices: dict[str, Device]
    # [limits]: "ROLE" or "ROLE.COMMAND" ("*.COMMAND": every role) -> the hub's rate limit,
    # over the hub's documented defaults (caller/hub/limits.py)
    limits: dict[str, RateLimit] = field(default_factory=dict)
    personal: Personal = Personal()
    rating: RatingPolicy = RatingPolicy()
    central: Central | None = None  # no [central]: the hall ships nothing
    staff: StaffPolicy = StaffPolicy()
    booking: BookingConfig = field(default_factory=BookingConfig)  # remote tickets, appointments
    web: WebPublic = WebPublic()
    sms: Sms | None = None  # no [sms]: no text messages

    def windows_for_service(self, service_id: str) -> list[Window]:
        return [w for w in self.windows.values() if service_id in w.services]

    def windows_with_evaluator(self) -> frozenset[str]:
        found: set[str] = set()
        for d in self.devices.values():
            if d.role == Role.EVALUATOR or (d.role == Role.COUNTER and d.options.get("evaluator")):
                found.update(d.windows)
        return frozenset(found)

    def screen_evaluators(self, web_device: str) -> dict[str, Device]:
        """Window id -> the screen evaluator device (`screen = web_device`) the console
        `web_device` serves the page of."""
        return {w: d for d in self.devices.values()
                if d.role == Role.EVALUATOR and d.options.get("screen") == web_device
                for w in d.windows}


class ConfigError(HallqError):
    """Every problem found in one config file."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {path}: {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the hall config:\n{lines}")


class _Checker:
    """Reads values out of raw TOML tables, recording problems instead of stopping."""

    def __init__(self, path: str = "<memory>") -> None:
        self.problems: list[str] = []
        self.path = path
        self.strict_tokens = False

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def known_keys(self, table: dict, key: str, allowed: set[str]) -> None:
        for k in table:
            if k not in allowed:
                near = difflib.get_close_matches(k, sorted(allowed), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.fail(f"{key}.{k}" if key else k, f"unknown key{hint}; expected one of "
                          + ", ".join(sorted(allowed)))

    def get(self, table: dict, key: str, name: str, kind: type | tuple, default: Any = ...,
            what: str = "") -> Any:
        if name not in table:
            if default is ...:
                self.fail(f"{key}.{name}", f"missing; expected {what or _kind_name(kind)}")
                return None
            return default
        value = table[name]
        ok = False if isinstance(value, bool) and kind in (int, float) else isinstance(value, kind)
        if not ok:
            self.fail(f"{key}.{name}", f"expected {what or _kind_name(kind)}, got {value!r}")
            return None if default is ... else default
        return value

    def within(self, table: dict, key: str, name: str, kind: type | tuple, default: Any,
               low: float, high: float, unit: str = "", what: str = "") -> Any:
        """A number from `low` to `high`; else a problem ("expected {what}low..high {unit}")
        and the default."""
        value = self.get(table, key, name, kind, default)
        if value is None or not low <= value <= high:
            self.fail(f"{key}.{name}", f"expected {what}{low}..{high}{' ' + unit if unit else ''}, "
                      f"got {value!r}")
            return default
        return value

    def clock(self, key: str, text: Any) -> time | None:
        if not isinstance(text, str) or not re.fullmatch(r"\d{1,2}:\d{2}", text):
            self.fail(key, f"expected a time of day like \"08:30\", got {text!r}")
            return None
        h, m = (int(x) for x in text.split(":"))
        if h == 24 and m == 0:
            return time(23, 59, 59)
        if h > 23 or m > 59:
            self.fail(key, f"expected a time of day between 00:00 and 24:00, got {text!r}")
            return None
        return time(h, m)

    def spans(self, key: str, value: Any) -> tuple[Span, ...] | None:
        if not isinstance(value, list):
            self.fail(key, f"expected a list like [\"08:30-11:30\", \"14:30-17:30\"], got {value!r}")
            return None
        spans: list[Span] = []
        for i, item in enumerate(value):
            parts = item.split("-") if isinstance(item, str) else []
            if len(parts) != 2:
                self.fail(f"{key}[{i}]", f"expected \"HH:MM-HH:MM\", got {item!r}")
                continue
            start, end = self.clock(f"{key}[{i}]", parts[0]), self.clock(f"{key}[{i}]", parts[1])
            if start is None or end is None:
                continue
            if end <= start:
                self.fail(f"{key}[{i}]", f"the span {item!r} ends before it starts")
                continue
            spans.append(Span(start, end))
        spans.sort(key=lambda s: s.start)
        for a, b in itertools.pairwise(spans):
            if b.start < a.end:
                self.fail(key, f"spans {a} and {b} overlap")
        return tuple(spans)

    def dates(self, key: str, value: Any) -> frozenset[date]:
        if not isinstance(value, list):
            self.fail(key, f"expected a list of dates like [\"2026-10-01\"], got {value!r}")
            return frozenset()
        out: set[date] = set()
        for i, item in enumerate(value):
            try:
                out.add(item if isinstance(item, date) else date.fromisoformat(item))
            except (TypeError, ValueError):
                self.fail(f"{key}[{i}]", f"expected a date like \"2026-10-01\", got {item!r}")
        return frozenset(out)

    def weekdays(self, key: str, value: Any) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(v in WEEKDAYS for v in value):
            self.fail(key, f"expected a list of {', '.join(WEEKDAYS)}, got {value!r}")
            return tuple(range(7))
        return tuple(sorted({WEEKDAYS.index(v) for v in value}))

    def month_day(self, key: str, value: Any) -> tuple[int, int]:
        try:
            m, d = (int(x) for x in value.split("-"))
            date(2024, m, d)
            return (m, d)
        except (AttributeError, ValueError):
            self.fail(key, f"expected a month and day like \"06-01\", got {value!r}")
            return (1, 1)


def _kind_name(kind: type | tuple) -> str:
    names = {str: "a string", int: "a whole number", bool: "true or false", list: "a list",
             dict: "a table", float: "a number"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _parse_hall(c: _Checker, raw: dict) -> Hall:
    c.known_keys(raw, "hall", {"name", "timezone", "notice", "font", "reset_time", "hours",
                               "open_days", "weekday_hours", "seasons", "holidays",
                               "extra_workdays", "demo", "id", "region_code", "level"})
    name = c.get(raw, "hall", "name", str) or "?"
    tz = c.get(raw, "hall", "timezone", str, "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("hall.timezone", f"expected an IANA time zone like \"Asia/Shanghai\", got {tz!r}")
        tz = "Asia/Shanghai"
    weekday_hours: dict[int, tuple[Span, ...]] = {}
    for day, spans in c.get(raw, "hall", "weekday_hours", dict, {}).items():
        if day not in WEEKDAYS:
            c.fail(f"hall.weekday_hours.{day}", f"expected one of {', '.join(WEEKDAYS)}")
            continue
        weekday_hours[WEEKDAYS.index(day)] = c.spans(f"hall.weekday_hours.{day}", spans) or ()
    seasons = []
    for i, s in enumerate(c.get(raw, "hall", "seasons", list, [])):
        key = f"hall.seasons[{i}]"
        if not isinstance(s, dict):
            c.fail(key, "expected a table with name, start, end, hours")
            continue
        c.known_keys(s, key, {"name", "start", "end", "hours"})
        seasons.append(Season(
            name=c.get(s, key, "name", str, f"season {i + 1}"),
            start=c.month_day(f"{key}.start", s.get("start")),
            end=c.month_day(f"{key}.end", s.get("end")),
            hours=c.spans(f"{key}.hours", s.get("hours")) or (),
        ))
    reset = c.clock("hall.reset_time", raw.get("reset_time", "00:00")) or time(0, 0)
    hall_id = c.get(raw, "hall", "id", str, "")
    if hall_id and not _HALL_ID.fullmatch(hall_id):
        c.fail("hall.id", "expected 1 to 64 letters, digits, '_', '.' or '-' (starting with a "
               f"letter or digit), got {hall_id!r}")
    region = _region_code(c, raw)
    level = c.get(raw, "hall", "level", str, "")
    if level and level not in HALL_LEVELS:
        c.fail("hall.level", f"expected one of {', '.join(HALL_LEVELS)}, got {level!r}")
    return Hall(
        name=name,
        timezone=tz,
        notice=c.get(raw, "hall", "notice", str, ""),
        font=c.get(raw, "hall", "font", str, None),
        reset_time=reset,
        hours=c.spans("hall.hours", raw["hours"]) or () if "hours" in raw else (),
        open_days=c.weekdays("hall.open_days", raw["open_days"]) if "open_days" in raw
        else tuple(range(7)),
        weekday_hours=weekday_hours,
        seasons=tuple(seasons),
        holidays=c.dates("hall.holidays", raw.get("holidays", [])),
        extra_workdays=c.dates("hall.extra_workdays", raw.get("extra_workdays", [])),
        demo=c.get(raw, "hall", "demo", bool, False),
        id=hall_id, region_code=region, level=level,
    )


REGION_CODE = re.compile(r"\d{6}(\d{6})?")
ITEM_CODE = re.compile(r"[0-9A-Z][0-9A-Z-]{0,63}")
CODE_ORDERS = ("satisfied_first", "dissatisfied_first")
UNRATED_POLICIES = ("keep", "default")


def _region_code(c: _Checker, raw: dict) -> str:
    code = c.get(raw, "hall", "region_code", str, "",
                 what="a 6- or 12-digit 行政区划代码 like \"330106\"")
    if code and not REGION_CODE.fullmatch(code):
        c.fail("hall.region_code", f"expected a 6- or 12-digit 行政区划代码 like \"330106\", got {code!r}")
        return ""
    return code


def _parse_rating(c: _Checker, raw: dict) -> RatingPolicy:
    c.known_keys(raw, "rating", {"unrated", "default_level", "default_after_days", "code_order",
                                 "channel_name", "channel_code", "ranking_weights", "reasons",
                                 "reasons_timeout_s"})
    d = RatingPolicy()
    unrated = c.get(raw, "rating", "unrated", str, d.unrated)
    if unrated not in UNRATED_POLICIES:
        c.fail("rating.unrated", f"expected \"keep\" or \"default\", got {unrated!r}")
        unrated = d.unrated
    level = c.get(raw, "rating", "default_level", str, d.default_level)
    if level not in RATING_LEVELS:
        c.fail("rating.default_level", f"expected one of {', '.join(RATING_LEVELS)}, got {level!r}")
        level = d.default_level
    days = c.within(raw, "rating", "default_after_days", int, d.default_after_days, 1, 365, "days")
    order = c.get(raw, "rating", "code_order", str, d.code_order)
    if order not in CODE_ORDERS:
        c.fail("rating.code_order", f"expected one of {', '.join(CODE_ORDERS)}, got {order!r}")
        order = d.code_order
    channel = c.get(raw, "rating", "channel_name", str, d.channel_name)
    code = c.get(raw, "rating", "channel_code", str, d.channel_code)
    if not re.fullmatch(r"[0-9A-Za-z]{1,8}", code or ""):
        c.fail("rating.channel_code", f"expected the province's channel code (1-8 letters or "
               f"digits) like \"5\", got {code!r}")
        code = d.channel_code
    weights = c.get(raw, "rating", "ranking_weights", dict, {})
    clean: dict[str, float] = {}
    for name, points in (weights or {}).items():
        if isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
            c.fail(f"rating.ranking_weights.{name}", f"expected points, a number >= 0, got {points!r}")
        else:
            clean[name] = float(points)
    reasons = c.get(raw, "rating", "reasons", list, list(d.reasons)) or []
    good = [r for r in reasons if isinstance(r, str) and r.strip() and len(r) <= REASON_MAX
            and r.isprintable()]
    if len(good) != len(reasons) or not 1 <= len(good) <= REASONS_MAX or len(set(good)) != len(good):
        c.fail("rating.reasons", f"expected 1-{REASONS_MAX} different printable texts of at most "
               f"{REASON_MAX} characters, like [\"态度不好\", \"其他\"], got {reasons!r}")
        good = list(d.reasons)
    reasons_s = c.within(raw, "rating", "reasons_timeout_s", int, d.reasons_timeout_s, 5, 3600,
                         "seconds")
    return RatingPolicy(unrated=unrated, default_level=level, default_after_days=days,
                        code_order=order, channel_name=channel or d.channel_name,
                        channel_code=code, ranking_weights=clean, reasons=tuple(good),
                        reasons_timeout_s=reasons_s)


def _parse_staff(c: _Checker, raw: dict) -> StaffPolicy:
    c.known_keys(raw, "staff", {"roster_required"})
    required = c.get(raw, "staff", "roster_required", bool, False)
    return StaffPolicy(roster_required=bool(required))


def _parse_calling(c: _Checker, raw: dict) -> Calling:
    c.known_keys(raw, "calling", {"recall_limit", "skip", "requeue_places", "requeue_max",
                                  "rating_timeout_s", "rating_default", "announce",
                                  "followup_working_days", "recent_calls"})
    d = Calling()
    skip = c.get(raw, "calling", "skip", str, d.skip)
    if skip not in ("drop", "requeue"):
        c.fail("calling.skip", f"expected \"drop\" or \"requeue\", got {skip!r}")
    default = c.get(raw, "calling", "rating_default", str, None)
    if default is not None and default not in RATING_LEVELS:
        c.fail("calling.rating_default", f"expected one of {', '.join(RATING_LEVELS)}")
    announce = c.get(raw, "calling", "announce", str, d.announce)
    for name in re.findall(r"{(\w*)}", announce):
        if name not in ANNOUNCE_FIELDS:
            c.fail("calling.announce", f"unknown placeholder {{{name}}}; expected "
                   + ", ".join("{" + f + "}" for f in ANNOUNCE_FIELDS))
    numbers = {}
    for key in ("recall_limit", "requeue_places", "requeue_max", "rating_timeout_s",
                "followup_working_days", "recent_calls"):
        value = c.get(raw, "calling", key, int, getattr(d, key))
        if value is not None and value < 0:
            c.fail(f"calling.{key}", f"expected zero or more, got {value}")
        numbers[key] = value if value is not None else getattr(d, key)
    return Calling(skip=skip, rating_default=default, announce=announce, **numbers)


def _parse_limits(c: _Checker, raw: dict) -> dict[str, RateLimit]:
    found: dict[str, RateLimit] = {}
    for name, value in raw.items():
        key = f"limits.{name}"
        role, _, command = name.partition(".")
        if role not in ROLES and not (role == "*" and command):
            c.fail(key, f"expected a role ({', '.join(ROLES)}) or ROLE.COMMAND, got {name!r}")
            continue
        if command and command not in SCHEMAS:
            c.fail(key, f"unknown command {command!r}")
            continue
        if not isinstance(value, dict) or set(value) != {"per_s", "burst"}:
            c.fail(key, "expected a table { per_s = N, burst = N }")
            continue
        per_s, burst = value["per_s"], value["burst"]
        if (not isinstance(per_s, int | float) or isinstance(per_s, bool) or per_s <= 0
                or not isinstance(burst, int) or isinstance(burst, bool) or burst < 1):
            c.fail(key, f"expected per_s > 0 and a whole burst >= 1, got {value!r}")
            continue
        found[name] = RateLimit(float(per_s), burst)
    return found


def _parse_service(c: _Checker, raw: Any, i: int) -> Service | None:
    key = f"services[{i}]"
    if not isinstance(raw, dict):
        c.fail(key, "expected a table")
        return None
    if isinstance(raw.get("id"), str):
        key = f"services[{i}] (id {raw['id']!r})"
    c.known_keys(raw, key, {"id", "name", "prefix", "materials", "department", "numbers",
                            "daily_cap", "segment_caps", "hours", "green_channel",
                            "id_required", "one_live_ticket_per_person", "green_channel_age",
                            "item_code", "item_name"})
    sid = c.get(raw, key, "id", str, what="a short stable id like \"civil\"")
    name = c.get(raw, key, "name", str)
    prefix = c.get(raw, key, "prefix", str, what="one or two capital letters like \"A\"")
    if prefix is not None and not re.fullmatch(r"[A-Z]{1,2}", prefix):
        c.fail(f"{key}.prefix", f"expected one or two capital letters like \"A\", got {prefix!r}")
    materials = c.get(raw, key, "materials", list, [])
    if not all(isinstance(m, str) for m in materials):
        c.fail(f"{key}.materials", "expected a list of strings")
        materials = []
    numbers = c.get(raw, key, "numbers", list, [1, 999])
    if not (len(numbers) == 2 and all(isinstance(n, int) and not isinstance(n, bool)
                                      for n in numbers) and 0 <= numbers[0] < numbers[1]):
        c.fail(f"{key}.numbers", f"expected [first, last] like [1, 999], got {numbers!r}")
        numbers = [1, 999]
    cap = c.get(raw, key, "daily_cap", int, None)
    if cap is not None and cap < 1:
        c.fail(f"{key}.daily_cap", f"expected a positive number, got {cap}")
    seg_caps = []
    for j, seg in enumerate(c.get(raw, key, "segment_caps", list, [])):
        sk = f"{key}.segment_caps[{j}]"
        if not isinstance(seg, dict):
            c.fail(sk, "expected a table like { from = \"08:30\", to = \"11:30\", cap = 50 }")
            continue
        c.known_keys(seg, sk, {"from", "to", "cap"})
        start, end = c.clock(f"{sk}.from", seg.get("from")), c.clock(f"{sk}.to", seg.get("to"))
        segcap = c.get(seg, sk, "cap", int)
        if start and end and segcap is not None:
            if end <= start:
                c.fail(sk, "the segment ends before it starts")
            seg_caps.append(SegmentCap(start, end, segcap))
    hours = c.spans(f"{key}.hours", raw["hours"]) if "hours" in raw else None
    age = c.get(raw, key, "green_channel_age", int, None)
    if age is not None and not 1 <= age <= 150:
        c.fail(f"{key}.green_channel_age", f"expected an age in years like 70, got {age}")
        age = None
    item_code = c.get(raw, key, "item_code", str, "")
    if item_code and not ITEM_CODE.fullmatch(item_code):
        c.fail(f"{key}.item_code", "expected the 事项编码 from the item list: digits and capital "
               f"letters (and -), at most 64, like \"11330106MB1234567X4000000000000\", got {item_code!r}")
        item_code = ""
    item_name = c.get(raw, key, "item_name", str, "")
    if item_name and (len(item_name) > 200 or not item_name.isprintable()):
        c.fail(f"{key}.item_name", "expected the 事项名称, printable, at most 200 characters")
        item_name = ""
    if sid is None or name is None or prefix is None:
        return None
    return Service(
        id=sid, name=name, prefix=prefix, materials=tuple(materials),
        department=c.get(raw, key, "department", str, ""),
        numbers=(numbers[0], numbers[1]), daily_cap=cap, segment_caps=tuple(seg_caps),
        hours=hours, green_channel=c.get(raw, key, "green_channel", bool, False),
        id_required=c.get(raw, key, "id_required", bool, False),
        one_live_ticket_per_person=c.get(raw, key, "one_live_ticket_per_person", bool, False),
        green_channel_age=age, item_code=item_code, item_name=item_name,
    )


def _parse_personal(c: _Checker, raw: dict, base: Path, read_secret_file: bool,
                    services: dict[str, Service]) -> Personal:
    c.known_keys(raw, "personal", {"secret_file", "retention_days", "wall_names"})
    days = c.get(raw, "personal", "retention_days", int, 30)
    if days is not None and not 1 <= days <= 3650:
        c.fail("personal.retention_days", f"expected 1..3650 days, got {days}")
    secret_file = c.get(raw, "personal", "secret_file", str, "") or ""
    real_name = [s.id for s in services.values()
                 if s.id_required or s.one_live_ticket_per_person or s.green_channel_age]
    if real_name and not secret_file:
        c.fail("personal.secret_file", f"missing; services {', '.join(real_name)} take ID cards, "
               "expected the path of the hall secret (hallq secret new FILE)")
    secret = None
    if secret_file and read_secret_file:
        try:
            secret = read_secret(token_path(base, secret_file))
        except SecretError as e:
            c.fail("personal.secret_file", str(e))
    return Personal(secret=secret, secret_file=secret_file, retention_days=days or 30,
                    wall_names=c.get(raw, "personal", "wall_names", bool, False))


_BOOKING_SERVICE_KEYS = {f.name for f in fields(ServiceBooking)}
_BOOKING_RANGES = {"slot_minutes": (5, 240), "slot_capacity": (1, 1000), "days_ahead": (0, 30),
           "lead_minutes": (0, 1440), "cancel_before_minutes": (0, 10080),
           "checkin_before_minutes": (0, 240), "checkin_after_minutes": (0, 240),
           "checkin_places": (0, 1000), "per_person_per_day": (1, 10),
           "no_show_limit": (1, 100), "cancel_limit": (1, 100), "strike_days": (1, 366),
           "ban_days": (1, 3650)}


def _service_booking(c: _Checker, raw: dict, key: str, base: ServiceBooking) -> ServiceBooking:
    values: dict[str, Any] = {}
    for name in ("remote", "appointments"):
        if name in raw:
            values[name] = c.get(raw, key, name, bool, getattr(base, name))
    for name in ("slot_minutes", "slot_capacity", "days_ahead", "lead_minutes",
                 "cancel_before_minutes", "checkin_before_minutes", "checkin_after_minutes",
                 "checkin_places"):
        if name in raw:
            values[name] = _int_within(c, raw, key, name, getattr(base, name))
    if "remote_share" in raw:
        share = c.get(raw, key, "remote_share", (int, float), base.remote_share,
                      what="a share of the daily cap between 0 and 1, like 0.3")
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
            c.fail(f"{key}.remote_share", f"expected a share between 0 and 1 like 0.3, got {share!r}")
        else:
            values["remote_share"] = float(share)
    if "remote_hours" in raw:
        values["remote_hours"] = c.spans(f"{key}.remote_hours", raw["remote_hours"]) or ()
    for name in ("earliest_booking", "latest_booking"):
        if name in raw:
            values[name] = c.clock(f"{key}.{name}", raw[name]) or getattr(base, name)
    for name, allowed in (("late", LATE_RULES), ("checkin_rule", CHECKIN_RULES)):
        if name in raw:
            value = c.get(raw, key, name, str, getattr(base, name))
            if value not in allowed:
                c.fail(f"{key}.{name}", f"expected one of {', '.join(map(repr, allowed))}, "
                       f"got {value!r}")
            else:
                values[name] = value
    rules = replace(base, **values)
    if rules.latest_booking <= rules.earliest_booking:
        c.fail(f"{key}.latest_booking", "expected a time after earliest_booking")
    return rules


def _int_within(c: _Checker, raw: dict, key: str, name: str, default: int) -> int:
    low, high = _BOOKING_RANGES[name]
    return c.within(raw, key, name, int, default, low, high, what="a whole number ")


def _parse_booking(c: _Checker, raw: dict, hall: Hall, services: dict[str, Service]) -> BookingConfig:
    """Read `[booking]`; problems go to the checker as `booking.KEY: expected …`."""
    c.known_keys(raw, "booking", {"services", "per_person_per_day", "no_show_limit",
                                  "cancel_limit", "strike_days", "ban_days",
                                  "sms_verification"} | _BOOKING_SERVICE_KEYS)
    default = _service_booking(c, raw, "booking", ServiceBooking())
    hall_values = {name: _int_within(c, raw, "booking", name, getattr(BookingConfig, name))
                   for name in ("per_person_per_day", "no_show_limit", "cancel_limit",
                                "strike_days", "ban_days") if name in raw}
    sms = c.get(raw, "booking", "sms_verification", bool, False)
    per_service: dict[str, ServiceBooking] = {}
    for sid, table in (c.get(raw, "booking", "services", dict, {}) or {}).items():
        key = f"booking.services.{sid}"
        if sid not in services:
            c.fail(key, f"unknown service; expected one of {', '.join(services)}")
            continue
        if not isinstance(table, dict):
            c.fail(key, "expected a table of the service's booking keys")
            continue
        c.known_keys(table, key, _BOOKING_SERVICE_KEYS)
        per_service[sid] = _service_booking(c, table, key, default)
    config = BookingConfig(services=per_service, default=default, sms_verification=sms,
                           **hall_values)
    hall_hours = hall.hours or hall.weekday_hours or any(s.hours for s in hall.seasons)
    for sid, service in services.items():
        if config.rules(sid).appointments and not (service.hours or hall_hours):
            c.fail(f"booking.services.{sid}.appointments",
                   "the service is open all day, so there are no slots to cut; expected "
                   "[hall] hours or the service's hours")
    return config


def _parse_central(c: _Checker, raw: dict, hall: Hall, devices: dict[str, Device]) -> Central:
    c.known_keys(raw, "central", {"dsn_file", "device", "batch_size", "backlog_max",
                                  "personal_data"})
    for key, value in (("id", hall.id), ("region_code", hall.region_code), ("level", hall.level)):
        if not value:
            c.fail(f"hall.{key}", "missing; a hall that ships to the centre ([central]) needs "
                   "[hall] id, region_code and level")
    dsn_file = c.get(raw, "central", "dsn_file", str, what="the path of a file (mode 0600) "
                     "holding the PostgreSQL connection string") or ""
    device = c.get(raw, "central", "device", str, "shipper")
    if device not in devices or devices[device].role != Role.SHIPPER:
        c.fail("central.device", f"expected the id of a device with role '{Role.SHIPPER}', "
               f"got {device!r}")
    batch = c.within(raw, "central", "batch_size", int, 5000, 1, 100_000, "events")
    backlog = c.within(raw, "central", "backlog_max", int, 500_000, 1000, 100_000_000, "events")
    return Central(dsn_file=dsn_file, device=device, batch_size=batch, backlog_max=backlog,
                   personal_data=c.get(raw, "central", "personal_data", bool, False))


_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?")


def _parse_web(c: _Checker, raw: dict) -> WebPublic:
    c.known_keys(raw, "web", {"public_url", "notify_ahead", "rating_url"})
    url = c.get(raw, "web", "public_url", str, "", what="an http(s) URL like \"https://hall.example\"")
    if url and not _PUBLIC_URL.fullmatch(url):
        c.fail("web.public_url", "expected an http(s) URL like \"https://hall.example\" or "
               f"\"https://gov.example/hall\" (no query, no fragment), got {url!r}")
        url = ""
    ahead = c.within(raw, "web", "notify_ahead", int, 3, 1, 50, "places")
    rating = c.get(raw, "web", "rating_url", str, "") or ""
    fields_ = re.findall(r"{(\w*)}", rating)
    if rating and (not (_PUBLIC_URL.fullmatch(rating.replace("{code}", "c"))
                        or re.fullmatch(r"/p/[A-Za-z0-9._~/{}-]*", rating))
                   or set(fields_) - {"code"}):
        c.fail("web.rating_url", "expected an http(s) URL or a path under /p/, with {code} for "
               f"the ticket's page code, like \"/p/rate/{{code}}\", got {rating!r}")
        rating = ""
    return WebPublic(public_url=url.rstrip("/"), notify_ahead=ahead, rating_url=rating)


def _parse_sms(c: _Checker, raw: dict, hall: Hall, base: Path, read_key: bool) -> Sms:
    c.known_keys(raw, "sms", {"sender", "url", "secret_file", "file", "signature", "retries",
                              "timeout_s"})
    sender = c.get(raw, "sms", "sender", str, what="\"webhook\" or \"file\"") or ""
    if sender and sender not in SMS_SENDERS:
        c.fail("sms.sender", f"expected \"webhook\" or \"file\", got {sender!r}")
    url = c.get(raw, "sms", "url", str, "") or ""
    secret_file = c.get(raw, "sms", "secret_file", str, "") or ""
    file = c.get(raw, "sms", "file", str, "") or ""
    if sender == "webhook":
        if not _PUBLIC_URL.fullmatch(url.split("?", 1)[0]):
            c.fail("sms.url", f"expected the gateway's http(s) URL, got {url!r}")
        if not secret_file:
            c.fail("sms.secret_file", "missing; the webhook signs each message: expected the path "
                   "of a key file (hallq secret new FILE)")
    key = None
    if sender == "webhook" and secret_file and read_key:
        try:
            key = read_secret(token_path(base, secret_file))
        except SecretError as e:
            c.fail("sms.secret_file", str(e))
    if sender == "file" and not file:
        c.fail("sms.file", "missing; expected the path the messages are written to")
    signature = c.get(raw, "sms", "signature", str, "") or ""
    if len(signature) > 20 or not signature.isprintable() or any(ch in signature for ch in "【】"):
        c.fail("sms.signature", f"expected the hall's short name (20 characters at most, without "
               f"【】), got {signature!r}")
        signature = ""
    retries = c.within(raw, "sms", "retries", int, 3, 1, 10, "attempts")
    timeout = c.within(raw, "sms", "timeout_s", (int, float), 5.0, 0.5, 60, "seconds")
    return Sms(sender=sender, url=url, secret_file=secret_file, file=file,
               signature=signature or hall.name, retries=retries, timeout_s=float(timeout), key=key)


def _parse_window(c: _Checker, raw: Any, i: int, services: dict[str, Service]) -> Window | None:
    key = f"windows[{i}]"
    if not isinstance(raw, dict):
        c.fail(key, "expected a table")
        return None
    if isinstance(raw.get("id"), str):
        key = f"windows[{i}] (id {raw['id']!r})"
    c.known_keys(raw, key, {"id", "name", "services", "area", "backup"})
    wid = c.get(raw, key, "id", str, what="a string like \"3\"")
    name = c.get(raw, key, "name", str, what="a string like \"3号窗口\"")
    weights = c.get(raw, key, "services", dict, what="a table like { civil = 1 }")
    clean: dict[str, int] = {}
    for sid, weight in (weights or {}).items():
        if sid not in services:
            c.fail(f"{key}.services.{sid}",
                   f"unknown service; expected one of {', '.join(services) or '(none defined)'}")
        elif weight not in (0, 1, 2) or isinstance(weight, bool):
            c.fail(f"{key}.services.{sid}",
                   f"expected weight 2 (first), 1 (normal) or 0 (only when idle), got {weight!r}")
        else:
            clean[sid] = weight
    if weights is not None and not weights:
        c.fail(f"{key}.services", "a window must serve at least one service")
    if wid is None or name is None:
        return None
    return Window(id=wid, name=name, services=clean, area=c.get(raw, key, "area", str, ""),
                  backup=c.get(raw, key, "backup", str, None))


# The web console's colour thresholds: minutes at one ticket, minutes waited, and how many
# waiting make an idle window stand out.
WEB_LIMITS = {"serving_alert_min": 20, "wait_alert_min": 30, "idle_alert_waiting": 1}
SERIAL_BAUDRATES = (9600, 19200, 38400, 57600, 115200)
# what a kiosk's idcard_backend may name (drivers.idcard.backends.make_backend)
READER_BACKENDS = ("serial", "keyboard", "http")

_DEVICE_KEYS = {
    Role.KIOSK: {"printer", "paper_mm", "print_mode", "priority_entry", "idcard", "idcard_backend",
                 "idcard_baudrate", "scanner", "scanner_baudrate"},
    Role.TERMINAL: {"shortcuts", "ask_case_no"},
    Role.COUNTER: {"port", "baudrate", "addresses", "evaluator", "keypad"},
    Role.EVALUATOR: {"screen"},
    Role.DISPLAY: {"area", "orientation", "mark_arrivals", "voice", "voice_lang", "voice_rate",
                "voice_volume", "voice_repeat", "voice_chime", "voice_chime_file", "voice_one",
                "voice_max_queue", "voice_max_age_s", "voice_backend"},
    Role.LED: {"port", "baudrate", "protocol", "strips", "idle_text"},
    Role.WEB: set(WEB_LIMITS),
    Role.ADMIN: set(),
    Role.SHIPPER: set(),
}


# What the loader fills in for a key a device leaves out: the one place these defaults live.
DEVICE_DEFAULTS: dict[str, dict[str, Any]] = {
    "kiosk": {"printer": "", "paper_mm": 80, "print_mode": "raster", "priority_entry": True,
              "idcard": "", "idcard_backend": "serial", "idcard_baudrate": 115200, "scanner": "",
              "scanner_baudrate": 9600},
    "counter": {"baudrate": DEFAULT_BAUDRATE, "evaluator": "5key", "keypad": "default"},
    "display": {"area": "", "orientation": "landscape", "mark_arrivals": True},
    "led": {"baudrate": DEFAULT_BAUDRATE, "protocol": "gbk-color", "idle_text": DEFAULT_IDLE_TEXT},
    "web": dict(WEB_LIMITS),
}

OptionsParser = Callable[[HallConfig, Device], object]
"""Parses one device's options into a program's typed settings; raises ConfigError."""


def device_key(device_id: str) -> str:
    """How problems name a device's table: `devices (id 'wall-1')`."""
    return f"devices (id {device_id!r})"


def device_for(config: HallConfig, device_id: str, role: str | None) -> Device:
    """The device `device_id` of `config`, which must have `role` (None: any role);
    ConfigError naming the devices there are otherwise."""
    device = config.devices.get(device_id)
    if device is not None and role in (None, device.role):
        return device
    same = [d.id for d in config.devices.values() if role in (None, d.role)]
    there = (f"the {role + ' ' if role else ''}devices in this config: "
             f"{', '.join(same) or '(none)'}")
    if device is None:
        raise ConfigError(config.path, [f"devices: no device {device_id!r}; {there}"])
    raise ConfigError(config.path, [f"{device_key(device_id)}.role: expected \"{role}\", "
                                    f"got {device.role!r} ({there})"])


def _read_token(c: _Checker, raw: dict, key: str, base: Path) -> str:
    sources = [k for k in ("token", "token_file", "token_env") if k in raw]
    if len(sources) != 1:
        c.fail(key, "expected exactly one of token, token_file, token_env"
               + (f" (found {', '.join(sources)})" if sources else ""))
        return ""
    kind = sources[0]
    value = raw[kind]
    if not isinstance(value, str) or not value:
        c.fail(f"{key}.{kind}", "expected a non-empty string")
        return ""
    if kind == "token":
        weak = _weak_token(value) if c.strict_tokens else None
        if weak:
            c.fail(f"{key}.token", f"the config {weak}; expected a long random token, best in "
                   "a token_file made by `hallq token new`")
        return value
    if kind == "token_env":
        token = os.environ.get(value, "")
        weak = _weak_token(token) if c.strict_tokens and token else None
        if not token:
            c.fail(f"{key}.token_env", f"the environment variable {value} is not set or empty")
        elif weak:
            c.fail(f"{key}.token_env", f"the environment variable {value} {weak}; "
                   "expected a long random token (openssl rand -hex 24)")
        return token
    path = token_path(base, value)
    try:
        token = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode & 0o777
    except OSError as e:
        c.fail(f"{key}.token_file", f"cannot read {path}: {e.strerror}")
        return ""
    if not token:
        c.fail(f"{key}.token_file", f"{path} is empty")
    elif c.strict_tokens:
        weak = _weak_token(token)
        if weak:
            c.fail(f"{key}.token_file", f"{path} {weak}; expected a fresh random token: "
                   f"hallq token new {raw.get('id')} --config {c.path}")
        elif mode & 0o077 and os.name == "posix":
            c.fail(f"{key}.token_file", f"{path} has mode {mode:04o}, others may read it; "
                   f"expected 0600 or 0400 (chmod 600 {path})")
    return token


def token_path(base: Path, value: str) -> Path:
    """Where a `token_file` value points: relative to the config's folder, or absolute."""
    return Path(value) if Path(value).is_absolute() else base / value


def _weak_token(token: str) -> str | None:
    """What makes a token guessable, or None."""
    if token.upper().startswith("EXAMPLE-ONLY"):
        return "holds the example token shipped with hallq"
    if token.lower().startswith("demo-"):
        return "holds a demo token"
    if len(token.encode()) < MIN_TOKEN_BYTES:
        return f"holds a {len(token.encode())}-byte token (fewer than {MIN_TOKEN_BYTES} bytes)"
    if len(set(token)) < MIN_TOKEN_CHARS:
        return f"holds a token of fewer than {MIN_TOKEN_CHARS} different characters"
    return None


def _parse_device(c: _Checker, raw: Any, i: int, windows: dict[str, Window],
                  base: Path, only: str | None) -> Device | None:
    key = f"devices[{i}]"
    if not isinstance(raw, dict):
        c.fail(key, "expected a table")
        return None
    if isinstance(raw.get("id"), str):
        key = f"devices[{i}] (id {raw['id']!r})"
    did = c.get(raw, key, "id", str)
    role = c.get(raw, key, "role", str, what=f"one of {', '.join(ROLES)}")
    if role is not None and role not in ROLES:
        c.fail(f"{key}.role", f"expected one of {', '.join(ROLES)}, got {role!r}")
        role = None
    extra = _DEVICE_KEYS.get(role or "", set())
    c.known_keys(raw, key, {"id", "role", "token", "token_file", "token_env", "windows"} | extra)
    # A device program needs only its own token: the others may live on other machines.
    token = _read_token(c, raw, key, base) if only is None or did == only else ""
    win = c.get(raw, key, "windows", list, [])
    for w in win:
        if w not in windows:
            c.fail(f"{key}.windows", f"unknown window {w!r}; expected one of {', '.join(windows)}")
    if role in WINDOW_ROLES and not win:
        c.fail(f"{key}.windows", f"a {role} must be bound to at least one window")
    options = {**DEVICE_DEFAULTS.get(role or "", {}), **{k: raw[k] for k in extra if k in raw}}
    if role == Role.KIOSK:
        _check_kiosk(c, key, options)
    elif role == Role.COUNTER:
        _check_bus(c, key, options, "addresses", win, windows)
        model = options["evaluator"]
        if model and model not in EVALUATOR_MODELS:
            c.fail(f"{key}.evaluator", f"expected one of {', '.join(EVALUATOR_MODELS)} "
                   "or \"\" for none")
    elif role == Role.LED:
        _check_bus(c, key, options, "strips", None, windows)
        proto = options["protocol"]
        if proto not in LED_PROTOCOLS:
            c.fail(f"{key}.protocol", f"expected one of {', '.join(LED_PROTOCOLS)}, got {proto!r}")
        if not isinstance(options["idle_text"], str) or not options["idle_text"].strip():
            c.fail(f"{key}.idle_text", f"expected a text to show, got {options['idle_text']!r}")
    elif role == Role.WEB:
        for name in WEB_LIMITS:
            value = options[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                c.fail(f"{key}.{name}", f"expected a whole number of 1 or more, got {value!r}")
    if did is None or role is None:
        return None
    return Device(id=did, role=role, token=token, windows=tuple(win), options=options)


def _check_kiosk(c: _Checker, key: str, options: dict) -> None:
    url = options["printer"]
    if not isinstance(url, str):
        c.fail(f"{key}.printer", f"expected a printer URL or \"\" for none, got {url!r}")
    elif url and url.split("://", 1)[0] not in PRINTER_SCHEMES:
        c.fail(f"{key}.printer", f"expected a URL starting with one of "
               f"{', '.join(s + '://' for s in PRINTER_SCHEMES)}, got {url!r}")
    if options["paper_mm"] not in (58, 80) or isinstance(options["paper_mm"], bool):
        c.fail(f"{key}.paper_mm", "expected 58 or 80")
    if options["print_mode"] not in ("raster", "text"):
        c.fail(f"{key}.print_mode", "expected \"raster\" or \"text\" (GB18030)")
    if not isinstance(options["priority_entry"], bool):
        c.fail(f"{key}.priority_entry", f"expected true or false, got {options['priority_entry']!r}")
    for port in ("idcard", "scanner"):
        if not isinstance(options[port], str):
            c.fail(f"{key}.{port}", f"expected a serial port like \"/dev/ttyUSB1\" or \"\" for none, "
                   f"got {options[port]!r}")
        rate = options[f"{port}_baudrate"]
        if rate not in SERIAL_BAUDRATES or isinstance(rate, bool):
            c.fail(f"{key}.{port}_baudrate", f"expected one of {', '.join(map(str, SERIAL_BAUDRATES))}")
    _check_reader(c, key, options["idcard_backend"], options["idcard"])


def _check_reader(c: _Checker, key: str, backend: object, where: object) -> None:
    """``idcard`` is what the backend needs: a serial port, a service URL, or nothing."""
    if backend not in READER_BACKENDS:
        c.fail(f"{key}.idcard_backend", f"expected one of {', '.join(map(repr, READER_BACKENDS))}"
               f" (docs/hardware.md), got {backend!r}")
    elif not isinstance(where, str):
        return
    elif backend == "http" and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", where):
        c.fail(f"{key}.idcard", "with idcard_backend = \"http\", expected the reader service's "
               f"URL like \"http://127.0.0.1:24010/api/readcard\", got {where!r}")
    elif backend == "keyboard" and where:
        c.fail(f"{key}.idcard", "a keyboard-output reader types into the kiosk and has no port: "
               f"expected \"\", got {where!r}")


def _check_bus(c: _Checker, key: str, options: dict, table: str, bound: list | None,
               windows: dict[str, Window]) -> None:
    if not isinstance(options.get("port"), str) or not options.get("port"):
        c.fail(f"{key}.port", "expected a serial port such as \"/dev/ttyUSB0\" or a pyserial "
               "URL such as \"socket://10.0.0.5:4001\"")
    rate = options["baudrate"]
    if rate not in BAUDRATES or isinstance(rate, bool):
        c.fail(f"{key}.baudrate", f"expected one of {', '.join(map(str, BAUDRATES))}, got {rate!r}")
    mapping = options.get(table)
    if not isinstance(mapping, dict) or not mapping:
        c.fail(f"{key}.{table}", "expected a table of window id -> bus address, like { \"1\" = 1 }")
        options[table] = {}
        return
    seen: dict[int, str] = {}
    for wid, addr in mapping.items():
        if wid not in windows:
            c.fail(f"{key}.{table}.{wid}", "unknown window")
        if bound is not None and wid not in bound:
            c.fail(f"{key}.{table}.{wid}", "this window is not in the device's windows list")
        if not isinstance(addr, int) or isinstance(addr, bool) or not 0 <= addr <= 255:
            c.fail(f"{key}.{table}.{wid}", f"expected a bus address 0-255, got {addr!r}")
        elif addr in seen:
            c.fail(f"{key}.{table}.{wid}", f"address {addr} is also used by window {seen[addr]}")
        else:
            seen[addr] = wid
    for wid in bound or []:
        if wid not in mapping:
            c.fail(f"{key}.{table}", f"window {wid!r} has no bus address")


def _check_cross(c: _Checker, services: dict[str, Service], windows: dict[str, Window]) -> None:
    prefixes: dict[str, str] = {}
    for s in services.values():
        if s.prefix in prefixes:
            c.fail(f"services (id {s.id!r}).prefix",
                   f"prefix {s.prefix!r} is also used by service {prefixes[s.prefix]!r}")
        prefixes[s.prefix] = s.id
        if not any(s.id in w.services for w in windows.values()):
            c.fail(f"services (id {s.id!r})", "no window serves this service")
    for w in windows.values():
        if w.backup is not None and (w.backup not in windows or w.backup == w.id):
            c.fail(f"windows (id {w.id!r}).backup", "expected the id of another window")


def _check_screens(c: _Checker, devices: dict[str, Device]) -> None:
    """A screen evaluator names the web device that serves its page, and each window has
    one screen at most."""
    served: dict[str, str] = {}
    for d in devices.values():
        screen = d.options.get("screen") if d.role == Role.EVALUATOR else None
        if screen is None:
            continue
        web = devices.get(screen) if isinstance(screen, str) else None
        if web is None or web.role != Role.WEB:
            webs = [w.id for w in devices.values() if w.role == Role.WEB]
            c.fail(f"{device_key(d.id)}.screen", f"expected the id of a web device "
                   f"(one of {', '.join(webs) or '(none)'}), got {screen!r}")
        for w in d.windows:
            if w in served:
                c.fail(f"{device_key(d.id)}.windows", f"window {w!r} already has the screen "
                       f"evaluator {served[w]!r}")
            served.setdefault(w, d.id)


def _check_shared_tokens(c: _Checker, devices: dict[str, Device]) -> None:
    owners: dict[str, str] = {}
    for d in devices.values():
        if d.token and d.token in owners:
            c.fail(f"devices (id {d.id!r})", f"has the same token as device {owners[d.token]!r}; "
                   "expected a token of its own")
        owners.setdefault(d.token, d.id)


def _unique(c: _Checker, items: list, section: str) -> dict:
    out: dict = {}
    for item in items:
        if item is None:
            continue
        if item.id in out:
            c.fail(section, f"id {item.id!r} is used twice")
        out[item.id] = item
    return out


def parse_config(raw: dict, path: str = "<memory>", base: Path | None = None,
                 device: str | None = None, strict: bool = False,
                 checks: Mapping[str, OptionsParser] | None = None) -> HallConfig:
    """Validate a parsed TOML document; raise ConfigError with every problem.

    With `device`, only that device's token is read (token files and variables of the
    other devices need not exist on this machine). `strict` refuses weak tokens (see
    the module's docstring) unless the hall is a demo hall. `checks` maps a role to the
    parser of the program that runs such devices: it runs for every device of that role
    whose table the loader found sound, and its problems are reported with the loader's."""
    c = _Checker(path)
    base = base or Path.cwd()
    c.known_keys(raw, "", {"hall", "calling", "services", "windows", "devices", "limits",
                           "personal", "rating", "central", "booking", "web", "staff", "sms"})
    hall_raw = c.get(raw, "", "hall", dict, what="a [hall] table with at least name") or {}
    hall = _parse_hall(c, hall_raw)
    c.strict_tokens = strict and not hall.demo
    calling = _parse_calling(c, c.get(raw, "", "calling", dict, {}))
    services = _unique(c, [_parse_service(c, s, i) for i, s in
                           enumerate(c.get(raw, "", "services", list) or [])], "services")
    if not services:
        c.fail("services", "expected at least one [[services]] table")
    windows = _unique(c, [_parse_window(c, w, i, services) for i, w in
                          enumerate(c.get(raw, "", "windows", list) or [])], "windows")
    if not windows:
        c.fail("windows", "expected at least one [[windows]] table")
    parsed: list[Device | None] = []
    sound: set[str] = set()
    for i, d in enumerate(c.get(raw, "", "devices", list, [])):
        before = len(c.problems)
        parsed.append(_parse_device(c, d, i, windows, base, device))
        if parsed[-1] is not None and len(c.problems) == before:
            sound.add(parsed[-1].id)
    devices = _unique(c, parsed, "devices")
    _check_cross(c, services, windows)
    _check_screens(c, devices)
    if c.strict_tokens:
        _check_shared_tokens(c, devices)
    limits = _parse_limits(c, c.get(raw, "", "limits", dict, {}) or {})
    personal = _parse_personal(c, c.get(raw, "", "personal", dict, {}), base, device is None,
                               services)
    rating = _parse_rating(c, c.get(raw, "", "rating", dict, {}) or {})
    booking = _parse_booking(c, c.get(raw, "", "booking", dict, {}) or {}, hall, services)
    if booking.any_enabled and not personal.secret_file:
        c.fail("personal.secret_file", "missing; [booking] takes remote tickets or appointments, "
               "expected the path of the hall secret (hallq secret new FILE) for booking codes "
               "and ID numbers")
    central_raw = c.get(raw, "", "central", dict, None)
    central = _parse_central(c, central_raw, hall, devices) if central_raw is not None else None
    web = _parse_web(c, c.get(raw, "", "web", dict, {}) or {})
    sms_raw = c.get(raw, "", "sms", dict, None)
    sms = _parse_sms(c, sms_raw, hall, base, device is None) if sms_raw is not None else None
    if web.public_url and not personal.secret_file:
        c.fail("personal.secret_file", "missing; [web] public_url prints a code for each ticket's "
               "page, made with the hall secret: expected its path (hallq secret new FILE)")
    config = HallConfig(path=path, hall=hall, calling=calling, services=services,
                        windows=windows, devices=devices, limits=limits, personal=personal,
                        rating=rating, central=central, booking=booking, web=web, sms=sms,
                        staff=_parse_staff(c, c.get(raw, "", "staff", dict, {}) or {}))
    for d in devices.values():
        check = (checks or {}).get(d.role)
        if check is not None and d.id in sound:
            try:
                check(config, d)
            except ConfigError as e:
                c.problems.extend(e.problems)
    if c.problems:
        raise ConfigError(path, c.problems)
    return config


def load_config(path: str | os.PathLike, device: str | None = None,
                strict: bool = False,
                checks: Mapping[str, OptionsParser] | None = None) -> HallConfig:
    """Load and validate a hall config file (for one device, strictly, with the programs'
    checks: see parse_config)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(str(p), [f"cannot read the file: {e.strerror}"]) from e
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(p), [f"not valid TOML: {e}"]) from e
    return parse_config(raw, str(p), p.parent, device, strict, checks)


def default_config_path() -> Path:
    """The demo hall shipped with hallq (config/hall.toml, installed as package data)."""
    return Path(str(files("caller.core.defaults") / "hall.toml"))
