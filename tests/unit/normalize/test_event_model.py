"""The catalogue and the fast event construction the normalizer uses."""

from __future__ import annotations

import uuid

import orjson
import pytest
from pydantic import ValidationError

from bridge.events import SEQUENCE_DIGITS, Event, EventType, format_sequence
from bridge.normalize import MemoryState, normalize
from bridge.normalize.context import event_id

from .conftest import FIXTURES


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


def test_normalizer_events_equal_validated_events() -> None:
    (event,) = normalize(
        (FIXTURES / "cometd_call_StatusChange_Ringing_toast.json").read_bytes(),
        agent="jsmith",
        state=MemoryState(),
    )
    fields = dict(event.__dict__)
    assert event == Event.model_validate(fields)
    assert event == Event.model_construct(**fields)
    assert event.to_json() == Event.model_validate(fields).to_json()
    assert Event.from_json(event.to_json()) == event
    assert event.model_copy(update={"sequence": 9}).sequence == 9
    assert event.sequence == 1
    assert event.id == event_id("jsmith\x1fcall/0071023c62a4a02a\x1fcall.ringing\x1f0\x1fRinging")
    assert str(uuid.UUID(event.id)) == event.id and uuid.UUID(event.id).version == 5


def _ringing() -> Event:
    (event,) = normalize(
        (FIXTURES / "cometd_call_StatusChange_Ringing_toast.json").read_bytes(),
        agent="jsmith",
        state=MemoryState(),
    )
    return event


def test_sequence_travels_as_a_zero_padded_string_that_sorts_like_the_number() -> None:
    wire = orjson.loads(_ringing().to_json())
    assert wire["sequence"] == "00000000000000000001" and len(wire["sequence"]) == SEQUENCE_DIGITS
    numbers = [1, 9, 10, 99, 100, 2**24 + 5, 2**63 - 1, 10**SEQUENCE_DIGITS - 1]
    texts = [format_sequence(n) for n in numbers]
    assert sorted(texts) == texts and [int(t) for t in texts] == numbers
    assert {len(t) for t in texts} == {SEQUENCE_DIGITS}


def test_sequence_is_read_back_from_the_string_and_from_a_legacy_integer() -> None:
    wire = orjson.loads(_ringing().to_json())
    assert Event.from_json(orjson.dumps(wire)).sequence == 1
    assert Event.from_json(orjson.dumps({**wire, "sequence": 7})).sequence == 7  # enqueued before 20 digits
    for bad in ("", "12a", "-1", " 1", "1" * (SEQUENCE_DIGITS + 1), 1.5, True, None):
        with pytest.raises(ValidationError, match="sequence"):
            Event.from_json(orjson.dumps({**wire, "sequence": bad}))
