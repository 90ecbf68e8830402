"""GWS failures, one class per GWS ``statusCode``, and the reply-envelope parser that raises them.

::

    GwsError (bridge/errors.py)
    ├── GwsTransportError            unreachable, timeout, not a GWS reply
    ├── GwsMissingParameterError     statusCode 1
    ├── GwsInvalidParameterError     statusCode 2 (not valid for the current state); HTTP 400
    ├── GwsOperationForbiddenError   statusCode 3
    ├── GwsInternalError             statusCode 4; HTTP 5xx
    │   └── GwsServiceUnavailableError   HTTP 503 ("Voice service is not available at this time")
    ├── GwsPermissionDeniedError     statusCode 5; HTTP 403 (also a missing/stale CSRF token)
    ├── GwsNotFoundError             statusCode 6; HTTP 404
    ├── GwsPartialSuccessError       statusCode 7 (bulk); carries ``succeeded`` / ``failed``
    └── GwsNotAuthenticatedError     statusCode 20; HTTP 401

GWS answers in several envelopes (``/work/shared/gws-quirks.md`` §A): ``{"statusCode": n}``,
``{"status": "ok" | "error"}``, ``{"status": n}``, bare payloads and an empty 200. Values that
are strings (``"0"``) or documentation placeholders (``"an integer value above 0"``) must not
crash the parser: a placeholder code is a failure whose ``status_code`` is ``None``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from bridge.errors import GwsError, GwsTransportError

__all__ = [
    "ERRORS_BY_STATUS_CODE",
    "GwsError",
    "GwsInternalError",
    "GwsInvalidParameterError",
    "GwsMissingParameterError",
    "GwsNotAuthenticatedError",
    "GwsNotFoundError",
    "GwsOperationForbiddenError",
    "GwsPartialSuccessError",
    "GwsPermissionDeniedError",
    "GwsReplyError",
    "GwsServiceUnavailableError",
    "GwsTransportError",
    "error_for_reply",
    "parse_reply",
]

_MESSAGE_KEYS = ("statusMessage", "errorDescription", "description", "errorMessage", "message", "error")
_MESSAGE_LIMIT = 500


class GwsReplyError(GwsError):
    """A failure GWS answered with; ``body`` is the parsed reply (``{}`` when it was not JSON)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        http_status: int | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, http_status=http_status)
        self.body: dict[str, Any] = body if body is not None else {}


class GwsMissingParameterError(GwsReplyError):
    """statusCode 1: a required parameter is missing."""


class GwsInvalidParameterError(GwsReplyError):
    """statusCode 2: a parameter is not valid for the current state (also HTTP 400)."""


class GwsOperationForbiddenError(GwsReplyError):
    """statusCode 3: the operation is forbidden (e.g. the resource already exists)."""


class GwsInternalError(GwsReplyError):
    """statusCode 4: an internal error in GWS or behind it (T-Server, Cassandra, Config Server)."""


class GwsServiceUnavailableError(GwsInternalError):
    """HTTP 503: the service behind GWS (usually T-Server, statusCode 4) is unavailable."""


class GwsPermissionDeniedError(GwsReplyError):
    """statusCode 5 or HTTP 403: no permission, or a missing or stale CSRF token."""


class GwsNotFoundError(GwsReplyError):
    """statusCode 6 or HTTP 404: no such resource (or its feature is disabled)."""


class GwsPartialSuccessError(GwsReplyError):
    """statusCode 7: a bulk request partly failed; ``succeeded`` and ``failed`` are GWS's lists."""

    @property
    def succeeded(self) -> list[Any]:
        value = self.body.get("succeeded")
        return value if isinstance(value, list) else []

    @property
    def failed(self) -> list[Any]:
        value = self.body.get("failed")
        return value if isinstance(value, list) else []


class GwsNotAuthenticatedError(GwsReplyError):
    """statusCode 20 or HTTP 401: the credentials were refused or the session is gone."""


ERRORS_BY_STATUS_CODE: dict[int, type[GwsReplyError]] = {
    1: GwsMissingParameterError,
    2: GwsInvalidParameterError,
    3: GwsOperationForbiddenError,
    4: GwsInternalError,
    5: GwsPermissionDeniedError,
    6: GwsNotFoundError,
    7: GwsPartialSuccessError,
    20: GwsNotAuthenticatedError,
}

