"""Property tests: random streams of commands keep the engine's promises.

- a number is never issued twice for a service on a business day;
- every ticket is in exactly one place (one queue, one window, held, or finished);
- waiting counts equal what the snapshot lists;
- call_next picks what the rules pick (checked against a brute-force reference);
- the places the citizens' pages show (queue_status) are those counted one by one;
- the state rebuilt from the store equals the live state, and no ticket is lost.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caller.hub.engine import ACTIVE_STATES, Engine
from caller.hub.store import Store
from tests.caller.halls import Clock, config

CFG = config(
    calling={"skip": "requeue", "requeue_places": 2, "requeue_max": 1, "recall_limit": 2},
    services=[{"id": "a", "name": "甲", "prefix": "A"},
              {"id": "b", "name": "乙", "prefix": "B", "daily_cap": 6},
              {"id": "c", "name": "丙", "prefix": "C", "numbers": [1, 8]}],
    windows=[{"id": "1", "name": "1号窗口", "services": {"a": 2, "b": 1}, "backup": "2"},
             {"id": "2", "name": "2号窗口", "services": {"a": 1, "b": 2, "c": 0}, "backup": "1"},
             {"id": "3", "name": "3号窗口", "services": {"c": 1}}],
)
WINDOWS = list(CFG.windows)
SERVICES = list(CFG.services)
LEVELS = ["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]

# Kinds of step, repeated to weight them (sampled_from draws uniformly over the list).
KINDS = (["issue"] * 6 + ["call"] * 5 + ["finish"] * 3 + ["recall", "skip", "hold", "pause",
         "resume", "logout", "login", "start", "request_rating", "call_number",
         "to_service", "to_window", "call_held", "tick"] + ["rate"] * 2)
NUMBERS = ["A001", "A002", "A003", "B001", "B002", "C001"]
TICKS = [1, 5, 20, 600, 3600, 20 * 3600]


def build(kind: str, w: str, s: str, n: int) -> dict:
    if kind == "issue":
        return {"type": "issue_ticket", "service": s,
                "priority": "priority" if n == 0 else "normal"}
    if kind == "call":
        return {"type": "call_next", "window": w}
    if kind == "call_number":
        return {"type": "call_next", "window": w, "number": NUMBERS[n]}
    if kind == "to_service":
        return {"type": "transfer", "window": w, "to_service": s}
    if kind == "to_window":
        return {"type": "transfer", "window": w, "to_window": WINDOWS[n % len(WINDOWS)]}
    if kind == "call_held":
        return {"type": "call_held", "window": w, "ticket": NUMBERS[n]}
    if kind == "rate":
        return {"type": "rate", "window": w, "level": LEVELS[n % len(LEVELS)]}
    if kind == "login":
        return {"type": "login", "window": w, "staff": f"100{n % 3}"}
    if kind == "tick":
        return {"type": "tick", "advance": TICKS[n]}
    return {"type": kind, "window": w}


command = st.builds(build, st.sampled_from(KINDS), st.sampled_from(WINDOWS),
                    st.sampled_from(SERVICES), st.integers(0, 5))


def reference_pick(engine: Engine, wid: str):
    """Brute force over every ticket: the ticket the rules say window `wid` calls next."""
    cfg = engine.config
    away = {a for a, w in cfg.windows.items()
            if w.backup == wid and (engine.windows[a].staff is None or engine.windows[a].paused)}
    best = None
    for t in engine.tickets.values():
        if t.state != "waiting":
            continue
        if t.target_window is not None:
            if t.target_window != wid and t.target_window not in away:
                continue
            weight = 3
        elif t.service in cfg.windows[wid].services:
            weight = cfg.windows[wid].services[t.service]
        else:
            continue
        key = (-weight, not t.priority, not t.transferred, t.order)
        if best is None or key < best[0]:
            best = (key, t.number)
    return best[1] if best else None


def check_invariants(engine: Engine, now) -> None:
    places: dict[int, list[str]] = {}
    for sid, queue in engine._waiting.items():
        for tid, t in queue.items():
            assert t.service == sid and t.target_window is None and t.state == "waiting"
            places.setdefault(tid, []).append(f"queue {sid}")
    for wid, queue in engine._directed.items():
        for tid, t in queue.items():
            assert t.target_window == wid and t.state == "waiting"
            places.setdefault(tid, []).append(f"directed {wid}")
    for ws in engine.windows.values():
        if ws.current is not None:
            t = engine.tickets[ws.current]
            assert t.state == "called" and t.window == ws.id
            places.setdefault(t.id, []).append(f"window {ws.id}")
    for t in engine.tickets.values():
        where = places.get(t.id, [])
        if t.state in ("waiting", "called"):
            assert len(where) == 1, (t.number, t.state, where)
        else:
            assert where == [], (t.number, t.state, where)
    snap = engine.snapshot(now)
    for s in snap["services"]:
        listed = [t for t in engine.tickets.values()
                  if t.state == "waiting" and t.service == s["id"] and t.target_window is None]
        assert s["waiting"] == len(listed)
    for w in snap["windows"]:
        eligible = sum(1 for t in engine.tickets.values() if t.state == "waiting" and (
            (t.target_window is None and t.service in engine.config.windows[w["id"]].services)
            or (t.target_window is not None and (t.target_window == w["id"] or (
                engine.config.windows[t.target_window].backup == w["id"]
                and engine.window_state(t.target_window) in ("closed", "paused"))))))
        assert w["waiting"] == eligible
    # the citizens' pages: each waiting ticket's place, counted ticket by ticket
    def rank(t):
        return (not t.priority, not t.transferred, t.order)

    for entry in engine.queue_status()["tickets"]:
        t = engine.tickets[entry["id"]]
        if t.state != "waiting":
            assert entry["ahead"] is None
            continue
        mates = [o for o in engine.tickets.values() if o.state == "waiting"
                 and o.target_window == t.target_window
                 and (t.target_window is not None or o.service == t.service)]
        assert entry["ahead"] == sum(rank(o) < rank(t) for o in mates), t.number


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, min_size=20, max_size=90))
def test_random_command_streams_keep_the_invariants(tmp_path_factory, commands):
    clock = Clock()
    store = Store(tmp_path_factory.mktemp("db") / "hall.db", synchronous="OFF")
    engine = store.load_engine(CFG, clock.now)
    issued: dict[tuple[str, str], int] = {}  # (day, number) -> ticket id
    known_ids: set[int] = set()
    logins = [{"type": "login", "window": w, "staff": f"10{w}"} for w in WINDOWS]
    for cmd in logins + commands:
        if cmd["type"] == "tick":
            clock.advance(cmd["advance"])
            cmd = {"type": "tick"}
        expected = None
        if cmd["type"] == "call_next" and "number" not in cmd:
            ws = engine.windows[cmd["window"]]
            if ws.staff and not ws.paused:
                engine.tick(clock.now)  # timers first, as handle() does
                expected = reference_pick(engine, cmd["window"])
        reply, events = engine.handle(cmd, clock.now)
        if expected is not None:
            assert reply["ok"] == (expected is not None)
            assert reply["ticket"]["number"] == expected
        for e in events:
            if e["event"] == "ticket_issued":
                t = e["ticket"]
                key = (engine.meta.day, t["number"])
                assert key not in issued, f"{t['number']} issued twice on {key[0]}"
                issued[key] = t["id"]
                known_ids.add(t["id"])
        store.commit(engine.take_changes(), events, clock.now)
        check_invariants(engine, clock.now)
    rebuilt = store.load_engine(CFG, clock.now)
    assert rebuilt.dump() == engine.dump()
    check_invariants(rebuilt, clock.now)
    # no ticket is lost: every issued ticket is in the store, in exactly one state
    for tid in known_ids:
        t = store.ticket(tid)
        assert t is not None and t.state in (*ACTIVE_STATES, "done", "no_show", "cancelled")
    store.close()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=40),
       st.lists(st.sampled_from([0, 600, 7200, 86400]), min_size=1, max_size=5))
def test_numbers_never_repeat_within_a_business_day(services, gaps):
    engine = Engine(CFG, Clock().now)
    clock = Clock()
    seen: set[tuple[str, str]] = set()
    for i, sid in enumerate(services):
        if i % 8 == 0:
            clock.advance(gaps[(i // 8) % len(gaps)])
        reply, _ = engine.handle({"type": "issue_ticket", "service": sid}, clock.now)
        engine.take_changes()
        if reply["ok"]:
            key = (engine.meta.day, reply["ticket"]["number"])
            assert key not in seen
            seen.add(key)
        else:
            assert reply["error"]["code"] == "daily_limit_reached"


def test_a_full_day_later_everything_waiting_is_cancelled():
    clock = Clock()
    engine = Engine(CFG, clock.now)
    for sid in SERVICES:
        engine.handle({"type": "issue_ticket", "service": sid}, clock.now)
    engine.take_changes()
    engine.tick(clock.now + timedelta(days=1))
    engine.take_changes()
    assert all(n == 0 for n in engine.waiting_counts().values())
    assert engine.tickets == {}
