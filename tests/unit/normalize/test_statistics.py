"""Statistics readings → stats.updated / stats.threshold_crossed; threshold hysteresis (properties)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bridge.config.statistics import StatisticsObject, Threshold
from bridge.event_data import contract
from bridge.event_data.schemas import data_schema
from bridge.normalize.statistics import parse_latest, stats_events

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
QUEUE = StatisticsObject(
    object_id="VQ_Support",
    name="Support",
    thresholds=["Current_In_Queue > 10", "ServiceLevel < 80 hysteresis 5"],
)


def read(values: dict[str, float], previous: dict | None = None, stamp: int = 1000):
    reading = {name: (value, stamp) for name, value in values.items()}
    return stats_events(QUEUE, reading, previous, source="gws-bridge", now=NOW)


def test_parse_latest_keeps_numeric_statistics_and_the_wanted_ones() -> None:
    body = {
        "objectId": "VQ",
        "statusCode": 0,
        "statistics": [
            {"statistic": "Current_In_Queue", "value": 3, "time": 5},
            {"statistic": "ServiceLevel", "value": 91.5, "time": 6},
            {"statistic": "Broken", "value": "n/a", "time": 7},
            {"statistic": "Flag", "value": True, "time": 7},
            "junk",
        ],
    }
    assert parse_latest(body) == {"Current_In_Queue": (3, 5), "ServiceLevel": (91.5, 6)}
    assert parse_latest(body, ["ServiceLevel"]) == {"ServiceLevel": (91.5, 6)}
    assert parse_latest({"statusCode": 0}) == {} and parse_latest(None) == {}


def test_first_reading_reports_every_value_then_only_changes() -> None:
    events, snapshot = read({"Current_In_Queue": 2, "ServiceLevel": 95})
    assert [e.type for e in events] == ["stats.updated"]
    first = events[0]
    assert first.subject == "stats/VQ_Support" and first.partitionkey == "VQ_Support"
    assert first.data["changed"] == first.data["values"] == {"Current_In_Queue": 2, "ServiceLevel": 95}
    again, same = read({"Current_In_Queue": 2, "ServiceLevel": 95}, snapshot)
    assert again == [] and same["sequence"] == snapshot["sequence"]
    later, _ = read({"Current_In_Queue": 4, "ServiceLevel": 95}, snapshot, stamp=2000)
    assert later[0].data["changed"] == {"Current_In_Queue": 4}
    assert later[0].data["values"] == {"Current_In_Queue": 4, "ServiceLevel": 95}
    assert later[0].sequence == first.sequence + 1 and later[0].id != first.id
    # every event matches its published schema
    import jsonschema

    for event in [first, later[0]]:
        jsonschema.validate(event.data, data_schema(contract(event.type).model))


def test_ids_are_deterministic_for_the_same_reading() -> None:
    one, _ = read({"Current_In_Queue": 12})
    two, _ = read({"Current_In_Queue": 12})
    assert [e.id for e in one] == [e.id for e in two] and len(one) == 2


def test_threshold_crossing_and_clearing_events() -> None:
    events, snapshot = read({"Current_In_Queue": 11, "ServiceLevel": 70})
    crossed = [e.data for e in events if e.type == "stats.threshold_crossed"]
    assert [(c["threshold"], c["breached"], c["value"]) for c in crossed] == [
        ("Current_In_Queue > 10", True, 11),
        ("ServiceLevel < 80", True, 70),
    ]
    assert snapshot["breached"] == ["Current_In_Queue > 10", "ServiceLevel < 80"]
    # back under the line but within the hysteresis: still breached, nothing new
    events, snapshot = read({"Current_In_Queue": 10, "ServiceLevel": 82}, snapshot)
    assert [e.type for e in events] == ["stats.updated"]
    events, snapshot = read({"Current_In_Queue": 9, "ServiceLevel": 85}, snapshot)
    cleared = [e.data for e in events if e.type == "stats.threshold_crossed"]
    assert [(c["threshold"], c["breached"]) for c in cleared] == [
        ("Current_In_Queue > 10", False),
        ("ServiceLevel < 80", False),
    ]
    assert snapshot["breached"] == []
    for event in events:
        jsonschema_validate(event)


def jsonschema_validate(event) -> None:
    import jsonschema

    jsonschema.validate(event.data, data_schema(contract(event.type).model))


def test_threshold_syntax() -> None:
    threshold = Threshold.model_validate("ServiceLevel <= 80.5 hysteresis 2")
    assert (threshold.statistic, threshold.op, threshold.value, threshold.hysteresis) == (
        "ServiceLevel", "<=", 80.5, 2.0,
    )  # fmt: skip
    assert Threshold.model_validate("Current_In_Queue > 10").hysteresis == 1.0
    assert Threshold.model_validate("X > 50").hysteresis == 5.0
    for bad in ["Current_In_Queue >> 10", "> 10", "Current_In_Queue > ten", ""]:
        with pytest.raises(ValidationError, match="must look like"):
            Threshold.model_validate(bad)
    with pytest.raises(ValidationError, match="object_id"):
        StatisticsObject(object_id="a/b")


ops = st.sampled_from([">", ">=", "<", "<="])
values = st.floats(min_value=-1000, max_value=1000, allow_nan=False)


@given(
    ops,
    st.integers(-100, 100),
    st.floats(min_value=0.5, max_value=50),
    st.lists(st.floats(min_value=0, max_value=0.99), max_size=60),
)
def test_a_value_hovering_within_the_hysteresis_never_flaps(op, line, hysteresis, fractions) -> None:
    """Once breached, values anywhere from the line back to just inside the band change nothing."""
    threshold = Threshold(statistic="S", op=op, value=line, hysteresis=hysteresis)
    above = op in (">", ">=")
    breached = threshold.breached(line + 1000 if above else line - 1000, False)
    assert breached
    for fraction in fractions:
        value = line - hysteresis * fraction if above else line + hysteresis * fraction
        breached = threshold.breached(value, breached)
        assert breached


@given(
    ops,
    st.integers(-100, 100),
    st.floats(min_value=0, max_value=50),
    st.lists(values, min_size=1, max_size=60),
)
def test_crossings_alternate_and_follow_the_lines(op, line, hysteresis, series) -> None:
    """Along any series: a crossing needs the value past the line, a clearing past the band."""
    threshold = Threshold(statistic="S", op=op, value=line, hysteresis=hysteresis)
    breached = False
    for value in series:
        after = threshold.breached(value, breached)
        if after and not breached:
            assert (
                value > line
                if op == ">"
                else value >= line
                if op == ">="
                else value < line
                if op == "<"
                else value <= line
            )
        if breached and not after:
            assert value <= line - hysteresis if op in (">", ">=") else value >= line + hysteresis
        breached = after


@given(st.lists(st.integers(0, 30), min_size=1, max_size=40))
def test_events_follow_the_breach_state_and_sequences_grow(series) -> None:
    snapshot = None
    sequence = 0
    breached = False
    for value in series:
        events, snapshot = read({"Current_In_Queue": value}, snapshot)
        for event in events:
            assert event.sequence > sequence
            sequence = event.sequence
        crossings = [e.data["breached"] for e in events if e.type == "stats.threshold_crossed"]
        expected = QUEUE.thresholds[0].breached(value, breached)
        assert crossings == ([expected] if expected != breached else [])
        breached = expected
