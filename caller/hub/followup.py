"""The manager's side of a bad rating: alerts to acknowledge and follow-up cases.

Every 不满意/非常不满意 opens a case with a deadline in working days; the case
records the call-back (回访), the cause and fix (整改), and closes with an outcome.
Pure state like the engine: the engine calls these methods inside `handle`, and
the store writes the changed rows. Open cases and unacknowledged alerts stay in
memory; the rest live only in the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from caller.core.errors import Refused

CASE_STATES = ("open", "called_back", "rectified", "closed")


@dataclass
class Alert:
    id: int
    kind: str
    at: datetime
    message: str
    window: str | None = None
    ticket_number: str | None = None
    device: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    part: str | None = None  # which part of the device: "idcard", "scanner", "line", "view 3"


@dataclass
class Case:
    id: int
    ticket_id: int
    number: str
    service: str
    window: str
    staff: str | None
    level: str
    opened_at: datetime
    deadline: str  # ISO date: the last working day to close it
    state: str = "open"
    called_back_at: datetime | None = None
    called_back_by: str | None = None
    callback_note: str = ""
    cause: str = ""
    fix: str = ""
    rectified_at: datetime | None = None
    rectified_by: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    outcome: str = ""
    reasons: str = ""  # what the citizen named, "、"-separated (a screen evaluator)
    comment: str = ""  # the citizen's own words (文字评价)


CASE_FIELDS = tuple(f.name for f in fields(Case))
ALERT_FIELDS = tuple(f.name for f in fields(Alert))


def _plain(obj: Any) -> dict:
    return {k: v.isoformat(timespec="seconds") if isinstance(v, datetime) else v
            for k, v in asdict(obj).items()}


class FollowUp:
    def __init__(self) -> None:
        self.alerts: dict[int, Alert] = {}  # unacknowledged
        self.cases: dict[int, Case] = {}  # not closed
        self.next_alert_id = 1
        self.next_case_id = 1
        self._dirty_alerts: dict[int, Alert] = {}
        self._dirty_cases: dict[int, Case] = {}

    def restore(self, alerts: list[Alert], cases: list[Case], next_alert_id: int,
                next_case_id: int) -> None:
        self.alerts = {a.id: a for a in alerts}
        self.cases = {c.id: c for c in cases}
        self.next_alert_id = next_alert_id
        self.next_case_id = next_case_id

    def take_changes(self) -> tuple[list[Alert], list[Case]]:
        alerts, cases = list(self._dirty_alerts.values()), list(self._dirty_cases.values())
        self._dirty_alerts.clear()
        self._dirty_cases.clear()
        return alerts, cases

    # ------------------------------------------------------------------ alerts

    def raise_alert(self, kind: str, at: datetime, message: str, **where: Any) -> Alert:
        alert = Alert(self.next_alert_id, kind, at, message, **where)
        self.next_alert_id += 1
        self.alerts[alert.id] = alert
        self._dirty_alerts[alert.id] = alert
        return alert

    def acknowledge(self, alert_id: int, by: str, at: datetime) -> Alert:
        alert = self.alerts.pop(alert_id, None)
        if alert is None:
            raise Refused("unknown_alert", str(alert_id))
        alert.acknowledged_at, alert.acknowledged_by = at, by
        self._dirty_alerts[alert.id] = alert
        return alert

    # ------------------------------------------------------------------ cases

    def open_case(self, *, ticket_id: int, number: str, service: str, window: str,
                  staff: str | None, level: str, at: datetime, deadline: date) -> Case:
        case = Case(self.next_case_id, ticket_id, number, service, window, staff, level, at,
                    deadline.isoformat())
        self.next_case_id += 1
        self.cases[case.id] = case
        self._dirty_cases[case.id] = case
        return case

    def add_reasons(self, ticket_id: int, reasons: str, comment: str) -> Case | None:
        """The reasons of the bad rating that opened a case, when that case is still open."""
        case = next((c for c in self.cases.values() if c.ticket_id == ticket_id), None)
        if case is not None:
            case.reasons, case.comment = reasons, comment
            self._dirty_cases[case.id] = case
        return case

    def _case(self, case_id: Any) -> Case:
        case = self.cases.get(case_id) if isinstance(case_id, int) else None
        if case is None:
            raise Refused("unknown_case", str(case_id))
        return case

    def call_back(self, case_id: Any, by: str, note: str, at: datetime) -> Case:
        case = self._case(case_id)
        case.called_back_at, case.called_back_by, case.callback_note = at, by, note
        if case.state == "open":
            case.state = "called_back"
        self._dirty_cases[case.id] = case
        return case

    def rectify(self, case_id: Any, by: str, cause: str, fix: str, at: datetime) -> Case:
        case = self._case(case_id)
        case.cause, case.fix, case.rectified_at, case.rectified_by = cause, fix, at, by
        case.state = "rectified"
        self._dirty_cases[case.id] = case
        return case

    def close(self, case_id: Any, by: str, outcome: str, at: datetime) -> Case:
        case = self._case(case_id)
        if case.called_back_at is None:
            raise Refused("case_not_called_back")
        case.closed_at, case.closed_by, case.outcome, case.state = at, by, outcome, "closed"
        del self.cases[case.id]
        self._dirty_cases[case.id] = case
        return case

    # ------------------------------------------------------------------ views

    @staticmethod
    def case_view(case: Case, today: date) -> dict:
        view = _plain(case)
        view["overdue"] = case.state != "closed" and today.isoformat() > case.deadline
        return view

    @staticmethod
    def alert_view(alert: Alert) -> dict:
        return _plain(alert)

    def dump(self) -> dict:
        return {"alerts": {i: _plain(a) for i, a in sorted(self.alerts.items())},
                "cases": {i: _plain(c) for i, c in sorted(self.cases.items())},
                "next": (self.next_alert_id, self.next_case_id)}
