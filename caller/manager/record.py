"""The rating record (好差评评价数据) the province takes: one row per rating, with the data
items of the national evaluation data (GB/T 39046-2020, evaluation data), as CSV, xlsx or
JSON lines. docs/statistics.md gives every field with its source.

Read from the hub's database (read only). A citizen's rating and a default filled in by
the hall's no-rating policy are both rows; 评价类型 tells them apart. A rating whose
appeal was upheld stays in the record, marked in 申诉状态.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from caller.core.config import HallConfig, RatingPolicy
from caller.core.errors import HallqError
from caller.core.messages import LEVEL_NAMES
from caller.manager.report import write_table_xlsx
from caller.manager.stats import ticket_columns

ANONYMOUS = "匿名"
TIME_FORMAT = "%Y%m%dT%H%M%S"  # GB/T 7408 basic format, hall time
KINDS = {"rated": "主动评价", "default": "默认评价"}
APPEAL_NAMES = {None: "", "pending": "申诉中", "upheld": "申诉成立", "rejected": "申诉驳回"}
REASON_SEPARATOR = "；"
FORMATS = ("csv", "xlsx", "jsonl")

# (JSON key, column title): the order of the CSV and xlsx columns
FIELDS = (
    ("case_no", "办件编号"),
    ("item_code", "事项编码"),
    ("item_name", "事项名称"),
    ("region_code", "行政区划代码"),
    ("channel", "评价渠道"),
    ("channel_code", "评价渠道代码"),
    ("rater", "评价人"),
    ("rated_at", "评价时间"),
    ("count", "评价次数"),
    ("level", "满意度"),
    ("level_code", "满意度代码"),
    ("kind", "评价类型"),
    ("reasons", "差评原因"),
    ("text", "文字评价"),
    ("staff", "工作人员"),
    ("staff_no", "工号"),
    ("window", "评价窗口"),
    ("number", "排队号"),
    ("appeal", "申诉状态"),
)
HEADERS = tuple(title for _, title in FIELDS)
_CELLS = attrgetter(*(key for key, _ in FIELDS))
_REASONS = [key for key, _ in FIELDS].index("reasons")  # the only field that is a tuple
# columns of the screen evaluator's reasons and text (the staff roster's migration);
# read only where the database has them
OPTIONAL_COLUMNS = ("rating_reasons", "rating_text")


class RecordError(HallqError, ValueError):
    """An export the record cannot write (an unknown format)."""


@dataclass(frozen=True)
class RecordRow:
    case_no: str
    item_code: str
    item_name: str
    region_code: str
    channel: str
    channel_code: str
    rater: str
    rated_at: str
    count: int
    level: str
    level_code: int
    kind: str
    reasons: tuple[str, ...]
    text: str
    staff: str
    staff_no: str
    window: str
    number: str
    appeal: str

    def as_json(self) -> dict[str, Any]:
        return {key: list(v) if isinstance(v := getattr(self, key), tuple) else v
                for key, _ in FIELDS}

    def as_cells(self) -> list[Any]:
        cells = list(_CELLS(self))  # one C call: a region's record has a million rows
        cells[_REASONS] = REASON_SEPARATOR.join(self.reasons)
        return cells


def _reasons(raw: str | None) -> tuple[str, ...]:
    """The stored JSON array of reasons; anything else (absent, damaged) is none."""
    try:
        value = json.loads(raw) if raw else []
    except ValueError:
        return ()
    return tuple(str(r) for r in value) if isinstance(value, list) else ()


def staff_label(staff: str | None, names: dict[str, str] | None = None) -> str:
    """How the record names a member of staff: the name the hall's roster gives the 工号,
    else the 工号."""
    return (names or {}).get(staff or "", staff or "")


def roster_names(conn: sqlite3.Connection) -> dict[str, str]:
    """工号 -> name from the hall's staff roster (none in a database from before it)."""
    try:
        return dict(conn.execute("SELECT staff_no, name FROM staff").fetchall())
    except sqlite3.OperationalError:
        return {}


