"""Slack chatops grammar: slash-command text and button clicks into command intents (pure).

::

    /agent ready | notready [reason] | dnd on|off | status | help
    /dispo <disposition> [call]      (quote a disposition with spaces: /dispo "Sale made" 00710…)

Button clicks come from the bridge's own messages (``connectors/slack_blocks.py``): their
``action_id`` names the action and their ``value`` the agent (and call).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import orjson

from connectors.slack_blocks import ACTION_DISPOSITION, ACTION_NOT_READY, ACTION_READY

__all__ = ["SlackIntent", "SlackUsageError", "parse_agent_text", "parse_block_action", "parse_dispo_text"]

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

    For a disposition, ``params`` lacks the call until it is resolved: ``call_id`` is the call the
    user named (None: the agent's current call). ``for_agent`` is the agent a button targets.
    """

    action: str | None
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    call_id: str | None = None
    for_agent: str | None = None

    @property
    def is_disposition(self) -> bool:
        return self.action == "call.set_disposition"


def parse_agent_text(text: str) -> SlackIntent:
    """The intent of ``/agent <text>``; raises :class:`SlackUsageError` with the help text."""
    words = text.split()
    if not words or words[0].lower() == "help":
        raise SlackUsageError(AGENT_HELP)
    verb, rest = words[0].lower(), words[1:]
    if verb == "not" and rest and rest[0].lower() == "ready":
        verb, rest = "notready", rest[1:]
    if verb == "ready" and not rest:
        return SlackIntent("agent.ready", summary="Ready")
    if verb in _NOT_READY:
        reason = " ".join(rest).strip()
        if len(reason) > 256:
            raise SlackUsageError("The reason is too long (256 characters at most).")
        params = {"reason": reason} if reason else {}
        return SlackIntent("agent.not_ready", params, summary=f"Not Ready{f' ({reason})' if reason else ''}")
    if verb == "dnd" and len(rest) == 1 and rest[0].lower() in {"on", "off"}:
        on = rest[0].lower() == "on"
        return SlackIntent("agent.dnd", {"on": on}, summary=f"do-not-disturb {'on' if on else 'off'}")
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
        "call.set_disposition",
        {"disposition": disposition},
        summary=f"disposition {disposition}",
        call_id=call_id,
    )


def parse_block_action(payload: dict[str, Any]) -> SlackIntent | None:
    """The intent of a ``block_actions`` click on one of our buttons (None for anything else)."""
    actions = payload.get("actions")
    if payload.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None
    action = actions[0] if isinstance(actions[0], dict) else {}
    action_id = str(action.get("action_id") or "").split(":", 1)[0]
    try:
        value = orjson.loads(str(action.get("value") or ""))
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("agent"), str):
        return None
    agent = value["agent"]
    if action_id == ACTION_READY:
        return SlackIntent("agent.ready", summary="Ready", for_agent=agent)
    if action_id == ACTION_NOT_READY:
        return SlackIntent("agent.not_ready", summary="Not Ready", for_agent=agent)
    if action_id == ACTION_DISPOSITION and isinstance(value.get("call_id"), str):
        disposition = str(value.get("disposition") or "")
        if not disposition:
            return None
        return SlackIntent(
            "call.set_disposition",
            {"disposition": disposition},
            summary=f"disposition {disposition}",
            call_id=value["call_id"],
            for_agent=agent,
        )
    return None
