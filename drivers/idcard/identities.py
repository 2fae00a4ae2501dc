"""Made-up residents for the simulator, demos and tests: nobody real, valid check characters."""

from __future__ import annotations

from datetime import date

from drivers.idcard.card import IdCard, check_character

_AUTHORITY = "演示市公安局演示分局"


def make_card(name: str, birth: date, sequence: int, *, region: str = "110105",
              valid_until: date | None = date(2036, 5, 1), address: str = "演示市和平路1号") -> IdCard:
    """A card for a made-up person; ``sequence`` (0..999) is odd for men, even for women."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return IdCard(
        name=name, gender="1" if sequence % 2 else "2", ethnicity="01", birth_date=birth,
        address=address, id_number=first17 + check_character(first17), authority=_AUTHORITY,
        valid_from=date(2016, 5, 1) if valid_until is not None else date(2006, 5, 1),
        valid_until=valid_until,
    )


RESIDENTS = {
    "zhang": make_card("张三", date(1985, 3, 14), 11),
    "li": make_card("李小红", date(1992, 11, 2), 24),
    "wang": make_card("王建国", date(1948, 10, 1), 37, valid_until=None),  # elderly: green channel
    "zhao": make_card("赵敏", date(2000, 6, 30), 48),
    "chen": make_card("陈志强", date(1977, 1, 9), 51, valid_until=date(2021, 1, 9)),  # expired
}
"""The named cards the simulator can present (``present zhang``)."""
