"""The OpenAPI 3.1 document of the inbound API, generated from the code that answers the requests.

Nothing per action is written here: each entry of :data:`bridge.commands.ACTIONS` becomes one
branch of the ``POST /v1/commands`` body (``oneOf``, discriminated by ``action``) with its
params model's JSON Schema and examples, so a new action appears with its entry. The refusals
are :data:`~bridge.inbound.problems.PROBLEM_KINDS`; the CTI envelope, the device registration
and the device are their models (the schemas: :mod:`bridge.inbound.openapi_schemas`; the
paths and the document: here). ``gws-bridge openapi`` writes the document to
docs/openapi.json; the receiver serves the same bytes at ``GET /openapi.json``, without
credentials (it describes the code, not a deployment: no client, agent, key or host).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson

from bridge import __version__
from bridge.commands import ACTIONS
from bridge.events import TRACEPARENT_PATTERN
from bridge.inbound.openapi_schemas import action_schema, component_schemas, schema_ref
from bridge.inbound.problems import PROBLEM_CONTENT_TYPE, PROBLEM_KINDS

__all__ = [
    "OPENAPI_FILE",
    "OPENAPI_PATH",
    "openapi_bytes",
    "openapi_document",
    "render",
]

OPENAPI_FILE = "openapi.json"  # under docs/
OPENAPI_PATH = "/openapi.json"  # where the receiver serves it
_JSON = "application/json"
_EXAMPLE_AGENT = "agent0001"


def _header(description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


def _parameters() -> dict[str, Any]:
    def header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "header", **_header(description, schema)}

    return {
        "IdempotencyKey": header(
            "Idempotency-Key",
            "Per client, kept `idempotency_ttl`: a retry gets the first reply again "
            "(`Idempotent-Replayed: true`) and makes no second GWS call.",
            {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
        ),
        "Traceparent": header(
            "traceparent",
            "W3C trace context: with tracing on (`[tracing]`), the receiver's spans of this request "
            "continue the caller's trace; a malformed value starts a new one.",
            {"type": "string", "pattern": TRACEPARENT_PATTERN},
        ),
        "WebhookId": header(
            "webhook-id", "Standard Webhooks: the message id (with `webhook-signature`).", {"type": "string"}
        ),
        "WebhookTimestamp": header(
            "webhook-timestamp",
            "Standard Webhooks: Unix seconds, within `signature_tolerance` (with `webhook-signature`).",
            {"type": "string", "pattern": "^[0-9]+$"},
        ),
    }


def _problem_responses() -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for kind in PROBLEM_KINDS.values():
        for status in kind.statuses:
            by_status.setdefault(status, []).append(f"`{kind.name}`: {kind.meaning}")
    problem = {PROBLEM_CONTENT_TYPE: {"schema": schema_ref("Problem")}}
    responses = {}
    for status, meanings in sorted(by_status.items()):
        response: dict[str, Any] = {"description": "; ".join(meanings) + ".", "content": problem}
        if status == 429:
            response["headers"] = {"Retry-After": _header("Seconds to wait.", {"type": "integer"})}
        if status == 401:
            response["headers"] = {"WWW-Authenticate": _header("`Bearer`.", {"type": "string"})}
        responses[str(status)] = response
    return responses


def _refusals(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/{status}"} for status in statuses}


_AUTHENTICATED = (401, 413, 429, 503)


def _command_replies() -> dict[str, Any]:
    record = {_JSON: {"schema": schema_ref("CommandRecord")}}
    headers = {
        "Location": _header("`/v1/commands/{id}`", {"type": "string"}),
        "Idempotent-Replayed": _header("`true` on a replayed reply.", {"type": "string"}),
    }
    return {
        "200": {
            "description": "Performed; GWS settled it in its reply.",
            "headers": headers,
            "content": record,
        },
        "202": {
            "description": "GWS accepted it; its outcome arrives on CometD (poll `links.status`).",
            "headers": headers,
            "content": record,
        },
    }


def _body(schema: str) -> dict[str, Any]:
    return {_JSON: {"schema": schema_ref(schema)}}


def _reply(description: str, schema: str | None = None) -> dict[str, Any]:
    return {"description": description, **({"content": _body(schema)} if schema else {})}


def _in(where: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": where, "required": True, "schema": schema}


def _open(operation_id: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    """An operation that needs no credentials."""
    return {"get": {"operationId": operation_id, "summary": summary, "security": [], "responses": responses}}


def _paths() -> dict[str, Any]:
    every_refusal = sorted({*_AUTHENTICATED, 400, 403, 404, 409, 415, 422, 500, 502, 504})
    examples = {
        action: {"value": schema["examples"][0]}
        for action, schema in ((a, action_schema(a, s)) for a, s in ACTIONS.items())
        if "examples" in schema
    }
    signed = [
        {"$ref": "#/components/parameters/WebhookId"},
        {"$ref": "#/components/parameters/WebhookTimestamp"},
    ]
    traced = {"$ref": "#/components/parameters/Traceparent"}
    idempotent = [{"$ref": "#/components/parameters/IdempotencyKey"}, traced, *signed]
    cti_refusals = _refusals(*every_refusal)
    for status in ("422", "502"):
        cti_refusals[status] = {
            "description": "A seed 001 error (JSON), or a problem (a malformed envelope).",
            "content": {**_body("CtiError"), PROBLEM_CONTENT_TYPE: {"schema": schema_ref("Problem")}},
        }
    command_body = {_JSON: {"schema": schema_ref("Command"), "examples": examples}}
    command_id = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
    text = {"content": {"text/plain": {"schema": {"type": "string"}}}}
    return {
        "/v1/commands": {
            "post": {
                "operationId": "postCommand",
                "summary": "Perform one action as an agent on GWS.",
                "parameters": idempotent,
                "requestBody": {"required": True, "content": command_body},
                "responses": {**_command_replies(), **_refusals(*every_refusal)},
            }
        },
        "/v1/commands/{id}": {
            "get": {
                "operationId": "getCommand",
                "summary": "A command's status (only for the client that sent it).",
                "parameters": [_in("path", "id", command_id), *signed],
                "responses": {
                    "200": _reply("The status record.", "CommandRecord"),
                    **_refusals(*_AUTHENTICATED, 404),
                },
            }
        },
        "/v1/cti": {
            "post": {
                "operationId": "postCti",
                "summary": "A CTI envelope (seed 001): agent state, call control, dispositions.",
                "description": "The topic/subtopic pairs and what each becomes are in docs/commands.md.",
                "parameters": idempotent,
                "requestBody": {"required": True, "content": _body("CtiEnvelope")},
                "responses": {"200": _reply("Performed.", "CtiReply"), **cti_refusals},
            }
        },
        "/v1/mobile/devices": {
            "post": {
                "operationId": "registerDevice",
                "summary": "Register a phone for an agent's pushes (APNs or FCM).",
                "parameters": signed,
                "requestBody": {"required": True, "content": _body("DeviceRegistration")},
                "responses": {
                    "201": _reply("Registered.", "Device"),
                    **_refusals(*_AUTHENTICATED, 400, 403, 415, 422),
                },
            },
            "get": {
                "operationId": "listDevices",
                "summary": "An agent's registered devices.",
                "parameters": [_in("query", "agent", schema_ref("AgentName")), *signed],
                "responses": {
                    "200": _reply("The devices.", "DeviceList"),
                    **_refusals(*_AUTHENTICATED, 403, 422),
                },
            },
        },
        "/v1/mobile/devices/{token}": {
            "delete": {
                "operationId": "removeDevice",
                "summary": "Unregister a device by its push token.",
                "parameters": [_in("path", "token", {"type": "string"}), *signed],
                "responses": {"204": _reply("Removed."), **_refusals(*_AUTHENTICATED, 403, 404)},
            }
        },
        "/healthz": _open("health", "Liveness.", {"200": _reply("Alive.")}),
        "/readyz": _open(
            "ready",
            "Readiness: the state store answers.",
            {"200": _reply("Ready."), "503": _reply("Not ready.")},
        ),
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (with `inbound.metrics_token_hashes`: for a listed token).",
                "security": [{}, {"metricsToken": []}],
                "responses": {"200": {"description": "The text format.", **text}, **_refusals(401)},
            }
        },
        OPENAPI_PATH: _open(
            "openapi",
            "This document (no credentials: it describes the code, nothing of a deployment).",
            {"200": {"description": "OpenAPI 3.1.", "content": {_JSON: {"schema": {"type": "object"}}}}},
        ),
    }


def openapi_document() -> dict[str, Any]:
    """The whole document (JSON-able), actions in table order."""
    return {
        "openapi": "3.1.1",
        "info": {
            "title": "gws-bridge inbound API",
            "version": __version__,
            "summary": "Commands to Genesys Web Services (GWS 8.5), performed as the named agent.",
            "description": "A CRM, a CTI widget or a workflow engine asks the receiver to act as an agent "
            "on GWS. Every refusal comes before any GWS call and is `application/problem+json`. "
            "See docs/commands.md; the events that confirm commands are in docs/schemas/asyncapi.json.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "security": [{"apiKey": []}, {"webhookSignature": []}, {"apiKey": [], "webhookSignature": []}],
        "paths": _paths(),
        "components": {
            "schemas": component_schemas(),
            "parameters": _parameters(),
            "responses": _problem_responses(),
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key of an `[[inbound.clients]]` entry (configured as its hash).",
                },
                "metricsToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token of `inbound.metrics_token_hashes` (only `GET /metrics`).",
                },
                "webhookSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": "Standard Webhooks: `v1,<base64 HMAC-SHA256 of "
                    '"{webhook-id}.{webhook-timestamp}.{body}">` with a client\'s `whsec_` secret, sent '
                    "with `webhook-id` and `webhook-timestamp`; an exact replay is refused. Signature "
                    "headers that are present must verify, even beside a valid key; a client with "
                    "`require_signature` sends both.",
                },
            },
        },
    }


def render(document: dict[str, Any]) -> bytes:
    """How the document is written and served (stable, compared byte for byte)."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


@cache
def openapi_bytes() -> bytes:
    """The rendered document, built once per process."""
    return render(openapi_document())
