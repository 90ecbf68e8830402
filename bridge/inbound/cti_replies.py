"""The replies of the CTI dialect, in seed 001's shapes: agent-state replies and errors.

An agent-state reply carries ``subtopic: SetAgentState``, ``message.rules.ButtonStates``,
``message.data`` (the agent), ``event`` and ``source``; an error carries the seed's codes,
``AGENT_STATE_NOT_FOUND`` or ``UPDATE_AGENT_STATE_FAILED``. Pure: what they show is passed in.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from bridge.commands import Command
from bridge.inbound.http import InboundResponse

__all__ = [
    "AGENT_STATE_NOT_FOUND",
    "UPDATE_AGENT_STATE_FAILED",
    "CtiAddress",
    "CtiError",
    "button_states",
    "error_reply",
    "state_reply",
]


class CtiAddress(Protocol):
    """What a reply echoes of its request (a :class:`~bridge.inbound.cti.CtiEnvelope`)."""

    channel: str
    topic: str
    subtopic: str


AGENT_STATE_NOT_FOUND = ("AGENT_STATE_NOT_FOUND", "Specified Agent State not found.")
UPDATE_AGENT_STATE_FAILED = ("UPDATE_AGENT_STATE_FAILED", "Agent state change failed.")


class CtiError(Exception):
    """A refusal in the seed's shape: HTTP ``status``, the seed's error ``code``, a ``detail``."""

    def __init__(self, status: int, code: tuple[str, str], detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.extra = {k: v for k, v in extra.items() if v is not None}


def _iso(epoch: float | None = None) -> str:
    epoch = time.time() if epoch is None else epoch
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def _amazon_state(state: str | None) -> tuple[str, str]:
    if state == "Ready":
        return "Ready", "routable"
    if state == "NotReady":
        return "Not_Ready", "not_routable"
    return "Offline", "offline"


def button_states(device: dict[str, Any], calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The seed's ``ButtonStates`` from the agent's device state and calls (GWS capabilities)."""
    user_state = device.get("userState") or {}
    logged_in = user_state.get("state") in {"Ready", "NotReady"}
    active = device.get("deviceState", "Active") == "Active"
    muted = any(call.get("mute") == "On" for call in calls if call.get("state") != "Released")
    items = {
        "NotReady": "Enable" if logged_in else "Hide",
        "Ready": ("Disable" if user_state.get("state") == "Ready" else "Enable") if logged_in else "Hide",
        "make_call": "Enable" if logged_in and active else "Disable",
        "mute": "Hide" if muted else "Enable",
        "unmute": "Enable" if muted else "Hide",
    }
    return {"items": items, "count": len(items)}


def state_reply(
    envelope: CtiAddress,
    command: Command,
    user: dict[str, Any],
    device: dict[str, Any],
    calls: list[dict[str, Any]],
) -> dict[str, Any]:
    """The seed's agent-state reply: ``subtopic: SetAgentState``, ``message.rules.ButtonStates`` and
    ``message.data`` (the agent), from the confirming device state and the agent's calls."""
    user_state = device.get("userState") or {}
    state, kind = _amazon_state(user_state.get("state"))
    name = str(user_state.get("displayName") or user_state.get("reason") or user_state.get("state") or state)
    now = _iso()
    full_name = " ".join(str(user.get(k)) for k in ("firstName", "lastName") if user.get(k)) or command.agent
    data: dict[str, Any] = {
        "muted": any(call.get("mute") == "On" for call in calls if call.get("state") != "Released"),
        "name": full_name,
        "extension": str(device.get("phoneNumber") or ""),
        "loginName": command.agent,
        "softphoneEnabled": bool(device),
        "state": state,
        "reasonCode": {"id": user_state.get("reason") or user_state.get("displayName") or name},
        "stateChangeTime": now,
        "type": kind,
    }
    rules = {
        "ButtonStates": button_states(device, calls),
        "ResponseActual": {"agentStateARN": None, "type": kind, "name": name, "startTimestamp": now},
    }
    return {
        "channel": envelope.channel,
        "topic": envelope.topic,
        "subtopic": "SetAgentState",
        "message": {
            "rules": rules,
            "data": data,
            "event": name,
            "source": "event",
            "commandId": command.id,
        },
    }


def error_reply(envelope: CtiAddress, error: CtiError) -> InboundResponse:
    """The seed's error envelope for ``error``, echoing the request's channel/topic/subtopic."""
    document = {
        "channel": envelope.channel,
        "topic": envelope.topic,
        "subtopic": envelope.subtopic,
        "error": {"type": error.code[0], "message": error.code[1], "detail": error.detail, **error.extra},
    }
    return InboundResponse.json(error.status, document)
