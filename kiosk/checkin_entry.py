"""What the citizen types on the kiosk's 预约签到 screen, with no I/O: the booking code,
or the phone number and the ID number's last six characters. `request()` gives the
arguments of the hub's one `check_in` command (the card and the scanner send theirs
through the same command: `KioskApp.check_in`)."""

from __future__ import annotations

from dataclasses import dataclass

from caller.core.booking import CODE_DIGITS

FIELDS = {"code": CODE_DIGITS, "phone": 11, "id_last6": 6}
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "0")


@dataclass
class CheckinEntry:
    mode: str = "code"  # "code" | "phone"
    code: str = ""
    phone: str = ""
    id_last6: str = ""
    field: str = "code"  # the field the keys type into

    def switch(self, mode: str) -> None:
        self.mode, self.code, self.phone, self.id_last6 = mode, "", "", ""
        self.field = "code" if mode == "code" else "phone"

    def focus(self, field: str) -> None:
        if field in (("code",) if self.mode == "code" else ("phone", "id_last6")):
            self.field = field

    def key(self, key: str) -> None:
        """One key: a digit, "X" (only as the ID number's last character), or "del"."""
        if key == "del":
            if self.field == "id_last6" and not self.id_last6:
                self.field = "phone"  # deleting on past the start goes back to the phone
            setattr(self, self.field, getattr(self, self.field)[:-1])
            return
        value = getattr(self, self.field)
        if key not in KEYS or len(value) >= FIELDS[self.field]:
            return
        if key == "X" and not (self.field == "id_last6" and len(value) == 5):
            return
        setattr(self, self.field, value + key)
        if self.field == "phone" and len(self.phone) == FIELDS["phone"]:
            self.field = "id_last6"

    def x_allowed(self) -> bool:
        return self.field == "id_last6" and len(self.id_last6) == 5

    @property
    def complete(self) -> bool:
        if self.mode == "code":
            return len(self.code) == FIELDS["code"]
        return len(self.phone) == FIELDS["phone"] and len(self.id_last6) == FIELDS["id_last6"]

    def request(self) -> dict[str, str]:
        if self.mode == "code":
            return {"code": self.code}
        return {"phone": self.phone, "id_last6": self.id_last6}

    def shown(self, field: str) -> str:
        """A field as the screen shows it: the code in groups of four."""
        value = getattr(self, field)
        if field == "code":
            return " ".join(value[i:i + 4] for i in range(0, len(value), 4))
        return value
