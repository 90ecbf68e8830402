"""The components of the inbound API's OpenAPI document: every schema it names.

One schema per action's body (from :data:`bridge.commands.ACTIONS` and its params model, with
an example) and the ``Command`` union discriminated by ``action``; the command's status record;
the problem (from :data:`~bridge.inbound.problems.PROBLEM_KINDS`); seed 001's CTI reply and
error; and the models' own JSON Schemas (params, CTI envelope, device registration, device),
tidied. :mod:`bridge.inbound.openapi` puts them together with the paths.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from bridge.commands import ACTIONS, ActionSpec, Dialect
from bridge.inbound.cti import CtiEnvelope
from bridge.inbound.json_dialect import AGENT_PATTERN
from bridge.inbound.mobile import DeviceRegistration
from bridge.inbound.outcomes import CommandStatus
from bridge.inbound.problems import PROBLEM_KINDS, PROBLEM_TYPE_BASE
from bridge.mobile.registry import Device

__all__ = ["action_example", "action_schema", "action_schema_name", "component_schemas", "schema_ref"]

_REF = "#/components/schemas/{model}"
_EXAMPLE_AGENT = "agent0001"


def schema_ref(name: str) -> dict[str, str]:
    """A JSON reference to the component schema ``name``."""
    return {"$ref": _REF.format(model=name)}


def _markdown(text: str) -> str:
    return " ".join(text.split()).replace("``", "`")


def _tidy(node: Any, *, in_properties: bool = False) -> Any:
    """Drop pydantic's per-property titles ("Call Id"), one-line Markdown descriptions, recursively."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    tidy: dict[str, Any] = {}
    for key, value in node.items():
        if in_properties:
            tidy[key] = _tidy(value)
        elif key == "title" and isinstance(value, str):
            continue
        elif key == "description" and isinstance(value, str):
            tidy[key] = _markdown(value)
        else:
            tidy[key] = _tidy(value, in_properties=key == "properties")
    return tidy


def _model_schemas() -> dict[str, Any]:
    """Every params model, the CTI envelope, the device registration and the device, by name."""
    models: list[type[BaseModel]] = []
    for spec in ACTIONS.values():
        if spec.params not in models:
            models.append(spec.params)
    models += [CtiEnvelope, DeviceRegistration]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    found: dict[str, Any] = dict(top.get("$defs", {}))
    device = TypeAdapter(Device).json_schema(mode="serialization", ref_template=_REF)
    found.update(device.pop("$defs", {}))
    found["Device"] = device
    return {name: _tidy(schema) for name, schema in sorted(found.items())}


def action_schema_name(action: str) -> str:
    """``call.set_disposition`` → ``CallSetDispositionCommand`` (the component of one action's body)."""
    words = action.replace(".", "_").split("_")
    return "".join(word[:1].upper() + word[1:] for word in words) + "Command"


def action_example(spec: ActionSpec) -> dict[str, Any] | None:
    """Valid params for ``spec``: its params model's first example, ``{}`` when no field is required.

    None when the model has required fields but declares no example (the contract test fails then).
    """
    schema = spec.params.model_json_schema()
    examples = schema.get("examples") or []
    if examples:
        return dict(examples[0])
    return None if schema.get("required") else {}


def action_schema(action: str, spec: ActionSpec) -> dict[str, Any]:
    """The body of one action's command: agent, the action's name, its params; with an example."""
    params_required = bool(spec.params.model_json_schema().get("required"))
    schema: dict[str, Any] = {
        "type": "object",
        "title": action,
        "required": ["agent", "action", "params"] if params_required else ["agent", "action"],
        "properties": {
            "agent": schema_ref("AgentName"),
            "action": {"const": action},
            "params": schema_ref(spec.params.__name__),
        },
        "additionalProperties": False,
    }
    if spec.summary:
        schema["description"] = spec.summary
    example = action_example(spec)
    if example is not None:
        schema["examples"] = [{"agent": _EXAMPLE_AGENT, "action": action, "params": example}]
    return schema


