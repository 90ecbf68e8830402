"""RFC 9457 ``application/problem+json`` bodies for every refusal the receiver gives.

A problem never carries a secret: details name the field or the rule that
failed, never a key, a signature or a password.
"""

from __future__ import annotations

import logging
from typing import Any

from bridge.errors import CommandError, GwsError, GwsTransportError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "Problem",
    "log_refusal",
    "problem_for_command_error",
    "problem_for_gws_error",
]

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "https://gws-bridge.dev/problems/"

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
        self.kind = kind or _TITLES.get(status, "error").lower().replace(" ", "-")
        self.headers = headers or {}
        self.extensions = {k: v for k, v in extensions.items() if v is not None}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document (``type``, ``title``, ``status``, ``detail``, extensions)."""
        document: dict[str, Any] = {
            "type": _TYPE_BASE + self.kind,
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
