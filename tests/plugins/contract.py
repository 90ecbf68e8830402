"""Holding events to docs/schemas and replies to docs/openapi.json, with a real JSON Schema validator."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bridge.event_data import contract

__all__ = [
    "OPENAPI",
    "SCHEMAS",
    "contract_problems",
    "header_problems",
    "openapi_document",
    "openapi_problems",
    "schema_validator",
]

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
OPENAPI = SCHEMAS.parent / "openapi.json"
_OPENAPI_URI = "urn:gws-bridge:openapi"


@cache
def schema_validator(name: str) -> Draft202012Validator:
    """The validator of the committed ``docs/schemas/<name>.json`` (``cloudevent`` for the envelope)."""
    schema = orjson.loads((SCHEMAS / f"{name}.json").read_bytes())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def contract_problems(event: dict[str, Any]) -> list[str]:
    """Why the wire form of one event breaks its contract; ``[]`` when it keeps it.

    The published schemas are open (consumers must accept new fields), so the
    producer is held to more: no ``data`` key its model does not declare.
    """
    event_type = str(event.get("type"))
    problems = _errors(schema_validator("cloudevent"), event)
    try:
        model = contract(event_type).model
    except KeyError:
        return [*problems, f"type {event_type!r} is not in the catalogue"]
    problems += _errors(schema_validator(event_type), event)
    data = event.get("data")
    undeclared = sorted(set(data) - set(model.model_fields)) if isinstance(data, dict) else []
    if undeclared:
        problems.append(f"data: keys {undeclared} are not in {model.__name__}")
    return [f"{event_type}: {problem}" for problem in problems]


@cache
def _headers_validator() -> Draft202012Validator:
    asyncapi = orjson.loads((SCHEMAS / "asyncapi.json").read_bytes())
    return Draft202012Validator(asyncapi["components"]["schemas"]["webhookHeaders"])


def header_problems(headers: dict[str, str]) -> list[str]:
    """Why a delivery's HTTP headers differ from the AsyncAPI document's ``webhookHeaders``."""
    return _errors(_headers_validator(), {k.lower(): v for k, v in headers.items()})


@cache
def openapi_document() -> dict[str, Any]:
    """The committed docs/openapi.json."""
    document: dict[str, Any] = orjson.loads(OPENAPI.read_bytes())
    return document


@cache
def _openapi_validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` (``#/components/schemas/Command``) of docs/openapi.json."""
    resource = Resource.from_contents(openapi_document(), default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(_OPENAPI_URI, resource)
    return Draft202012Validator({"$ref": _OPENAPI_URI + pointer}, registry=registry)


def openapi_problems(pointer: str, document: Any) -> list[str]:
    """Why ``document`` breaks the schema at ``pointer`` of docs/openapi.json; ``[]`` when it keeps it."""
    return _errors(_openapi_validator(pointer), document)
