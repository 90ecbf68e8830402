"""docs/schemas: generated from the models, committed, and kept by every event the normalizer makes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from bridge.event_data import CONTRACTS
from bridge.event_data.publish import published_files, refused_changes, render
from bridge.events import Event, EventType
from bridge.mobile.registry import Device, Platform
from bridge.normalize import MemoryState, Snapshot, normalize, normalize_snapshot
from connectors.push.fanout import token_invalidated_event
from tests.plugins.contract import SCHEMAS, contract_problems
from tests.unit.normalize.events_doc import NOT_FROM_GWS, SCENARIOS, _example

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GWS = FIXTURES / "gws"
REGENERATE = "regenerate with: .venv/bin/gws-bridge schemas docs/schemas"


def _committed() -> dict[str, dict[str, Any]]:
    return {p.name: orjson.loads(p.read_bytes()) for p in sorted(SCHEMAS.glob("*.json"))}


def test_every_catalogue_type_has_a_contract() -> None:
    assert list(CONTRACTS) == list(EventType)


def test_the_committed_files_are_what_the_code_generates() -> None:
    generated = published_files()
    assert sorted(p.name for p in SCHEMAS.iterdir()) == sorted(generated), REGENERATE
    stale = [name for name, doc in generated.items() if (SCHEMAS / name).read_bytes() != render(doc)]
    assert stale == [], REGENERATE


def test_no_committed_schema_is_broken_without_a_version_bump() -> None:
    assert refused_changes(_committed(), published_files()) == []


@pytest.mark.parametrize("name", sorted(n for n in published_files() if n != "asyncapi.json"))
def test_each_schema_is_a_valid_2020_12_schema_with_a_versioned_id(name: str) -> None:
    schema = _committed()[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:gws-bridge:event:{name.removesuffix('.json')}:v1"


def _wire(events: list[Event]) -> list[dict[str, Any]]:
    return [orjson.loads(event.to_json()) for event in events]


def _everything_the_fixtures_give() -> list[dict[str, Any]]:
    """Each sample alone and all in one state, with and without raw; the REST snapshots; the doc scenarios."""
    names = sorted(
        p.name for p in GWS.glob("*.json") if p.name.startswith(("cometd_", "synthetic_", "mobile_"))
    )
    events: list[Event] = []
    shared = MemoryState()
    for include_raw in (False, True):
        for name in names:
            for state in (MemoryState(), shared):
                events += normalize(
                    (GWS / name).read_bytes(), agent="jsmith", state=state, include_raw=include_raw
                )
    for me in ("rest_get_me_subresources.json", "rest_get_me_subresources_schematic_003.json"):
        events += normalize_snapshot(
            Snapshot(me=(GWS / me).read_bytes()), agent="jsmith", state=MemoryState()
        )
    listed = Snapshot(
        calls=(GWS / "rest_get_me_calls_fields_response.json").read_bytes(),
        interactions=(GWS / "rest_get_me_interactions_fields_response.json").read_bytes(),
    )
    events += normalize_snapshot(listed, agent="jsmith", state=shared)
    gone = Snapshot(calls=b'{"calls": []}', interactions=b'{"interactions": []}')
    events += normalize_snapshot(gone, agent="jsmith", state=shared)  # released / completed from the state
    events += [_example(t) for t in SCENARIOS]
    return _wire(events)


def test_every_event_from_the_fixtures_keeps_its_schema() -> None:
    events = _everything_the_fixtures_give()
    problems = [p for event in events for p in contract_problems(event)]
    assert problems == []
    assert {e["type"] for e in events} == {t.value for t in EventType} - set(NOT_FROM_GWS)
    assert any(e["data"].get("recovered") for e in events) and any("raw" in e["data"] for e in events)


def test_events_are_cloudevents_by_the_official_json_schema() -> None:
    official = Draft7Validator(
        orjson.loads((FIXTURES / "contract" / "cloudevents-1.0.schema.json").read_bytes())
    )
    assert [error.message for e in _everything_the_fixtures_give() for error in official.iter_errors(e)] == []


def test_the_push_connectors_token_event_keeps_its_schema() -> None:
    device = Device(agent="jsmith", platform=Platform.IOS, token="ab" * 32, sandbox=True, registered_at=1.5)
    cause = normalize((GWS / "cometd_call_StatusChange_Ringing_toast.json").read_bytes(), agent="jsmith",
                      state=MemoryState())[0]  # fmt: skip
    event = token_invalidated_event(device, destination="apns", reason="Unregistered", cause=cause)
    assert contract_problems(orjson.loads(event.to_json())) == []


def _ringing() -> dict[str, Any]:
    return _wire([_example(EventType.CALL_RINGING)])[0]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda e: e["data"].update(state="Held"), "'Ringing' was expected"),
        (lambda e: e["data"].pop("call_uuid"), "'call_uuid' is a required property"),
        (lambda e: e["data"].update(duration="12"), "'12' is not valid under any of the given schemas"),
        (lambda e: e["data"].update(direction="sideways"), "'sideways' is not valid"),
        (lambda e: e["data"]["participants"].append({"number": 5}), "is a required property"),
        (lambda e: e["data"].update(surprise=1), "keys ['surprise'] are not in CallRinging"),
        (lambda e: e.update(sequence=1), "1 is not of type 'string'"),
        (lambda e: e.update(sequence="1"), "does not match"),
        (lambda e: e.update(subject="agent/jsmith"), "does not match '^call/.+$'"),
        (lambda e: e.update(time="2026-01-15 09:30"), "does not match"),
        (lambda e: e.update(type="call.rung"), "'call.rung' is not in the catalogue"),
    ],
)
def test_the_check_finds_what_breaks_a_contract(change: Any, complaint: str) -> None:
    event = copy.deepcopy(_ringing())
    assert contract_problems(event) == []
    change(event)
    problems = contract_problems(event)
    assert any(complaint in p for p in problems), problems


def test_unknown_fields_and_attributes_are_allowed_by_the_published_schemas() -> None:
    event = {**_ringing(), "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    validator = Draft202012Validator(_committed()["call.ringing.json"])
    assert validator.is_valid(event)
    event["data"] = {**event["data"], "added_later": True}
    assert validator.is_valid(event)
    assert datetime.fromisoformat(event["time"]).tzinfo == UTC