def _record_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "A command's status record.",
        "required": ["id", "agent", "action", "dialect", "status", "created_at"],
        "properties": {
            "id": {"type": "string", "description": "The command's id (`GET /v1/commands/{id}`)."},
            "agent": schema_ref("AgentName"),
            "action": {"type": "string", "enum": list(ACTIONS)},
            "dialect": {"type": "string", "enum": [d.value for d in Dialect]},
            "status": {
                "type": "string",
                "enum": [s.value for s in CommandStatus],
                "description": "`accepted` (GWS took it; its outcome comes on CometD) → `succeeded` | "
                "`failed` | `unknown` (nothing settled it within `outcome_timeout`).",
            },
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "gws_reply": {"type": "object", "description": "GWS's reply to the operation."},
            "notification": {"type": "object", "description": "The CometD notification that settled it."},
            "error": {"type": "object", "description": "Why it failed (a problem, or GWS's message)."},
            "links": {
                "type": "object",
                "properties": {"status": {"type": "string", "format": "uri-reference"}},
            },
        },
    }


def _problem_schema() -> dict[str, Any]:
    kinds = "; ".join(
        f"`{kind.name}` ({'/'.join(map(str, kind.statuses))})" for kind in PROBLEM_KINDS.values()
    )
    return {
        "type": "object",
        "description": "An RFC 9457 problem. Never carries a secret.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "type": "string",
                "format": "uri",
                "pattern": "^" + PROBLEM_TYPE_BASE.replace(".", "\\.") + "[a-z-]+$",
                "description": f"`{PROBLEM_TYPE_BASE}<kind>`, kind one of: {kinds}.",
                "examples": [PROBLEM_TYPE_BASE + "invalid-command"],
            },
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string", "description": "The request's path."},
            "errors": {
                "type": "array",
                "description": "One entry per offending field: `loc` (a path, e.g. "
                '`["params", "call_id"]`), `msg`, `type` (the device registry: `field`, `message`); '
                "an unknown action lists the known ones in `valid`.",
                "items": {"type": "object"},
            },
            "command_id": {"type": "string"},
            "gws_status_code": {"type": "integer", "description": "GWS's `statusCode`."},
            "gws_message": {"type": "string"},
            "gws_http_status": {"type": "integer"},
        },
    }


def _cti_reply_schemas() -> dict[str, Any]:
    address = {name: {"type": "string"} for name in ("channel", "topic", "subtopic")}
    return {
        "CtiReply": {
            "type": "object",
            "description": "Seed 001's reply: agent-state requests answer with `subtopic: SetAgentState`, "
            "`message.rules.ButtonStates` and `message.data` (the agent); others with "
            "`message.data.commandId` and `status`.",
            "required": ["channel", "topic", "subtopic", "message"],
            "properties": {**address, "message": {"type": "object"}},
        },
        "CtiError": {
            "type": "object",
            "description": "Seed 001's error: `AGENT_STATE_NOT_FOUND` (422) or "
            "`UPDATE_AGENT_STATE_FAILED` (502, or GWS's refusal status).",
            "required": ["channel", "topic", "subtopic", "error"],
            "properties": {
                **address,
                "error": {
                    "type": "object",
                    "required": ["type", "message", "detail"],
                    "properties": {
                        "type": {
                            "type": "string",
                            "enum": ["AGENT_STATE_NOT_FOUND", "UPDATE_AGENT_STATE_FAILED"],
                        },
                        "message": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
    }


def component_schemas() -> dict[str, Any]:
    """Every component schema of the document, by name."""
    commands = {action_schema_name(a): action_schema(a, spec) for a, spec in ACTIONS.items()}
    branches = {a: _REF.format(model=action_schema_name(a)) for a in ACTIONS}
    return {
        "AgentName": {
            "type": "string",
            "pattern": AGENT_PATTERN,
            "description": "The agent's GWS user name (one of the receiver's `[[agents]]`).",
        },
        "Command": {
            "description": "One command: `action`, for `agent`, with that action's `params`.",
            "oneOf": [{"$ref": ref} for ref in branches.values()],
            "discriminator": {"propertyName": "action", "mapping": branches},
        },
        **commands,
        "CommandRecord": _record_schema(),
        "Problem": _problem_schema(),
        **_cti_reply_schemas(),
        "DeviceList": {
            "type": "object",
            "required": ["agent", "devices"],
            "properties": {
                "agent": {"type": "string"},
                "devices": {"type": "array", "items": schema_ref("Device")},
            },
        },
        **_model_schemas(),
    }
