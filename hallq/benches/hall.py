"""The benchmark's generated hall and its big stores, written straight into SQLite."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from caller.core.protocol import Event
from caller.hub.engine import TICKET_FIELDS
from caller.hub.store import Store

SERVICES = 30
WINDOWS = 200
KIOSKS = 20
DISPLAYS = 100  # TV walls; the call figures use the first 50
TOKEN = "bench"


def prefix(i: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[i] if i < 26 else "Z" + letters[i - 26]


def generated_hall() -> str:
    """TOML for a big hall: open all day, no caps, a terminal at every window."""
    parts = ['[hall]\nname = "基准测试大厅"\ndemo = true\n',  # one shared token, loopback
             # a bench kiosk issues in a closed loop, far faster than a citizen taps
             '[limits]\nkiosk = { per_s = 5000, burst = 5000 }\n'
             '"kiosk.issue_ticket" = { per_s = 5000, burst = 5000 }\n']
    for i in range(SERVICES):
        parts.append(f'[[services]]\nid = "s{i:02d}"\nname = "业务{i:02d}"\nprefix = "{prefix(i)}"\n'
                     'numbers = [1, 9999]\nmaterials = ["身份证"]\n')
    for w in range(1, WINDOWS + 1):
        served = {f"s{(w + k) % SERVICES:02d}": 2 - k for k in range(3)}
        weights = ", ".join(f"{s} = {v}" for s, v in served.items())
        parts.append(f'[[windows]]\nid = "{w}"\nname = "{w}号窗口"\nservices = {{ {weights} }}\n')
    for k in range(KIOSKS):
        parts.append(f'[[devices]]\nid = "kiosk-{k}"\nrole = "kiosk"\ntoken = "{TOKEN}"\n')
    for d in range(DISPLAYS):
        parts.append(f'[[devices]]\nid = "wall-{d}"\nrole = "display"\ntoken = "{TOKEN}"\n')
    for w in range(1, WINDOWS + 1):
        parts.append(f'[[devices]]\nid = "term-{w}"\nrole = "terminal"\ntoken = "{TOKEN}"\n'
                     f'windows = ["{w}"]\n')
    parts.append(f'[[devices]]\nid = "admin"\nrole = "admin"\ntoken = "{TOKEN}"\n')
    return "\n".join(parts)


def hall_devices() -> list[str]:
    """Every device of the generated hall but the admin, roles interleaved, so that the
    first n of them are a fair sample of a hall's devices."""
    groups = [[f"term-{w}" for w in range(1, WINDOWS + 1)], [f"wall-{d}" for d in range(DISPLAYS)],
              [f"kiosk-{k}" for k in range(KIOSKS)]]
    # each device placed at its fraction of its group, then all sorted by that place
    placed = [((i + 0.5) / len(g), n, d) for n, g in enumerate(groups) for i, d in enumerate(g)]
    return [d for _, _, d in sorted(placed)]


def fill_store(db: Path, tickets: int) -> None:
    """A store holding `tickets` finished tickets of past days, written directly."""
    Store(db).close()  # the schema
    conn = sqlite3.connect(db)
    now = datetime.now(UTC).isoformat()
    rows = ((i, f"{prefix(i % SERVICES)}{i % 9999 + 1:04d}", f"s{i % SERVICES:02d}",
             f"2025-{i % 12 + 1:02d}-{i % 28 + 1:02d}", now, float(i), 0, "zh", "done",
             str(i % WINDOWS + 1), None, 0, now, now, None, now, None, 300.0, 0.0, 0, 0, 0, 0,
             "1001", "satisfied", "rated", now) for i in range(1, tickets + 1))
    # the columns a walk-in finished ticket has; the rest (holder, case number…) stay NULL
    filled = TICKET_FIELDS[:TICKET_FIELDS.index("rated_at") + 1]
    columns = ", ".join(f'"{f}"' for f in filled)
    conn.executemany(f"INSERT INTO tickets ({columns}) VALUES ({', '.join('?' * len(filled))})",
                     rows)
    meta = {"day": "2025-12-31", "next_ticket_id": tickets + 1, "next_order": tickets + 1.0}
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                     [(k, json.dumps(v)) for k, v in meta.items()])
    conn.commit()
    conn.close()


def fill_events(db: Path, events: int) -> None:
    """Append `events` past events to the store's log: the pairs a hub writes for each
    ticket it issues (`ticket_issued`, then `queue_changed` with every service's count)."""
    Store(db).close()
    conn = sqlite3.connect(db)
    first = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM events").fetchone()[0]
    at = "2025-12-31T09:00:00.000+08:00"
    waiting = {f"s{i:02d}": i % 7 for i in range(SERVICES)}

    def body(seq: int) -> tuple[int, str, str, str]:
        n = seq // 2
        if seq % 2:
            event = {"event": Event.QUEUE_CHANGED, "waiting": waiting, "directed": {}}
        else:
            service = n % SERVICES
            event = {"event": Event.TICKET_ISSUED, "ahead": n % 40, "ticket": {
                "id": n, "number": f"{prefix(service)}{n % 9999 + 1:04d}",
                "service": f"s{service:02d}", "service_name": f"业务{service:02d}",
                "priority": "normal", "state": "waiting", "window": None, "target_window": None,
                "transferred": False, "issued_at": at, "called_at": None, "finished_at": None,
                "recalls": 0}}
        message = {"type": "event", "seq": seq, "at": at, **event}
        return seq, at, event["event"], json.dumps(message, ensure_ascii=False,
                                                    separators=(",", ":"))

    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                     (body(s) for s in range(first, first + events)))
    conn.commit()
    conn.close()
