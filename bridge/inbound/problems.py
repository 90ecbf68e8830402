"""RFC 9457 ``application/problem+json`` bodies for every refusal the receiver gives.

A problem never carries a secret: details name the field or the rule that
failed, never a key, a signature or a password.

:data:`PROBLEM_KINDS` lists every ``type`` the receiver answers with (a kind is
the last segment of the URI); the OpenAPI document is generated from it, and
tests/unit/inbound/test_problem_kinds.py fails on a ``Problem`` whose kind is
not listed there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bridge.errors import CommandError, GwsError, GwsTransportError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_KINDS",
    "PROBLEM_TYPE_BASE",
    "Problem",
    "ProblemKind",
    "default_kind",
    "log_refusal",
    "problem_for_command_error",
    "problem_for_gws_error",
]

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gws-bridge.dev/problems/"

_TITLES = {
    400: "Malformed request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid command",
    429: "Too many requests",
    502: "GWS refused or failed the operation",
    503: "Service unavailable",
    504: "GWS did not answer in time",
}


@dataclass(frozen=True)
class ProblemKind:
    """One kind of refusal: ``type`` is :data:`PROBLEM_TYPE_BASE` + ``name``, answered with ``statuses``."""

    name: str
    statuses: tuple[int, ...]
    meaning: str


PROBLEM_KINDS: dict[str, ProblemKind] = {
    kind.name: kind
    for kind in (
        ProblemKind("malformed-body", (400,), "the body is not a JSON object, or could not be read"),
        ProblemKind("malformed-request", (400,), "the body is not JSON (device registry)"),
        ProblemKind("bad-idempotency-key", (400,), "`Idempotency-Key` is not 1-255 visible ASCII characters"),
        ProblemKind("bad-request", (400,), "a Slack request without its form fields"),
        ProblemKind("unauthorized", (401,), "no, a wrong or a replayed credential; `detail` says which"),
        ProblemKind("forbidden", (403,), "this client may not act for this agent"),
        ProblemKind("not-found", (404,), "no such resource, or not this client's"),
        ProblemKind("method-not-allowed", (405,), "another method is expected (`Allow` names it)"),
        ProblemKind(
            "conflict", (409,), "the command cannot be performed now (e.g. the agent has no voice device)"
        ),
        ProblemKind("in-progress", (409,), "a request with this `Idempotency-Key` is still being performed"),
        ProblemKind("body-too-large", (413,), "the body exceeds `inbound.max_body_bytes`"),
        ProblemKind("request-body-too-large", (413,), "the body exceeds the device registry's 16 KiB"),
        ProblemKind("unsupported-media-type", (415,), "not `application/json` in UTF-8"),
        ProblemKind(
            "invalid-command",
            (422,),
            "the body, the action, its params or the agent are invalid: see `errors`",
        ),
        ProblemKind("idempotency-key-reused", (422,), "this `Idempotency-Key` was used for another command"),
        ProblemKind("invalid-device", (422,), "the device registration is invalid: see `errors`"),
        ProblemKind(
            "rate-limited", (429,), "the client's rate limit is exceeded (`Retry-After` says when to retry)"
        ),
        ProblemKind(
            "gws-error",
            (403, 404, 409, 422, 502, 504),
            "GWS refused or failed the operation (`gws_status_code`, `gws_message`, `gws_http_status`)",
        ),
        ProblemKind("internal-error", (500,), "a bug in the receiver (logged with its traceback)"),
        ProblemKind("store-unavailable", (503,), "the receiver's state store (Redis) is unavailable"),
    )
}


def default_kind(status: int) -> str:
    """The kind of a :class:`Problem` raised without one: its status's title, in lower-case-with-dashes."""
    return _TITLES.get(status, "error").lower().replace(" ", "-")


# GWS statusCode -> HTTP status the receiver answers with (the GWS code travels in the body).
_GWS_HTTP = {1: 422, 2: 409, 3: 403, 5: 403, 6: 404, 10: 422, 11: 422, 18: 409, 19: 409}


class Problem(Exception):
    """A refusal; ``body()`` is the RFC 9457 document, ``headers`` extra response headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or default_kind(status)
        self.headers = headers or {}
        self.extensions = {k: v for k, v in extensions.items() if v is not None}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document (``type``, ``title``, ``status``, ``detail``, extensions)."""
        document: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.kind,
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            document["instance"] = instance
        document.update(self.extensions)
        return document


def problem_for_command_error(exc: CommandError, **extensions: Any) -> Problem:
    """A :class:`Problem` for an invalid or refused command (its ``status`` and field ``errors``)."""
    return Problem(exc.status, str(exc), errors=exc.errors or None, **extensions)


def problem_for_gws_error(exc: GwsError, **extensions: Any) -> Problem:
    """A :class:`Problem` carrying GWS's statusCode and message (``gws_status_code``, ``gws_message``)."""
    if isinstance(exc, GwsTransportError):
        status = 504 if "no reply within" in exc.message or "timeout" in exc.message.lower() else 502
    elif exc.status_code is not None:
        status = _GWS_HTTP.get(exc.status_code, 502)
    else:
        status = 502
    return Problem(
        status,
        f"GWS: {exc.message}",
        kind="gws-error",
        gws_status_code=exc.status_code,
        gws_message=exc.message,
        gws_http_status=exc.http_status,
        **extensions,
    )


def log_refusal(problem: Problem, method: str, path: str) -> None:
    """One WARNING line for a refused request: status, kind, method and path — no body, no headers.

    A refusal is the client's (or GWS's) doing, not the bridge's: no traceback.
    """
    logger.warning(
        "request refused",
        extra={"status": problem.status, "kind": problem.kind, "method": method[:16], "path": path[:200]},
    )
