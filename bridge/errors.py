"""One exception tree for gws-bridge.

::

    BridgeError
    ├── ConfigError                 a configuration file or value is invalid
    ├── GwsError                    GWS refused or failed an operation (status_code 0..7)
    │   ├── GwsTransportError       GWS could not be reached, or answered garbage
    │   └── … one subclass per GWS statusCode (see bridge/gws/rest.py)
    ├── DeliveryError               a connector could not deliver an event
    │   ├── RetryableDeliveryError  try again later (optionally after ``retry_after`` seconds)
    │   └── PermanentDeliveryError  never try again; dead-letter the event
    ├── NormalizationError          a wire message is not JSON at all
    ├── StateStoreError             last-known state could not be read or written (bridge.gws.state_store)
    │   ├── StaleStateError         another subscriber took the agent over; this one must stop
    │   └── MasterChangedError      a save reached a new Redis master (failover): hand on again
    └── CommandError                an inbound command is invalid or not allowed

Library exceptions (aiohttp, aiocometd, redis, celery) are translated at the
boundary with ``raise … from exc``. Messages name what failed and with which
input, never a secret.
"""

from __future__ import annotations

__all__ = [
    "BridgeError",
    "CommandError",
    "ConfigError",
    "DeliveryError",
    "GwsError",
    "GwsTransportError",
    "NormalizationError",
    "PermanentDeliveryError",
    "RetryableDeliveryError",
]


class BridgeError(Exception):
    """Root of every error gws-bridge raises on purpose."""


class ConfigError(BridgeError):
    """Configuration is invalid; the message says where and why."""


class GwsError(BridgeError):
    """GWS answered with a failure.

    ``status_code`` is the GWS statusCode (0..7; ``None`` when the reply had
    none), ``http_status`` the HTTP status of the reply, ``message`` GWS's
    own text (``statusMessage`` / ``errorDescription`` / ``description`` /
    ``errorMessage``).
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.append(f"statusCode={self.status_code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        return " ".join(parts)


class GwsTransportError(GwsError):
    """GWS could not be reached (connection refused, timeout) or sent a non-GWS reply."""


class DeliveryError(BridgeError):
    """A connector failed to deliver an event.

    ``status`` (the receiver's HTTP status) and ``excerpt`` (the start of its answer) are shown
    in the operator console; neither may hold a secret.
    """

    def __init__(self, message: str, *, status: int | None = None, excerpt: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.excerpt = excerpt


class RetryableDeliveryError(DeliveryError):
    """Delivery failed in a way worth retrying; ``retry_after`` (seconds) overrides the schedule."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = None, excerpt: str = ""
    ) -> None:
        super().__init__(message, status=status, excerpt=excerpt)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Delivery can never succeed as is (e.g. HTTP 410); the event is dead-lettered."""

    def __init__(
        self, message: str, *, disable_destination: bool = False, status: int | None = None, excerpt: str = ""
    ) -> None:
        super().__init__(message, status=status, excerpt=excerpt)
        self.disable_destination = disable_destination


class NormalizationError(BridgeError):
    """A wire message could not be read as JSON at all."""


class CommandError(BridgeError):
    """An inbound command is invalid, unknown or not allowed.

    ``status`` is the HTTP status the receiver answers with (400, 401, 403, 422, …).
    """

    def __init__(self, message: str, *, status: int = 422, errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors or []