@dataclass(frozen=True)
class HallRecord:
    """What the record reads of a hall besides its tickets: its config's region, rating
    policy, service items and window names, and its staff roster's names. The centre
    keeps the same for each hall (caller/central), so a region's record reads the same."""

    region_code: str
    policy: RatingPolicy
    items: dict[str, tuple[str, str]]  # service id -> (事项编码, 事项名称)
    windows: dict[str, str]  # window id -> name
    staff_names: dict[str, str]  # 工号 -> name

    @classmethod
    def of(cls, config: HallConfig, staff_names: dict[str, str]) -> HallRecord:
        return cls(config.hall.region_code, config.rating,
                   {s.id: (s.item_code, s.item_name or s.name) for s in config.services.values()},
                   {w.id: w.name for w in config.windows.values()}, staff_names)


class Rows:
    """The record's rows, oldest first, made from the stored values of the ratings — by
    the hall's own export and by the centre's export of a region, which must agree."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()  # ratings per 办件编号 so far
        self.rows: list[RecordRow] = []

    def add(self, hall: HallRecord, *, case_no: str | None, service: str, holder: str | None,
            rated_at: str, level: str, status: str, reasons: str | None, text: str | None,
            staff: str | None, window: str | None, number: str, appeal: str | None) -> None:
        """One rating: `rated_at` already formatted in hall time, `reasons` the stored JSON
        array, `window` the window's id."""
        if case_no:
            self.seen[case_no] += 1
        policy = hall.policy
        item_code, item_name = hall.items.get(service, ("", service))
        self.rows.append(RecordRow(
            case_no=case_no or "", item_code=item_code, item_name=item_name,
            region_code=hall.region_code, channel=policy.channel_name,
            channel_code=policy.channel_code, rater=holder or ANONYMOUS, rated_at=rated_at,
            count=self.seen[case_no] if case_no else 1,
            level=LEVEL_NAMES[level], level_code=policy.level_code(level),
            kind=KINDS[status], reasons=_reasons(reasons), text=text or "",
            staff=staff_label(staff, hall.staff_names), staff_no=staff or "",
            window=hall.windows.get(window, window) if window else "", number=number,
            appeal=APPEAL_NAMES.get(appeal, appeal or "")))


def load_record(conn: sqlite3.Connection, first: date, last: date,
                config: HallConfig) -> list[RecordRow]:
    """Every rating (a citizen's or a default) of the tickets of business days [first,
    last], oldest first."""
    present = ticket_columns(conn)
    extra = [c if c in present else f"NULL AS {c}" for c in (*OPTIONAL_COLUMNS, "case_no", "appeal")]
    rows = conn.execute(
        "SELECT number, service, window, staff, rating, rating_status, rated_at, holder_name, "
        f"{', '.join(extra)} FROM tickets WHERE day BETWEEN ? AND ? "
        "AND rating_status IN ('rated', 'default') AND rating IS NOT NULL "
        "ORDER BY rated_at, id", (first.isoformat(), last.isoformat()))
    tz = config.hall.tz
    hall, out = HallRecord.of(config, roster_names(conn)), Rows()
    for (number, sid, window, staff, level, status, rated_at, holder, reasons, text, case_no,
         appeal) in rows:
        out.add(hall, case_no=case_no, service=sid, holder=holder,
                rated_at=datetime.fromisoformat(rated_at).astimezone(tz).strftime(TIME_FORMAT),
                level=level, status=status, reasons=reasons, text=text, staff=staff,
                window=window, number=number, appeal=appeal)
    return out.rows


def write_record(rows: Sequence[RecordRow], out: IO[bytes], fmt: str) -> None:
    """The record as CSV (UTF-8 with BOM, so Excel reads the Chinese), xlsx or JSON lines."""
    if fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(HEADERS)
        writer.writerows(r.as_cells() for r in rows)
        out.write(text.getvalue().encode("utf-8-sig"))
    elif fmt == "jsonl":
        for r in rows:
            out.write(json.dumps(r.as_json(), ensure_ascii=False).encode() + b"\n")
    elif fmt == "xlsx":
        write_table_xlsx("好差评", HEADERS, [r.as_cells() for r in rows], out)
    else:
        raise RecordError(f"the rating record is written as {', '.join(FORMATS)}, not {fmt!r}")


def format_of(path: Path) -> str:
    """The record's format from a file name (.csv, .xlsx, .jsonl); RecordError otherwise."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise RecordError(f"the rating record must end in .csv, .xlsx or .jsonl, got {path.name!r}")
    return fmt


def save_record(rows: Sequence[RecordRow], path: Path) -> None:
    fmt = format_of(path)
    with path.open("wb") as f:
        write_record(rows, f, fmt)
