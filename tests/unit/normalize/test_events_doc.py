"""docs/events.md is generated from the fixtures and lists every event type."""

from __future__ import annotations

from bridge.events import EventType

from .events_doc import DOC, render


def test_docs_events_md_is_current() -> None:
    # on failure: .venv/bin/python tests/unit/normalize/events_doc.py
    assert DOC.read_text() == render()


def test_docs_events_md_lists_every_event_type_with_its_meaning() -> None:
    text = DOC.read_text()
    for event_type in EventType:
        assert f"### {event_type.value}\n" in text
        assert event_type.meaning in text
