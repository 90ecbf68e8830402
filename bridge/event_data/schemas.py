"""JSON Schemas (2020-12) of the events, generated from :class:`~bridge.events.Event` and the data models.

``<type>.json`` describes one whole CloudEvent of that type (the envelope,
``type`` fixed, ``subject``'s pattern, ``data`` its model); ``cloudevent.json``
any gws-bridge event, ``data`` left open. Each file is self-contained (its
``$defs`` hold the nested models) so a consumer can validate a body with it
alone. The schemas are open where the contract may grow: unknown attributes
(future CloudEvents extensions) and unknown ``data`` fields are allowed.

``$id`` is ``urn:gws-bridge:event:<type>:v<version>``: a new version is a new
identifier, as CloudEvents asks of ``dataschema`` for incompatible changes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bridge.event_data.catalogue import CONTRACTS, Contract
from bridge.events import Event, EventType

__all__ = [
    "DIALECT",
    "ENVELOPE_FILE",
    "ENVELOPE_VERSION",
    "ID_PREFIX",
    "data_schema",
    "envelope_schema",
    "event_schema",
    "schema_file",
    "schema_id",
    "schemas",
]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:gws-bridge:event:"
ENVELOPE_FILE = "cloudevent.json"
#: bumped when the envelope changes incompatibly (every type's schema embeds it)
ENVELOPE_VERSION = 1
_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
_ANNOTATIONS_DROPPED = ("title",)  # pydantic's "Call Id"-style titles say nothing the key does not


def schema_id(name: str, version: int) -> str:
    return f"{ID_PREFIX}{name}:v{version}"


def schema_file(event_type: EventType) -> str:
    """``call.ringing`` → ``call.ringing.json``."""
    return f"{event_type.value}.json"


def _markdown(text: str) -> str:
    # docstrings are reST over several lines; schema readers and docs/events.md want one Markdown line
    return " ".join(text.split()).replace("``", "`")


def _inherited_descriptions(model: type[BaseModel], schema: dict[str, Any]) -> None:
    """A field a subclass narrows (``state: Literal["Ringing"]``) keeps the description it had."""
    for name, prop in schema["properties"].items():
        if "description" in prop:
            continue
        for base in model.__mro__[1:]:
            field = getattr(base, "model_fields", {}).get(name)
            if field is not None and field.description:
                prop["description"] = field.description
                break


def _tidy(node: Any, *, in_properties: bool = False) -> Any:
    """Drop per-property titles, turn reST literals into Markdown ones, recursively."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    tidy: dict[str, Any] = {}
    for key, value in node.items():
        if in_properties:  # keys are property names here, values their schemas
            tidy[key] = _tidy(value)
        elif key in _ANNOTATIONS_DROPPED and not isinstance(value, dict):
            continue
        elif key == "description" and isinstance(value, str):
            tidy[key] = _markdown(value)
        else:
            tidy[key] = _tidy(value, in_properties=key in ("properties", "$defs"))
    return tidy


def _envelope() -> dict[str, Any]:
    schema = Event.model_json_schema(mode="serialization")
    schema.pop("additionalProperties", None)  # Event forbids extras inside; consumers must allow new ones
    schema.pop("title", None)
    schema["properties"]["type"]["pattern"] = _TYPE_PATTERN
    return _tidy(schema)


def envelope_schema() -> dict[str, Any]:
    """``cloudevent.json``: any gws-bridge CloudEvent."""
    envelope = _envelope()
    envelope.pop("description")
    return {
        "$schema": DIALECT,
        "$id": schema_id("cloudevent", ENVELOPE_VERSION),
        "title": "gws-bridge CloudEvent",
        "description": "Any event gws-bridge emits: CloudEvents 1.0 in the JSON event format, "
        "with the sequence and partitioning extensions; each type's schema narrows it.",
        **envelope,
    }


def data_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of one data model, as the files hold it; nested models in its ``$defs``."""
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    _inherited_descriptions(model, schema)
    nested = schema.pop("$defs", {})
    tidy: dict[str, Any] = _tidy(schema)
    if nested:
        tidy["$defs"] = _tidy(nested, in_properties=True)
    return tidy


def event_schema(event_type: EventType, entry: Contract | None = None) -> dict[str, Any]:
    """``<type>.json``: one event type, its ``data`` from its model."""
    entry = entry or CONTRACTS[event_type]
    model = entry.model
    data = data_schema(model)
    nested = data.pop("$defs", {})
    envelope = _envelope()
    envelope.pop("description")
    properties = envelope["properties"]
    properties["type"] = {"const": event_type.value, "description": properties["type"]["description"]}
    properties["subject"]["pattern"] = model.subject_pattern
    properties["data"] = {"$ref": f"#/$defs/{model.__name__}"}
    return {
        "$schema": DIALECT,
        "$id": schema_id(event_type.value, entry.version),
        "title": event_type.value,
        "description": event_type.meaning + ".",
        **envelope,
        "$defs": {model.__name__: data, **nested},
    }


def schemas() -> dict[str, dict[str, Any]]:
    """Every file of ``docs/schemas/`` but the AsyncAPI document: file name → schema."""
    files = {ENVELOPE_FILE: envelope_schema()}
    for event_type in EventType:
        files[schema_file(event_type)] = event_schema(event_type)
    return files
