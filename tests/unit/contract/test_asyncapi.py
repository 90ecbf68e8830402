"""docs/schemas/asyncapi.json: valid AsyncAPI 3.0 by the official schema, and complete."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft7Validator

from bridge.event_data.schemas import schema_file
from bridge.events import EventType
from connectors import connector_class
from tests.plugins.contract import SCHEMAS

OFFICIAL = Path(__file__).resolve().parents[2] / "fixtures" / "contract" / "asyncapi-3.0.0.schema.json"


def _document() -> dict[str, Any]:
    return orjson.loads((SCHEMAS / "asyncapi.json").read_bytes())  # type: ignore[no-any-return]


def _errors(document: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(orjson.loads(OFFICIAL.read_bytes()))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(document)
    ]


def test_the_document_is_valid_asyncapi_3() -> None:
    assert _errors(_document()) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["operations"]["deliverEvent"].update(action="publish"),  # the AsyncAPI 2 verb
        lambda d: d.update(asyncapi="3.0"),
        lambda d: d["channels"]["webhook"].update(address=7),
        lambda d: d["components"]["messages"]["call_ringing"].update(payload="call.ringing"),
        lambda d: d.update(webhooks={}),
    ],
)
def test_the_official_schema_refuses_a_broken_document(break_it: Any) -> None:
    document = copy.deepcopy(_document())
    break_it(document)
    assert _errors(document)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves() -> None:
    document = _document()
    for ref in _refs(document):
        if ref.startswith("#/"):
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part]  # KeyError names the dangling part
        else:
            assert (SCHEMAS / ref).is_file(), ref


def test_every_event_type_is_a_message_of_the_webhook_channel_with_its_schema() -> None:
    document = _document()
    messages = document["components"]["messages"]
    by_name = {m["name"]: m for m in messages.values()}
    assert list(by_name) == [t.value for t in EventType]
    for event_type in EventType:
        message = by_name[event_type.value]
        assert message["payload"]["schema"] == {"$ref": f"./{schema_file(event_type)}"}
        assert message["headers"] == {"$ref": "#/components/schemas/webhookHeaders"}
        assert message["contentType"] == "application/cloudevents+json; charset=utf-8"
    channel = document["channels"]["webhook"]
    assert sorted(channel["messages"]) == sorted(messages)
    assert connector_class("webhook").kind == "webhook"  # a real destination kind
    headers = document["components"]["schemas"]["webhookHeaders"]["properties"]
    assert {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"} <= set(headers)
