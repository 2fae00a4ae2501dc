"""One hub per database. A second hub on the same file exits at once, saying which
process has it, with an exit status systemd does not restart on; the first hub keeps
issuing numbers. The lock dies with its process, SIGKILL included."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from caller.core.client import HubClient
from caller.core.config import load_config
from caller.hub.main import EXIT_DB_IN_USE
from caller.hub.store import DatabaseInUse, Store
from tests.hubproc import DEMO_CONFIG, REPO, HubProcess
from tests.test_docs import parse_unit

pytestmark = [pytest.mark.e2e]

ADMIN = load_config(DEMO_CONFIG).devices["admin"]


def second_hub(db) -> subprocess.CompletedProcess:
    """`hallq hub` on a database that may be taken; it must exit by itself."""
    return subprocess.run([sys.executable, "-m", "hallq", "hub", "--config", str(DEMO_CONFIG),
                           "--db", str(db), "--port", "0"],
                          cwd=REPO, capture_output=True, text=True, timeout=30)


async def issue(url: str) -> dict:
    async with HubClient(url, ADMIN.id, ADMIN.token) as admin:
        return await admin.request("issue_ticket", service="civil")


def test_a_second_hub_on_the_same_database_exits_and_the_first_keeps_serving(tmp_path):
    db = tmp_path / "hall.db"
    with HubProcess(DEMO_CONFIG, db) as first:
        assert asyncio.run(issue(first.url))["ticket"]["number"] == "A001"
        refused = second_hub(db)
        assert refused.returncode == EXIT_DB_IN_USE
        assert refused.stdout == ""  # never said it was ready
        assert f"the database {db} is in use by another hub (pid {first.proc.pid}" in refused.stderr
        assert "Traceback" not in refused.stderr
        reply = asyncio.run(issue(first.url))
        assert reply["ok"] and reply["ticket"]["number"] == "A002", reply


def test_the_lock_goes_with_a_killed_hub(tmp_path):
    db = tmp_path / "hall.db"
    first = HubProcess(DEMO_CONFIG, db).start()
    asyncio.run(issue(first.url))
    first.kill()
    first.stop()
    with HubProcess(DEMO_CONFIG, db) as again:
        assert asyncio.run(issue(again.url))["ticket"]["number"] == "A002"


def test_a_second_store_in_one_process_is_refused_too(tmp_path):
    store = Store(tmp_path / "hall.db", synchronous="OFF")
    with pytest.raises(DatabaseInUse, match="in use by another hub"):
        Store(tmp_path / "hall.db")
    store.close()
    Store(tmp_path / "hall.db").close()  # free again once closed


def test_systemd_does_not_restart_a_hub_that_cannot_start():
    from caller.hub.main import EXIT_CONFIG, EXIT_DB_DAMAGED

    unit = parse_unit(REPO / "deploy" / "systemd" / "hallq-hub.service")
    statuses = {int(s) for v in unit["Service"]["RestartPreventExitStatus"] for s in v.split()}
    assert {EXIT_CONFIG, EXIT_DB_IN_USE, EXIT_DB_DAMAGED} <= statuses
    assert unit["Service"]["Restart"] == ["always"]
