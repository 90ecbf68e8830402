"""How an operation becomes a request: escaped path segments, bodies without ``None`` values,
and lists read out of replies whatever their shape."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

__all__ = ["Reply", "items_of", "operation_body", "phone_number", "segment"]

Reply = dict[str, Any]


def segment(value: str) -> str:
    """One path segment; ids come from outside (commands), so they are escaped. ValueError if empty."""
    if not value:
        raise ValueError("an id in a GWS path must not be empty")
    return quote(str(value), safe="")


def operation_body(operation_name: str, **params: Any) -> dict[str, Any]:
    """``{"operationName": …, **params}`` without the parameters that are ``None``."""
    body: dict[str, Any] = {"operationName": operation_name}
    body.update({key: value for key, value in params.items() if value is not None})
    return body


def phone_number(destination: str) -> dict[str, str]:
    """A call destination as GWS 8.5.2 wants it: ``{"phoneNumber": …}``."""
    return {"phoneNumber": destination}


def items_of(reply: Reply, key: str) -> list[dict[str, Any]]:
    """The objects listed under ``key``; a singular object becomes a one-item list (quirk A8)."""
    value = reply.get(key)
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]
