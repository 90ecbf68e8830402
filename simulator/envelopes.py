"""Reply envelopes: which success and failure shape each operation uses, and HTTP statuses.

GWS uses four families (gws-catalogue §0): ``{"statusCode": 0}`` (S0), ``{"status": "ok"}`` (OK),
``{"status": 0}`` (N0) and bare payloads; failures are ``{"statusCode": n, "statusMessage": …}``
(SE), ``{"status": "error", "errorDescription": …}`` (ERR) or ``{"status": n, "description": …}``
(NE). An operation raises :class:`OperationError`; the handler renders it in the family of the
operation that failed.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["HTTP_STATUS", "Envelope", "OperationError", "failure_body", "success_body"]

# statusCode -> HTTP status (002:3458-3490; 503 for an unavailable voice service, 002:1839)
HTTP_STATUS: dict[int, int] = {0: 200, 1: 400, 2: 400, 3: 403, 4: 500, 5: 403, 6: 404, 7: 200}


class Envelope(str, Enum):
    S0 = "statusCode"  # {"statusCode": 0} / {"statusCode": n, "statusMessage": …}
    OK = "status-ok"  # {"status": "ok"} / {"status": "error", "errorDescription": …}
    N0 = "status-0"  # {"status": 0} / {"statusCode": n, "statusMessage": …} (quirk A3)


class OperationError(Exception):
    """A synchronous refusal: GWS ``statusCode`` (1..7) and message; ``http_status`` overrides the map."""

    def __init__(self, status_code: int, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status if http_status is not None else HTTP_STATUS.get(status_code, 400)


def success_body(envelope: Envelope, **extra: Any) -> dict[str, Any]:
    """The success body of ``envelope`` with ``extra`` attributes appended (e.g. ``uri``)."""
    if envelope is Envelope.S0:
        body: dict[str, Any] = {"statusCode": 0}
    elif envelope is Envelope.OK:
        body = {"status": "ok"}
    else:
        body = {"status": 0}
    body.update(extra)
    return body


def failure_body(envelope: Envelope, error: OperationError) -> dict[str, Any]:
    """The failure body matching ``envelope`` (OK → ERR, S0 and N0 → SE)."""
    if envelope is Envelope.OK:
        return {"status": "error", "errorDescription": error.message}
    return {"statusCode": error.status_code, "statusMessage": error.message}
