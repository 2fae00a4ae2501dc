"""caller.core.device_alerts: a device's parts raise an alert when they go down and a
recovery when they come back, never one at start, never a repeat."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from caller.core.device_alerts import DeviceAlerts
from caller.core.protocol import AlertKind


def test_a_device_that_starts_fine_says_nothing() -> None:
    alerts = DeviceAlerts()
    assert alerts.changed("idcard", True) is None
    assert alerts.changed("idcard", True) is None


def test_down_then_up_is_one_fault_and_one_recovery_per_part() -> None:
    alerts = DeviceAlerts()
    assert alerts.changed("idcard", False) == AlertKind.DEVICE_OFFLINE
    assert alerts.changed("idcard", False) is None
    assert alerts.changed("scanner", False) == AlertKind.DEVICE_OFFLINE
    assert alerts.changed("idcard", True) == AlertKind.DEVICE_ONLINE
    assert alerts.down("scanner") and not alerts.down("idcard")


@given(st.lists(st.tuples(st.sampled_from(["idcard", "scanner", "line"]), st.booleans())))
def test_alerts_alternate_fault_and_recovery_per_part(changes: list[tuple[str, bool]]) -> None:
    alerts, last = DeviceAlerts(), {}
    for part, up in changes:
        kind = alerts.changed(part, up)
        if kind is None:
            continue
        assert kind == (AlertKind.DEVICE_ONLINE if up else AlertKind.DEVICE_OFFLINE)
        assert last.get(part, AlertKind.DEVICE_ONLINE) != kind, "a repeat was sent"
        last[part] = kind
    for part, kind in last.items():
        assert alerts.down(part) == (kind == AlertKind.DEVICE_OFFLINE)
