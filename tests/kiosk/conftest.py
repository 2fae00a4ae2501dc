"""Fixtures of the kiosk tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.idcard.simulator import IdCardSimulator
from tests.caller.hub.test_real_name_e2e import real_name_hall
from tests.kiosk.kioskproc import kiosk_reader


@pytest.fixture
def reader_hall(tmp_path: Path) -> Iterator[tuple[Path, IdCardSimulator]]:
    """The real-name hall's config, its kiosk reading ID cards from the simulated serial
    reader (on a pty), and that reader."""
    config = real_name_hall(tmp_path)
    with IdCardSimulator(tmp_path / "idcard") as sim:
        kiosk_reader(config, f'idcard = "{tmp_path / "idcard"}"')
        yield config, sim
