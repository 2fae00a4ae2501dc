"""Appeals of a bad rating (申诉复核): a member of staff says the rating was not theirs to
answer for, with a reason; a manager upholds or rejects the appeal.

An upheld appeal takes the rating out of the staff member's figures (and the window
ranking); the rating itself stays in the record, marked (`caller.manager.record`). Pure
state like `caller.hub.followup`: pending appeals stay in memory, decided ones only in
the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from caller.core.errors import Refused

APPEAL_STATES = ("pending", "upheld", "rejected")
DECISIONS = {"uphold": "upheld", "reject": "rejected"}


@dataclass
class Appeal:
    id: int
    ticket_id: int
    number: str
    service: str
    window: str | None
    staff: str | None
    level: str
    day: str  # the ticket's business day
    filed_at: datetime
    filed_by: str  # the console account
    reason: str
    state: str = "pending"
    decided_at: datetime | None = None
    decided_by: str | None = None
    note: str = ""


APPEAL_FIELDS = tuple(f.name for f in fields(Appeal))


def _plain(appeal: Appeal) -> dict[str, Any]:
    return {k: v.isoformat(timespec="seconds") if isinstance(v, datetime) else v
            for k, v in asdict(appeal).items()}


class Appeals:
    def __init__(self) -> None:
        self.pending: dict[int, Appeal] = {}
        self.next_id = 1
        self._dirty: dict[int, Appeal] = {}

    def restore(self, pending: list[Appeal], next_id: int) -> None:
        self.pending = {a.id: a for a in pending}
        self.next_id = next_id

    def take_changes(self) -> list[Appeal]:
        changed = list(self._dirty.values())
        self._dirty.clear()
        return changed

    def file(self, *, ticket_id: int, number: str, service: str, window: str | None,
             staff: str | None, level: str, day: str, at: datetime, by: str,
             reason: str) -> Appeal:
        appeal = Appeal(self.next_id, ticket_id, number, service, window, staff, level, day,
                        at, by, reason)
        self.next_id += 1
        self.pending[appeal.id] = appeal
        self._dirty[appeal.id] = appeal
        return appeal

    def decide(self, appeal_id: int, by: str, decision: str, note: str, at: datetime) -> Appeal:
        if decision not in DECISIONS:
            raise Refused("bad_request", f"decision 只能是 {'、'.join(DECISIONS)}")
        appeal = self.pending.pop(appeal_id, None)
        if appeal is None:
            raise Refused("unknown_appeal", str(appeal_id))
        appeal.state, appeal.decided_at, appeal.decided_by = DECISIONS[decision], at, by
        appeal.note = note
        self._dirty[appeal.id] = appeal
        return appeal

    def ticket_of(self, appeal_id: Any) -> int | None:
        appeal = self.pending.get(appeal_id) if isinstance(appeal_id, int) else None
        return appeal.ticket_id if appeal else None

    @staticmethod
    def view(appeal: Appeal) -> dict[str, Any]:
        return _plain(appeal)

    def dump(self) -> dict[str, Any]:
        return {"pending": {i: _plain(a) for i, a in sorted(self.pending.items())},
                "next": self.next_id}
