"""Made-up residents for the simulator, demos and tests: nobody real. Their ID numbers
carry valid check characters (tests/drivers/idcard/test_card.py checks them)."""

from __future__ import annotations

from datetime import date

from drivers.idcard.card import IdCard

_AUTHORITY = "演示市公安局演示分局"


def make_card(name: str, id_number: str, *, valid_until: date | None = date(2036, 5, 1),
              address: str = "演示市和平路1号") -> IdCard:
    """A card for a made-up person; birth date and gender come from ``id_number``."""
    return IdCard(
        name=name, gender="1" if int(id_number[16]) % 2 else "2", ethnicity="01",
        birth_date=date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14])),
        address=address, id_number=id_number, authority=_AUTHORITY,
        valid_from=date(2016, 5, 1) if valid_until is not None else date(2006, 5, 1),
        valid_until=valid_until,
    )


RESIDENTS = {
    "zhang": make_card("张三", "11010519850314011X"),
    "li": make_card("李小红", "110105199211020241"),
    "wang": make_card("王建国", "110105194810010376", valid_until=None),  # 78: green channel
    "zhao": make_card("赵敏", "110105200006300485"),
    "chen": make_card("陈志强", "110105197701090518", valid_until=date(2021, 1, 9)),  # expired
}
"""The named cards the simulator can present (``present zhang``)."""
