"""Ten SIGKILLs of the hub under a steady load of issue and call requests from
retrying clients: after every restart nothing acknowledged is lost or doubled."""

from __future__ import annotations

import pytest

from tests.caller.hub.test_hub_crash import run_crash_cycles

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_ten_sigkills_under_load_lose_no_ticket_call_or_event(tmp_path):
    run_crash_cycles(tmp_path, cycles=10)
