"""Helpers for the normalizer tests: fixtures live in tests/fixtures/gws/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.events import Event
from bridge.normalize import MemoryState, normalize

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gws"
AGENT = "jsmith"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def feed(state: MemoryState, *names: str, agent: str = AGENT) -> list[Event]:
    """Normalize fixture files in order into one state; all events."""
    events: list[Event] = []
    for name in names:
        events += normalize(fixture_bytes(name), agent=agent, state=state)
    return events


@pytest.fixture
def state() -> MemoryState:
    return MemoryState()
