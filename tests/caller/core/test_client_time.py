from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from caller.core.client import HubTime

TZ = ZoneInfo("Asia/Shanghai")


def test_screens_show_the_hubs_time_not_their_own():
    t = HubTime()
    assert abs(t.now(TZ) - datetime.now(TZ)) < timedelta(seconds=1)  # nothing heard yet
    t.follow("2026-11-23T09:00:00.000+08:00")  # e.g. a demo hall clock
    shown = t.now(TZ)
    assert shown.tzinfo is not None and shown.utcoffset() == timedelta(hours=8)
    assert abs(shown - datetime(2026, 11, 23, 9, 0, tzinfo=TZ)) < timedelta(seconds=1)
    t.follow(None)  # a message without a time changes nothing
    assert abs(t.now(TZ) - shown) < timedelta(seconds=1)
