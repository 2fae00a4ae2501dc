"""The hall's staff roster (人员名册): 工号, name, title, star level (星级), the windows a
member may log in at, and a portrait for the screen evaluator.

Pure state like `caller.hub.appeals`: the engine holds every member in memory (a hall has
tens, not thousands) and hands the changed rows, and new portraits, to the store. A
portrait arrives as the base64 of a JPEG that `caller.core.portrait` made; the roster
checks it is one (`portrait.check`) and keeps only a short digest of it beside the member.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from caller.core import portrait
from caller.core.errors import Refused

STAFF_NO = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}")
STARS_MAX = 5
NAME_MAX = 30  # as the door allows a name (caller.core.validate)
TITLE_MAX = 32


@dataclass
class StaffMember:
    staff_no: str  # 工号
    name: str
    title: str = ""  # e.g. 综合受理员
    stars: int = 0  # 星级, 0..STARS_MAX
    windows: str = ""  # the windows they may log in at, comma-separated; "": any window
    active: bool = True
    photo: str = ""  # digest of the portrait ("" none), to tell a new one from the last
    updated_at: datetime | None = None

    @property
    def window_ids(self) -> tuple[str, ...]:
        return tuple(w for w in self.windows.split(",") if w)


STAFF_FIELDS = tuple(f.name for f in fields(StaffMember))


def staff_view(member: StaffMember) -> dict[str, Any]:
    view = asdict(member)
    view["windows"] = list(member.window_ids)
    view["updated_at"] = member.updated_at.isoformat(timespec="seconds") if member.updated_at else None
    return view


class Roster:
    def __init__(self) -> None:
        self.members: dict[str, StaffMember] = {}
        self._dirty: dict[str, StaffMember] = {}
        self._photos: list[tuple[str, bytes]] = []

    def restore(self, members: list[StaffMember]) -> None:
        self.members = {m.staff_no: m for m in members}

    def take_changes(self) -> tuple[list[StaffMember], list[tuple[str, bytes]]]:
        changed, photos = list(self._dirty.values()), self._photos
        self._dirty, self._photos = {}, []
        return changed, photos

    def login_refusal(self, staff_no: str, window: str) -> str | None:
        """Why `staff_no` may not log in at `window` (an error code), or None."""
        member = self.members.get(staff_no)
        if member is None:
            return "unknown_staff"
        if not member.active:
            return "staff_disabled"
        if member.window_ids and window not in member.window_ids:
            return "staff_not_here"
        return None

    def save(self, staff_no: str, name: str, title: str, stars: int, windows: list[str],
             known_windows: set[str], at: datetime) -> StaffMember:
        staff_no, name, title = staff_no.strip(), name.strip(), title.strip()
        if not STAFF_NO.fullmatch(staff_no):
            raise Refused("bad_staff", "工号应为 1-32 位字母、数字、- 或 _")
        if not name or len(name) > NAME_MAX or not name.isprintable():
            raise Refused("bad_staff", f"姓名应为 1-{NAME_MAX} 个可打印字符")
        if len(title) > TITLE_MAX or not title.isprintable():
            raise Refused("bad_staff", f"职务应为不超过 {TITLE_MAX} 个可打印字符")
        if not 0 <= stars <= STARS_MAX:
            raise Refused("bad_staff", f"星级应为 0-{STARS_MAX}")
        unknown = [w for w in windows if w not in known_windows]
        if unknown:
            raise Refused("unknown_window", "、".join(unknown))
        member = self.members.get(staff_no)
        if member is None:
            member = self.members[staff_no] = StaffMember(staff_no, name)
        member.name, member.title, member.stars = name, title, stars
        member.windows = ",".join(dict.fromkeys(windows))
        member.updated_at = at
        self._dirty[staff_no] = member
        return member

    def member(self, staff_no: str) -> StaffMember:
        member = self.members.get(staff_no.strip())
        if member is None:
            raise Refused("unknown_staff", staff_no)
        return member

    def set_active(self, staff_no: str, active: bool, at: datetime) -> StaffMember:
        member = self.member(staff_no)
        member.active, member.updated_at = active, at
        self._dirty[member.staff_no] = member
        return member

    def set_photo(self, staff_no: str, photo_b64: str, at: datetime) -> StaffMember:
        member = self.member(staff_no)
        try:
            data = base64.b64decode(photo_b64, validate=True)
        except (binascii.Error, ValueError):
            raise Refused("bad_photo", "照片应为 base64 编码的 JPEG") from None
        problem = portrait.check(data)
        if problem:
            raise Refused("bad_photo", problem)
        member.photo, member.updated_at = hashlib.sha256(data).hexdigest()[:16], at
        self._dirty[member.staff_no] = member
        self._photos.append((member.staff_no, data))
        return member

    def dump(self) -> dict:
        return {k: staff_view(m) for k, m in sorted(self.members.items())}
