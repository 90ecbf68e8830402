"""Reading an operation's parameters from a request body, as GWS checks them (OperationError 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.envelopes import OperationError
from simulator.model import Call, User
from simulator.voice import VoiceEngine

__all__ = ["CallOperation", "merged_user_data", "require", "require_destination", "user_data_of"]

#: One operation on a call: ``(engine, user, call, body)``; publishes what it changed.
CallOperation = Callable[[VoiceEngine, User, Call, dict[str, Any]], None]


def require(body: dict[str, Any], name: str) -> Any:
    """``body[name]``; OperationError 1 when missing or empty."""
    value = body.get(name)
    if value is None or value == "" or value == {}:
        raise OperationError(1, f"Required parameter '{name}' is missing")
    return value


def require_destination(body: dict[str, Any]) -> str:
    """``destination.phoneNumber`` (an object, quirk D10; a bare string is tolerated)."""
    destination = require(body, "destination")
    if isinstance(destination, dict):
        number = destination.get("phoneNumber")
        if not number:
            raise OperationError(1, "Required parameter 'destination.phoneNumber' is missing")
        return str(number)
    return str(destination)


def user_data_of(body: dict[str, Any], *, required: bool = False) -> dict[str, Any] | None:
    """``body["userData"]`` (``None`` when absent); OperationError 1 when it is not an object."""
    value = require(body, "userData") if required else body.get("userData")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise OperationError(1, "Parameter 'userData' must be an object")
    return value


def merged_user_data(call: Call, extra: dict[str, Any] | None) -> dict[str, Any] | None:
    """The call's user data with ``extra`` over it."""
    if not extra:
        return call.user_data
    return {**(call.user_data or {}), **extra}
