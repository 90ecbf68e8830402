"""Connectors: one module per outside system, each registered by ``kind``.

A connector is a small class with one job (see :class:`Connector`): it sends
one event and raises :class:`~bridge.errors.RetryableDeliveryError` or
:class:`~bridge.errors.PermanentDeliveryError` when it cannot. It never
retries by itself and knows nothing about Celery; the delivery layer decides.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar

from bridge.errors import ConfigError
from bridge.events import Event

__all__ = ["Connector", "connector_class", "parse_retry_after", "register_connector"]

# kind -> module that registers it; imported on first use
_BUILTIN_MODULES = {
    "webhook": "connectors.webhook",
    "console": "connectors.console",
    "slack": "connectors.slack",
    "apns": "connectors.push.apns",
    "fcm": "connectors.push.fcm",
}
_REGISTRY: dict[str, type[Any]] = {}


class Connector(Protocol):
    """What the delivery layer needs from a destination."""

    kind: str

    async def send(self, event: Event) -> int | None:
        """Deliver one event; raise a ``DeliveryError`` subclass on failure.

        May return the receiver's HTTP status (shown in the operator console)."""

    async def aclose(self) -> None:
        """Release connections; the connector is not used afterwards."""


C = TypeVar("C")


def register_connector(kind: str) -> Callable[[type[C]], type[C]]:
    """Class decorator: make ``cls`` the connector for destinations of ``kind``."""

    def decorate(cls: type[C]) -> type[C]:
        _REGISTRY[kind] = cls
        cls.kind = kind  # type: ignore[attr-defined]
        return cls

    return decorate


def connector_class(kind: str) -> type[Any]:
    """The connector class for ``kind``; raises ``ConfigError`` naming the known kinds."""
    if kind not in _REGISTRY and kind in _BUILTIN_MODULES:
        try:
            importlib.import_module(_BUILTIN_MODULES[kind])
        except ModuleNotFoundError as exc:
            raise ConfigError(f"connector kind {kind!r} is not available: {exc}") from exc
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(set(_REGISTRY) | set(_BUILTIN_MODULES)))
        raise ConfigError(f"unknown destination kind {kind!r}; known kinds: {known}") from None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta-seconds or HTTP-date); ``None`` if absent/unreadable.

    Connectors put it in ``RetryableDeliveryError(retry_after=…)`` on 429 and 503.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)
