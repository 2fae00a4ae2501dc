"""The end of `hallq demo --headless`: the manager's report of the hour, and checks that
what a person would look at agrees — printed tickets, voice, TV wall and LED strips
against the hub's database."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from caller.core.config import HallConfig
from caller.core.protocol import Event, Role
from caller.manager.booking_stats import BOOKING_COLUMNS, booking_totals
from caller.manager.record import load_record, save_record
from caller.manager.report import write_charts, write_xlsx
from caller.manager.stats import compute_report, open_readonly
from display.led.rules import DEFAULT_IDLE_TEXT, STRINGS
from drivers.fonts import find_cjk_font

TICKET_FILE = re.compile(r"^\d+-([A-Z]{1,2}\d+)\.png$")
VOICE_FILE = re.compile(r"^\d+-([A-Z]{1,2}\d+)-\d+\.wav$")


def _numbers(folder: Path, pattern: re.Pattern) -> set[str]:
    return {m.group(1) for f in folder.glob("*") if (m := pattern.match(f.name))}


def expected_strip(window: dict, idle_text: str) -> set[str]:
    """What the strip over a window may show for the window's final state."""
    texts = STRINGS["zh"]
    if window["current_number"]:
        return {texts["call"].format(number=window["current_number"])}
    if window["staff"] is None:
        return {texts["closed"]}
    if window["paused"]:
        return {texts["paused"]}
    return {idle_text, texts["staff"].format(staff=window["staff"])}


def check(name: str, ok: bool, detail: str) -> dict:
    return {"check": name, "ok": ok, "detail": detail}


def write_summary(config: HallConfig, out: Path, strips: dict[int, str],
                  restarts: dict[str, int], report: Callable[[str], None],
                  more_checks: list[dict] | None = None,
                  bookings: dict[str, int] | None = None) -> int:
    """Check what the demo left, write the report and the summary; 0 when every check
    passed. `more_checks`: those made while the hall ran (the kiosk scripts, the centre
    against the hall with `--central`); `bookings`: what the report must count of
    appointments and remote tickets."""
    conn = open_readonly(out / "hall.db")
    tickets = conn.execute("SELECT number, day, first_called_at, source FROM tickets").fetchall()
    windows = [dict(zip(("id", "staff", "paused", "current_number"), row, strict=True))
               for row in conn.execute(
                   "SELECT w.id, w.staff, w.paused, t.number FROM windows w "
                   "LEFT JOIN tickets t ON t.id = w.current")]
    newest = conn.execute(f"SELECT body FROM events WHERE name = '{Event.TICKET_CALLED}' "
                          "ORDER BY seq DESC LIMIT 1").fetchone()  # written out, for its index
    day = date.fromisoformat(tickets[0][1]) if tickets else date.today()
    figures = compute_report(conn, day, day, config=config)
    ratings = load_record(conn, day, day, config)
    conn.close()

    numbers = {t[0] for t in tickets}
    issued = {t[0] for t in tickets if t[3] in (None, "kiosk")}  # taken at the kiosk's screen
    called = {t[0] for t in tickets if t[2]}
    printed = _numbers(out / "tickets", TICKET_FILE)
    spoken = _numbers(out / "voice", VOICE_FILE)
    led = next(d for d in config.devices.values() if d.role == Role.LED)
    idle = led.options.get("idle_text", DEFAULT_IDLE_TEXT)
    wrong_strips = [f"{w['id']}号窗口: {strips.get(led.options['strips'][w['id']])!r}"
                    for w in windows if w["id"] in led.options["strips"]
                    and strips.get(led.options["strips"][w["id"]]) not in expected_strip(w, idle)]
    wall_record = out / "wall" / "record.json"
    wall_shots = json.loads(wall_record.read_text(encoding="utf-8"))["shots"] \
        if wall_record.exists() else {}
    wall_texts = wall_shots.get("wall-final", {}).get("texts", [])
    newest_number = json.loads(newest[0])["ticket"]["number"] if newest else None
    checks = [
        # (appointments checked in at the kiosk's screen print too; remote tickets and the
        # demo hour's scripted check-ins print nowhere)
        check("every ticket taken at the kiosk was printed", issued <= printed <= numbers,
              f"{len(issued)} issued, {len(printed)} printed"
              + (f"; not printed: {sorted(issued - printed)[:10]}" if issued - printed else "")
              + (f"; never issued: {sorted(printed - numbers)[:10]}" if printed - numbers else "")),
        check("every called ticket was announced", called <= spoken,
              f"{len(called)} called, {len(spoken)} announced"
              + (f"; silent: {sorted(called - spoken)[:10]}" if called - spoken else "")),
        check("the TV wall shows the newest call",
              newest_number is not None and any(newest_number in t for t in wall_texts),
              f"newest call {newest_number}"),
        check("every LED strip matches its window", not wrong_strips,
              "; ".join(wrong_strips) or f"{len(strips)} strips"),
        check("every rating is in the rating record",
              len(ratings) == figures.summary["rated"] + figures.summary["defaulted"],
              f"{len(ratings)} rows, {figures.summary['rated']} rated"),
        check("no program crashed", not restarts,
              ", ".join(f"{k} restarted {v}x" for k, v in restarts.items()) or "none"),
        *(more_checks or []),
    ]
    booked = booking_totals(figures.bookings)
    if bookings is not None:
        checks.append(check("the report counts every booking, check-in, no-show and remote ticket",
                            booked == bookings, booking_line(booked)
                            + ("" if booked == bookings else f"; expected {booking_line(bookings)}")))
    write_xlsx(figures, out / "report.xlsx")
    save_record(ratings, out / "rating-record.csv")
    charts = write_charts(figures, out / "charts", find_cjk_font(config.hall.font))
    summary = {"hall": config.hall.name, "day": day.isoformat(), "checks": checks,
               "figures": figures.summary, "kiosk_issued": len(issued), "bookings": booked,
               "windows": figures.groups["window"],
               "ranking": figures.ranking}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1),
                                      encoding="utf-8")
    (out / "summary.md").write_text(summary_markdown(summary, out, charts), encoding="utf-8")
    for c in checks:
        report(f"  [{'ok' if c['ok'] else 'FAILED'}] {c['check']}: {c['detail']}")
    report(f"hallq demo: summary in {out / 'summary.md'}")
    return 0 if all(c["ok"] for c in checks) else 1