_ERRORS_BY_HTTP_STATUS: dict[int, type[GwsReplyError]] = {
    400: GwsInvalidParameterError,
    401: GwsNotAuthenticatedError,
    403: GwsPermissionDeniedError,
    404: GwsNotFoundError,
    503: GwsServiceUnavailableError,
}

# A code that is present but unreadable (a documentation placeholder) still means failure.
_UNKNOWN_FAILURE = -1


def _as_code(value: Any) -> int | None:
    """GWS status value → int; ``None`` when absent, ``_UNKNOWN_FAILURE`` when unreadable."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _UNKNOWN_FAILURE
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.lstrip("-").isdigit():
            return int(text)
    return _UNKNOWN_FAILURE


def _message_of(body: dict[str, Any]) -> str | None:
    for key in _MESSAGE_KEYS:
        value = body.get(key)
        if value is None or value == "":
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        return text[:_MESSAGE_LIMIT]
    return None


def _error_class(status_code: int | None, http_status: int, by_code: bool) -> type[GwsReplyError]:
    if by_code and status_code is not None and status_code in ERRORS_BY_STATUS_CODE:
        if status_code == 4 and http_status == 503:
            return GwsServiceUnavailableError
        return ERRORS_BY_STATUS_CODE[status_code]
    if http_status in _ERRORS_BY_HTTP_STATUS:
        return _ERRORS_BY_HTTP_STATUS[http_status]
    if http_status >= 500:
        return GwsInternalError
    return GwsReplyError


def error_for_reply(
    http_status: int,
    body: dict[str, Any],
    *,
    status_code: int | None,
    context: str,
    by_code: bool = True,
) -> GwsReplyError:
    """Build the exception for a failed reply; ``context`` names the request (``"POST /me/calls/1"``).

    ``by_code=False`` for the ``{"status": n}`` envelope, whose numbers are not the statusCode
    table (catalogue §21): the class then follows the HTTP status only.
    """
    gws_message = _message_of(body)
    message = f"{context}: {gws_message}" if gws_message else f"{context}: GWS request failed"
    cls = _error_class(status_code, http_status, by_code)
    return cls(message, status_code=status_code, http_status=http_status, body=body)


# 19 digits or more may be an integer beyond 64 bits, which orjson reads as a float (or refuses).
_LONG_NUMBER = re.compile(rb"\d{19}")


def _loads(raw: bytes) -> Any:
    if _LONG_NUMBER.search(raw):  # rare in a GWS reply: the exact, slower parser
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def parse_reply(http_status: int, raw: bytes, *, context: str = "GWS request") -> dict[str, Any]:
    """Read one REST reply; return the body on success, raise on failure.

    Success: HTTP 2xx with ``statusCode`` 0, ``status`` ``"ok"`` or 0, a bare payload, or an
    empty body (returned as ``{}``). A JSON value that is not an object is returned as
    ``{"value": …}``.

    Raises a :class:`GwsReplyError` subclass (chosen by statusCode, else by HTTP status) when
    the reply is a failure envelope or the HTTP status is not 2xx; ``status_code`` is the GWS
    code when it was readable. Raises :class:`GwsTransportError` for a 2xx reply that is not
    JSON (a proxy page, a truncated body).
    """
    ok_http = 200 <= http_status < 300
    body: dict[str, Any]
    if not raw.strip():
        body = {}
    else:
        try:
            parsed = _loads(raw)
        except ValueError as exc:
            if ok_http:
                raise GwsTransportError(f"{context}: reply is not JSON", http_status=http_status) from exc
            text = raw[:_MESSAGE_LIMIT].decode("utf-8", "replace").strip()
            body = {"message": text} if text else {}
        else:
            body = parsed if isinstance(parsed, dict) else {"value": parsed}

    status_code: int | None = None
    by_code = True
    failed = not ok_http
    if "statusCode" in body:
        status_code = _as_code(body["statusCode"])
        failed = failed or status_code != 0
    elif "status" in body:
        status = body["status"]
        if isinstance(status, str) and status.strip().lower() in ("ok", "success"):
            status_code = 0
        elif isinstance(status, str) and status.strip().lower() == "error":
            status_code = None
            failed = True
        else:
            status_code = _as_code(status)
            by_code = False
            failed = failed or status_code != 0

    if not failed:
        return body
    if status_code == _UNKNOWN_FAILURE or status_code == 0:
        status_code = None
    raise error_for_reply(http_status, body, status_code=status_code, context=context, by_code=by_code)
