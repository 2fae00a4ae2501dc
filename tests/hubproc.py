"""The demo hall on a real hub process, for end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hallq.harness.hub import HubProcess as _HubProcess

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "config" / "hall.toml"
MONDAY_9AM = "2026-11-23T09:00:00+08:00"


@dataclass
class HubProcess(_HubProcess):
    """A hub whose hall clock starts Monday 09:00, when every service is open."""

    start_time: str | None = MONDAY_9AM


__all__ = ["DEMO_CONFIG", "MONDAY_9AM", "REPO", "HubProcess"]
