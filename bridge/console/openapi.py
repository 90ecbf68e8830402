"""The admin API's OpenAPI 3.1 document (served at ``GET /v1/admin/openapi.json``)."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_PROBLEM = {"$ref": "#/components/responses/Problem"}
_OBJ: dict[str, Any] = {"type": "object"}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "200": {"description": description, "content": {"application/json": {"schema": schema or _OBJ}}},
        "400": _PROBLEM,
        "401": _PROBLEM,
        "403": _PROBLEM,
    }


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind},
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _operator(summary: str, description: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "description": description + " Operator keys only; a browser session sends X-CSRF-Token.",
        "responses": {**_ok("done"), "404": _PROBLEM},
        "parameters": [{"$ref": "#/components/parameters/csrf"}],
    }
    if body is not None:
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return operation


_ATTEMPT = {
    "type": "object",
    "properties": {
        "destination": {"type": "string"},
        "attempt": {"type": "integer"},
        "at": {"type": "number", "description": "Unix seconds the attempt began"},
        "outcome": {"enum": ["delivered", "retry", "dead"]},
        "latency_ms": {"type": "number"},
        "status": {"type": ["integer", "null"], "description": "the receiver's HTTP status"},
        "error": {"type": ["string", "null"]},
        "response_excerpt": {"type": ["string", "null"], "description": "start of a failed answer"},
    },
}
_EVENT = {
    "type": "object",
    "properties": {
        "event_id": {"type": "string", "description": "also the webhook-id"},
        "type": {"type": "string"},
        "subject": {"type": "string"},
        "agent": {"type": "string"},
        "time": {"type": "string"},
        "sequence": {"type": "string"},
        "event": {"type": "object", "description": "the CloudEvent, masked keys as ••••"},
        "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}},
        "outcome": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_FILTER = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "ids": {"type": "array", "items": {"type": "string"}},
        "destination": {"type": "string"},
        "since": {"type": ["string", "number"], "description": "ISO 8601, Unix seconds or an age (15m)"},
        "until": {"type": ["string", "number"]},
        "limit": {"type": "integer", "minimum": 1},
        "all": {"type": "boolean", "description": "required to act on every letter with no filter"},
        "dry_run": {"type": "boolean", "description": "only count what would be done; change nothing"},
    },
}


def openapi_document() -> dict[str, Any]:
    """The document; the tests validate it with openapi-spec-validator and check every route is in it."""
    search = [
        _query("call_id", "events of this call"),
        _query("interaction_id", "events of this interaction"),
        _query("agent", "events of this agent"),
        _query("type", "event type, or a prefix ending in * (call.*)"),
        _query("webhook_id", "the event id a receiver saw in webhook-id"),
        _query("subject", "call/<id>, interaction/<id>, agent/<name>, …"),
        _query("destination", "attempts to this destination"),
        _query("limit", "most events (1-500, default 50)", "integer"),
    ]
    letters = [
        _query("destination", "only this destination's letters"),
        _query("since", "died at or after (ISO 8601, Unix seconds, or an age such as 15m)"),
        _query("until", "died at or before"),
        _query("limit", "at most this many", "integer"),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "gws-bridge console admin API",
            "version": "1.0.0",
            "description": (
                "What the operator console shows and does. Authenticate with a session cookie "
                "(POST /v1/admin/session) or Authorization: Bearer <admin key>. Viewer keys read; "
                "operator keys also replay, purge, enable, disable and send test events."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/v1/admin/session": {
                "post": {
                    "summary": "Sign in with an admin key; sets the HttpOnly, SameSite=Strict session cookie",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["key"],
                                    "properties": {"key": {"type": "string"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        **_ok("the session", {"$ref": "#/components/schemas/Session"}),
                        "401": _PROBLEM,
                        "429": {
                            "description": "too many sign-in attempts from this address or with this key",
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds to wait.",
                                    "schema": {"type": "integer"},
                                }
                            },
                            "content": {"application/problem+json": {"schema": _OBJ}},
                        },
                    },
                },
                "get": {
                    "summary": "Who is signed in, and the CSRF token",
                    "responses": _ok("the session", {"$ref": "#/components/schemas/Session"}),
                },
                "delete": {
                    "summary": "Sign out",
                    "parameters": [{"$ref": "#/components/parameters/csrf"}],
                    "responses": {"204": {"description": "signed out"}, "401": _PROBLEM, "403": _PROBLEM},
                },
            },
            "/v1/admin/openapi.json": {"get": {"summary": "This document", "responses": _ok("OpenAPI 3.1")}},
            "/v1/admin/overview": {
                "get": {
                    "summary": "Agents, events/s, deliveries/s, failures, DLQ size, 15-minute series, queues",
                    "responses": _ok("overview"),
                }
            },
            "/v1/admin/agents": {
                "get": {
                    "summary": "Every configured agent: lease holder, session state, last event",
                    "responses": _ok("agents"),
                }
            },
            "/v1/admin/agents/{name}": {
                "get": {
                    "summary": "One agent: status, current state, calls and interactions, recent events",
                    "parameters": [_path("name", "agent user name")],
                    "responses": {**_ok("the agent"), "404": _PROBLEM},
                }
            },
            "/v1/admin/events": {
                "get": {
                    "summary": "Search the recorded events; each with its delivery attempts per destination",
                    "parameters": search,
                    "responses": _ok(
                        "events, newest first",
                        {
                            "type": "object",
                            "properties": {
                                "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}
                            },
                        },
                    ),
                }
            },
            "/v1/admin/timeline": {
                "get": {
                    "summary": "A call's or interaction's events in sequence order, with their attempts",
                    "parameters": [{**_query("subject", "call/<id> or interaction/<id>"), "required": True}],
                    "responses": _ok("the timeline"),
                }
            },
            "/v1/admin/destinations": {
                "get": {
                    "summary": "Health, disabled and why, retries, success rate and latency lately",
                    "parameters": [
                        _query("minutes", "window for the recent figures (1-60, default 15)", "integer")
                    ],
                    "responses": _ok("destinations"),
                }
            },
            "/v1/admin/destinations/{name}/enable": {
                "post": {
                    **_operator(
                        "Enable a destination",
                        "Forget its failures, resend parked events, kick ordered subjects.",
                    ),
                    "parameters": [_path("name", "destination"), {"$ref": "#/components/parameters/csrf"}],
                }
            },
            "/v1/admin/destinations/{name}/disable": {
                "post": {
                    **_operator(
                        "Disable a destination",
                        "Its deliveries are parked until it is enabled.",
                        {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}},
                    ),
                    "parameters": [_path("name", "destination"), {"$ref": "#/components/parameters/csrf"}],
                }
            },
            "/v1/admin/destinations/{name}/test": {
                "post": {
                    **_operator(
                        "Send a destination.test event", "Delivered by the worker like any other event."
                    ),
                    "parameters": [_path("name", "destination"), {"$ref": "#/components/parameters/csrf"}],
                }
            },
            "/v1/admin/dead-letters": {
                "get": {
                    "summary": "Dead letters, oldest first",
                    "parameters": letters,
                    "responses": _ok("dead letters"),
                }
            },
            "/v1/admin/dead-letters/{id}": {
                "get": {
                    "summary": "One dead letter with its event and attempt log",
                    "parameters": [_path("id", "<destination>:<event id>")],
                    "responses": {**_ok("the letter"), "404": _PROBLEM},
                }
            },
            "/v1/admin/dead-letters/replay": {
                "post": _operator(
                    "Replay dead letters", "One, by filter, or all (as gws-bridge dlq replay).", _FILTER
                )
            },
            "/v1/admin/dead-letters/purge": {
                "post": _operator(
                    "Purge dead letters", "One, by filter, or all (as gws-bridge dlq purge).", _FILTER
                )
            },
            "/v1/admin/commands": {
                "get": {
                    "summary": "Recent commands: client, agent, action, status, GWS outcome",
                    "parameters": [
                        _query("agent", "only this agent"),
                        _query("client", "only this client"),
                        _query("limit", "1-1000", "integer"),
                    ],
                    "responses": _ok("commands"),
                }
            },
            "/v1/admin/audit": {
                "get": {
                    "summary": "Operator actions, newest first, with who did them",
                    "parameters": [_query("limit", "1-1000", "integer")],
                    "responses": _ok("actions"),
                }
            },
            "/v1/admin/stream": {
                "get": {
                    "summary": "Live delivery attempts (Server-Sent Events: hello, attempt, skipped, ping)",
                    "responses": {
                        "200": {
                            "description": "an event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "401": _PROBLEM,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an admin API key"},
                "session": {"type": "apiKey", "in": "cookie", "name": "gwsb_console"},
            },
            "parameters": {
                "csrf": {
                    "name": "X-CSRF-Token",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "the session's CSRF token (required with the session cookie)",
                }
            },
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem",
                    "content": {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "field": {"type": "string"},
                    },
                },
                "Session": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "role": {"enum": ["viewer", "operator"]},
                        "csrf": {"type": ["string", "null"]},
                    },
                },
                "Attempt": _ATTEMPT,
                "Event": _EVENT,
            },
        },
    }
