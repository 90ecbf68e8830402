"""The catalogue and the fast event construction the normalizer uses."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.events import Event, EventType
from bridge.normalize.context import event_id, new_event


def test_every_event_type_has_a_one_line_meaning() -> None:
    for event_type in EventType:
        assert event_type.meaning and "\n" not in event_type.meaning
        assert event_type.value == event_type.value.lower()


def test_types_other_areas_use_are_still_there() -> None:
    for name in (
        "destination.disabled",
        "delivery.dead_lettered",
        "mobile.token_invalidated",
        "gws.unrecognized",
    ):
        assert EventType(name).value == name


def test_new_event_equals_a_validated_event() -> None:
    fields = {
        "specversion": "1.0",
        "id": event_id("x"),
        "source": "gws-bridge/jsmith",
        "type": EventType.CALL_RINGING.value,
        "subject": "call/1",
        "time": datetime(2026, 1, 1, tzinfo=UTC),
        "datacontenttype": "application/json",
        "data": {"agent": "jsmith", "n": [1, {"a": None}]},
        "sequence": 3,
        "partitionkey": "jsmith",
    }
    fast = new_event(dict(fields))
    assert fast == Event.model_validate(fields)
    assert fast == Event.model_construct(**fields)
    assert fast.to_json() == Event.model_validate(fields).to_json()
    assert Event.from_json(fast.to_json()) == fast
