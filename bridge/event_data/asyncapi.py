"""The AsyncAPI 3.0 document of the outbound webhooks, generated from the catalogue.

It describes gws-bridge as an application that *sends*: one channel per
destination kind whose receiver gets the CloudEvents themselves (``webhook``:
an HTTP POST per event, in the CloudEvents structured content mode, signed
the Standard Webhooks way), one message per event type whose payload is that
type's JSON Schema (``./<type>.json`` beside this document), and the
``webhook-*`` headers. Slack, APNs and FCM destinations receive renderings
of the events made for people and phones (docs/slack.md, docs/push.md), not
the events: they are not channels of this contract.
"""

from __future__ import annotations

from typing import Any

from bridge.event_data.catalogue import CONTRACTS
from bridge.event_data.schemas import ENVELOPE_FILE, ENVELOPE_VERSION, schema_file
from bridge.events import STRUCTURED_CONTENT_TYPE, TRACEPARENT_PATTERN, EventType

__all__ = ["ASYNCAPI_FILE", "HEADERS", "asyncapi_document", "contract_version"]

ASYNCAPI_FILE = "asyncapi.json"
_PAYLOAD_FORMAT = "application/schema+json;version=2020-12"
_BASE64 = "[A-Za-z0-9+/]+={0,2}"

#: the request headers of one delivery (names lower case, as sent)
HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["content-type", "webhook-id", "webhook-timestamp"],
    "properties": {
        "content-type": {
            "type": "string",
            "description": f"`{STRUCTURED_CONTENT_TYPE}`, unless the destination's `headers` set another.",
            "examples": [STRUCTURED_CONTENT_TYPE],
        },
        "webhook-id": {
            "type": "string",
            "minLength": 1,
            "description": "The event's `id`, the same on every attempt: deduplicate on it.",
        },
        "webhook-timestamp": {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "Unix seconds when this attempt was signed; refuse it when far from now.",
        },
        "traceparent": {
            "type": "string",
            "pattern": TRACEPARENT_PATTERN,
            "description": "Only with tracing on (`[tracing]`): the W3C trace context of this delivery "
            "attempt, a child of the event's own `traceparent` attribute.",
        },
        "webhook-signature": {
            "type": "string",
            "pattern": f"^v1,{_BASE64}( v1,{_BASE64})*$",
            "description": '`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">` '
            "per `whsec_` secret of the destination, space-separated (rotation); absent only when "
            "the destination has no secret.",
        },
    },
}


def contract_version() -> str:
    """``<envelope>.<type bumps>.0``: grows whenever the envelope or any type's schema version does."""
    bumps = sum(entry.version - 1 for entry in CONTRACTS.values())
    return f"{ENVELOPE_VERSION}.{bumps}.0"


def _message(event_type: EventType) -> dict[str, Any]:
    return {
        "name": event_type.value,
        "title": event_type.value,
        "summary": event_type.meaning + ".",
        "contentType": STRUCTURED_CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/webhookHeaders"},
        "payload": {"schemaFormat": _PAYLOAD_FORMAT, "schema": {"$ref": f"./{schema_file(event_type)}"}},
    }


def _message_key(event_type: EventType) -> str:
    return event_type.value.replace(".", "_")  # component keys allow no dots


def asyncapi_document() -> dict[str, Any]:
    """The whole document (JSON-able), messages in catalogue order."""
    messages = {_message_key(t): _message(t) for t in EventType}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "gws-bridge outbound events",
            "version": contract_version(),
            "description": "The CloudEvents gws-bridge delivers to webhook destinations: one signed "
            "HTTP POST per event (Standard Webhooks), retried until a 2xx (410 disables the "
            "destination). Deduplicate on `webhook-id`; order by `sequence` within (`partitionkey`, "
            f"`subject`). Any event validates against `{ENVELOPE_FILE}`. See docs/consumers.md.",
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "servers": {
            "receiver": {
                "host": "{host}",
                "protocol": "https",
                "description": 'Your endpoint: the `url` of a `kind = "webhook"` destination.',
                "variables": {"host": {"description": "host[:port] of the destination's url"}},
            }
        },
        "channels": {
            "webhook": {
                "address": None,  # the path of each destination's url
                "title": "webhook destinations",
                "description": "Every event a destination's routes select, one POST each.",
                "servers": [{"$ref": "#/servers/receiver"}],
                "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in messages},
            }
        },
        "operations": {
            "deliverEvent": {
                "action": "send",
                "channel": {"$ref": "#/channels/webhook"},
                "summary": "POST one event; any 2xx acknowledges it.",
                "bindings": {"http": {"method": "POST"}},
                "messages": [{"$ref": f"#/channels/webhook/messages/{key}"} for key in messages],
            }
        },
        "components": {"schemas": {"webhookHeaders": HEADERS}, "messages": messages},
    }
