"""Event names, alert kinds and role names are spelled once, in caller/core/protocol.py.

Everywhere else they are `Event.X`, `AlertKind.X` and `Role.X`. The scan reads the sources
with `ast` (docstrings and comments are free to mention a name). A few names also mean
something else in the protocol -- `window_paused` is an error code too, `alert` a command
argument and reply field, `bad_rating` the key of a sentence -- so those are only flagged
where they stand for an event or an alert kind: compared, emitted, or given as `event`/`kind`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

from caller.core.protocol import ERROR_CODES, SCHEMAS, AlertKind, Event, Role
from display.wall.model import WallModel

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("caller", "kiosk", "display", "drivers", "hallq")
PROTOCOL = ROOT / "caller" / "core" / "protocol.py"

NAMES = {e.value: f"Event.{e.name}" for e in Event} | {k.value: f"AlertKind.{k.name}" for k in AlertKind}
with (ROOT / "caller" / "locale" / "zh_CN" / "LC_MESSAGES" / "hallq.po").open("rb") as po:
    HUB_SENTENCES = {m.id.removeprefix("hub.") for m in read_po(po) if m.id.startswith("hub.")}
SHARED = {name for name in NAMES
          if name in ERROR_CODES or name in HUB_SENTENCES or any(name in args for args in SCHEMAS.values())}
ROLES = {r.value: f"Role.{r.name}" for r in Role}
QUOTED = re.compile("'({})'".format("|".join(sorted(NAMES))))  # inside SQL


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def strings(node: ast.AST | None) -> list[ast.Constant]:
    """The string literal `node` is, or the ones in the tuple/list/set it is."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [n for n in items if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def is_role(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "role") or (
        isinstance(node, ast.Attribute) and node.attr == "role")


def event_places(tree: ast.AST) -> tuple[set[int], set[int]]:
    """Literals that stand for an event or alert kind, and literals compared with a role."""
    events: set[int] = set()
    roles: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            literals = {id(c) for side in sides for c in strings(side)}
            events |= literals
            if any(is_role(side) for side in sides):
                roles |= literals
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "_emit" and node.args:
                events |= {id(c) for c in strings(node.args[0])}
            events |= {id(c) for k in node.keywords if k.arg in ("event", "kind") for c in strings(k.value)}
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ("event", "kind"):
                    events |= {id(c) for c in strings(value)}
    return events, roles


def bare_names(source: str) -> list[str]:
    """Each place in `source` that spells a protocol name instead of using its constant."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    events, roles = event_places(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
            continue
        value, where = node.value, (node.lineno, node.col_offset)
        if value in NAMES and (value not in SHARED or id(node) in events):
            found.append((where, f"{value!r} -> {NAMES[value]}"))
        elif value in ROLES and id(node) in roles:
            found.append((where, f"{value!r} -> {ROLES[value]}"))
        else:
            found += [(where, f"'{m}' in a string -> pass {NAMES[m]} as a parameter")
                      for m in QUOTED.findall(value)]
    return [f"{line}: {message}" for (line, _), message in sorted(found)]


def test_no_module_spells_a_protocol_name() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path != PROTOCOL:
                rel = path.relative_to(ROOT)
                found += [f"{rel}:{hit}" for hit in bare_names(path.read_text(encoding="utf-8"))]
    assert found == [], "use the constants of caller/core/protocol.py:\n" + "\n".join(found)


def test_the_scan_flags_what_it_should_and_nothing_else() -> None:
    source = '''
"""A docstring may say ticket_called and "ticket_called"."""
KNOWN = ("ticket_held", "queue_changed")
def f(event, device, say, engine):
    if event["event"] == "ticket_called" or event["event"] in ("window_paused", "x"):
        pass
    engine._emit("alert", kind="printer_ok")
    engine.report({"event": "window_paused", "kind": "bad_rating"})
    if device.role != "admin":
        pass
    mode = "display"
    engine.refuse("window_paused")
    reply = {"alert": 3}
    say("bad_rating")
    return event.get("alert"), "SELECT body FROM events WHERE name = 'ticket_transferred'"
'''
    assert bare_names(source) == [
        "3: 'ticket_held' -> Event.TICKET_HELD",
        "3: 'queue_changed' -> Event.QUEUE_CHANGED",
        "5: 'ticket_called' -> Event.TICKET_CALLED",
        "5: 'window_paused' -> Event.WINDOW_PAUSED",
        "7: 'alert' -> Event.ALERT",
        "7: 'printer_ok' -> AlertKind.PRINTER_OK",
        "8: 'window_paused' -> Event.WINDOW_PAUSED",
        "8: 'bad_rating' -> AlertKind.BAD_RATING",
        "9: 'admin' -> Role.ADMIN",
        "15: 'ticket_transferred' in a string -> pass Event.TICKET_TRANSFERRED as a parameter",
    ]
    assert {"window_paused", "alert", "bad_rating", "clock_step", "ship_backlog", "ship_caught_up"} == SHARED


def test_the_members_are_the_wire_names() -> None:
    assert Event.TICKET_CALLED == "ticket_called" and f"{Event.TICKET_CALLED}" == "ticket_called"
    assert {"ticket_called": 1}.get(Event.TICKET_CALLED) == 1  # hashes as the wire string
    assert len(set(NAMES)) == len(Event) + len(AlertKind)
    assert set(ROLES) == {"kiosk", "terminal", "counter", "evaluator", "display", "led", "admin", "web",
                          "shipper"}


def test_every_event_is_in_the_reference_and_the_reference_has_no_other() -> None:
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("\n## Events\n", 1)[1].split("\n## ", 1)[0]
    table = section.split("\n| event | payload |", 1)[1]  # not the who-sees-what table
    documented = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
    assert documented == {e.value for e in Event}


def test_every_wall_handler_is_for_a_real_event() -> None:
    handlers = {name.removeprefix("_on_") for name in vars(WallModel) if name.startswith("_on_")}
    assert len(handlers) > 10
    assert handlers - {e.value for e in Event} == set()