def booking_line(counts: dict[str, int]) -> str:
    return (f"{counts['booked']} booked, {counts['checked_in']} checked in "
            f"({counts['late']} late), {counts['no_show']} no-show, "
            f"{counts['cancelled']} cancelled, {counts['remote']} remote tickets")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _mins(value: float | None) -> str:
    return "-" if value is None else f"{value / 60:.1f} min"


def summary_markdown(summary: dict, out: Path, charts: list[Path]) -> str:
    f = summary["figures"]
    lines = [f"# {summary['hall']} — demo hour, {summary['day']}", "",
             "| figure | value |", "|---|---|",
             f"| tickets issued | {f['issued']} |", f"| served | {f['served']} |",
             f"| passed (no show) | {f['passed']} |", f"| transferred | {f['transferred']} |",
             f"| average wait | {_mins(f['wait_avg_s'])} |",
             f"| average service | {_mins(f['service_avg_s'])} |",
             f"| rated / rating rate | {f['rated']} / {_pct(f['rating_rate'])} |",
             f"| satisfaction rate | {_pct(f['satisfaction_rate'])} |",
             f"| bad ratings | {f['bad_ratings']} |", "",
             "## Appointments and remote tickets", "", "| figure | value |", "|---|---|",
             *(f"| {name} | {summary['bookings'][k]} |" for k, name in BOOKING_COLUMNS.items()), "",
             "## Windows", "", "| window | served | average wait | satisfaction |",
             "|---|---|---|---|"]
    for row in summary["windows"]:
        if row.get("key"):
            lines.append(f"| {row.get('name') or row['key']} | {row['served']} | "
                         f"{_mins(row['wait_avg_s'])} | {_pct(row['satisfaction_rate'])} |")
    lines += ["", "## Checks", ""]
    lines += [f"- {'✅' if c['ok'] else '❌'} {c['check']}: {c['detail']}" for c in summary["checks"]]
    lines += ["", "## Files", "",
              "- `tickets/`: each printed ticket as the printer's ESC/POS bytes and a PNG",
              "- `wall/`: TV wall screenshots; `voice/`: every announcement as a WAV",
              "- `led/`: the LED strip over each window; `kiosk/`, `terminals/`: screenshots",
              "- `report.xlsx` and " + ", ".join(f"`charts/{c.name}`" for c in charts),
              "- `hall.db`: the hub's database; `logs/`: every program's log"]
    return "\n".join(lines) + "\n"
