"""How an operation becomes a request (re-exported from :mod:`bridge.gws.operations.request`),
and lists read out of replies whatever their shape."""

from __future__ import annotations

from typing import Any

from bridge.gws.operations.request import operation_body, phone_number, segment

__all__ = ["Reply", "items_of", "operation_body", "phone_number", "segment"]

Reply = dict[str, Any]


def items_of(reply: Reply, key: str) -> list[dict[str, Any]]:
    """The objects listed under ``key``; a singular object becomes a one-item list (quirk A8)."""
    value = reply.get(key)
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]
