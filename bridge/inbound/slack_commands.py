"""Slack chatops grammar: slash-command text and button clicks into command intents (pure).

::

    /agent ready | notready [reason] | dnd on|off | status | help
    /dispo <disposition> [call]      (quote a disposition with spaces: /dispo "Sale made" 00710…)

Button clicks come from the bridge's own messages (``connectors/slack_blocks.py``): their
``action_id`` names the action and their ``value`` (a menu's selected option's) the agent (and
call). :data:`SLACK_ACTIONS` says which command action each Slack gesture runs (docs/commands.md's
operation table shows it); the parsers below take their actions from it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import orjson

from connectors.slack_blocks import (
    ACTION_DISPOSITION,
    ACTION_HOLD,
    ACTION_NOT_READY,
    ACTION_READY,
    ACTION_RETRIEVE,
    ACTION_TRANSFER,
)

__all__ = [
    "SLACK_ACTIONS",
    "SlackIntent",
    "SlackUsageError",
    "parse_agent_text",
    "parse_block_action",
    "parse_dispo_text",
]

# Each Slack gesture → the command action it runs (the one place that says so).
SLACK_ACTIONS: dict[str, str] = {
    "`/agent ready`": "agent.ready",
    "`/agent notready [reason]`": "agent.not_ready",
    "`/agent dnd on|off`": "agent.dnd",
    "`/dispo`": "call.set_disposition",
    "Ready button": "agent.ready",
    "Not Ready button": "agent.not_ready",
    "disposition button": "call.set_disposition",
    "Hold button": "call.hold",
    "Retrieve button": "call.retrieve",
    "Transfer menu": "call.transfer",
    "thread reply": "chat.send_message",
}
_A = SLACK_ACTIONS

# A trailing token is a call reference when it looks like a GWS call id (hex) or UUID: 12+ letters
# and digits with at least one digit; dispositions are words.
_CALL_REF = re.compile(r"^(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{12,64}$")
_NOT_READY = {"notready", "not-ready", "not_ready", "nr"}

AGENT_HELP = "Usage: `/agent ready`, `/agent notready [reason]`, `/agent dnd on|off`, `/agent status`"
DISPO_HELP = 'Usage: `/dispo <disposition> [call id]` (quote names with spaces: `/dispo "Sale made"`)'


class SlackUsageError(ValueError):
    """The text is not a command; ``str(exc)`` is the help to show the user (ephemeral)."""


@dataclass(frozen=True)
class SlackIntent:
    """What a Slack user asked for: a command ``action`` with ``params``, or ``status`` (a read).

    ``call_id`` is the call the intent is about; for a disposition ``params`` lacks it until it is
    resolved (None: the agent's current call). ``for_agent`` is the agent a button targets.
    """

    action: str | None
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    call_id: str | None = None
    for_agent: str | None = None

    @property
    def is_disposition(self) -> bool:
        return self.action == _A["`/dispo`"]


def parse_agent_text(text: str) -> SlackIntent:
    """The intent of ``/agent <text>``; raises :class:`SlackUsageError` with the help text."""
    words = text.split()
    if not words or words[0].lower() == "help":
        raise SlackUsageError(AGENT_HELP)
    verb, rest = words[0].lower(), words[1:]
    if verb == "not" and rest and rest[0].lower() == "ready":
        verb, rest = "notready", rest[1:]
    if verb == "ready" and not rest:
        return SlackIntent(_A["`/agent ready`"], summary="Ready")
    if verb in _NOT_READY:
        reason = " ".join(rest).strip()
        if len(reason) > 256:
            raise SlackUsageError("The reason is too long (256 characters at most).")
        params = {"reason": reason} if reason else {}
        return SlackIntent(
            _A["`/agent notready [reason]`"], params, summary=f"Not Ready{f' ({reason})' if reason else ''}"
        )
    if verb == "dnd" and len(rest) == 1 and rest[0].lower() in {"on", "off"}:
        on = rest[0].lower() == "on"
        return SlackIntent(
            _A["`/agent dnd on|off`"], {"on": on}, summary=f"do-not-disturb {'on' if on else 'off'}"
        )
    if verb == "status" and not rest:
        return SlackIntent(None, summary="status")
    raise SlackUsageError(AGENT_HELP)


def parse_dispo_text(text: str) -> SlackIntent:
    """The intent of ``/dispo <text>``; raises :class:`SlackUsageError` with the help text."""
    try:
        tokens = shlex.split(text)
    except ValueError:
        raise SlackUsageError(DISPO_HELP) from None
    call_id = None
    if len(tokens) >= 2 and _CALL_REF.match(tokens[-1]):
        call_id = tokens.pop()
    disposition = " ".join(tokens).strip()
    if not disposition or disposition.lower() == "help" or len(disposition) > 256:
        raise SlackUsageError(DISPO_HELP)
    return SlackIntent(
        _A["`/dispo`"], {"disposition": disposition}, summary=f"disposition {disposition}", call_id=call_id
    )


def _value_of(action: dict[str, Any]) -> dict[str, Any] | None:
    option = action.get("selected_option")  # a menu's choice carries the value
    raw = action.get("value") if action.get("value") is not None else (option or {}).get("value")
    try:
        value = orjson.loads(str(raw or ""))
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("agent"), str):
        return None
    return value


def _call_intent(gesture: str, value: dict[str, Any], summary: str, **params: Any) -> SlackIntent | None:
    call_id = value.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        return None
    return SlackIntent(
        _A[gesture],
        {"call_id": call_id, **params},
        summary=summary,
        call_id=call_id,
        for_agent=value["agent"],
    )


def parse_block_action(payload: dict[str, Any]) -> SlackIntent | None:
    """The intent of a ``block_actions`` click on one of our buttons or menus (None for anything else)."""
    actions = payload.get("actions")
    if payload.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None
    action = actions[0] if isinstance(actions[0], dict) else {}
    action_id = str(action.get("action_id") or "").split(":", 1)[0]
    value = _value_of(action)
    if value is None:
        return None
    agent = value["agent"]
    if action_id == ACTION_READY:
        return SlackIntent(_A["Ready button"], summary="Ready", for_agent=agent)
    if action_id == ACTION_NOT_READY:
        return SlackIntent(_A["Not Ready button"], summary="Not Ready", for_agent=agent)
    if action_id == ACTION_HOLD:
        return _call_intent("Hold button", value, "hold")
    if action_id == ACTION_RETRIEVE:
        return _call_intent("Retrieve button", value, "retrieve")
    if action_id == ACTION_TRANSFER:
        number = value.get("number")
        if not isinstance(number, str) or not number:
            return None
        return _call_intent("Transfer menu", value, f"transfer to {number}", destination=number)
    if action_id == ACTION_DISPOSITION and isinstance(value.get("call_id"), str):
        disposition = str(value.get("disposition") or "")
        if not disposition:
            return None
        return SlackIntent(
            _A["disposition button"],
            {"disposition": disposition},
            summary=f"disposition {disposition}",
            call_id=value["call_id"],
            for_agent=agent,
        )
    return None
