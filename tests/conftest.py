import os

import pytest

from tests.hubproc import DEMO_CONFIG, HubProcess

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")


@pytest.fixture
def hub_process(tmp_path):
    """A real hub process on the demo hall, on a clock that starts Monday 9:00."""
    with HubProcess(DEMO_CONFIG, tmp_path / "hall.db") as hub:
        yield hub
