"""Commands: what an inbound client asks for, and the one translator into a GWS request.

Every dialect (``bridge/inbound/``) parses into a :class:`Command`; only
:func:`translate` knows which GWS request a command becomes. Translation is
pure: what it needs from GWS (the agent's voice device id, the
``settings/agent-states`` definitions, the disposition codes) is fetched by the
caller beforehand, as :func:`requirements` says, and passed in an
:class:`AgentContext`.

A translation is a :class:`GwsRequest` plus an :class:`OutcomeRule` telling
how the asynchronous outcome shows up on CometD (GWS accepts voice operations
with ``statusCode 0`` and reports failure later as an ``ErrorMessage``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bridge.commands.actions import ACTIONS, ActionSpec
from bridge.commands.model import (
    AgentContext,
    AgentStateDefinition,
    Command,
    Dialect,
    GwsRequest,
    Need,
    OutcomeRule,
)
from bridge.errors import CommandError

__all__ = [
    "ACTIONS",
    "ActionSpec",
    "AgentContext",
    "AgentStateDefinition",
    "Command",
    "Dialect",
    "GwsRequest",
    "Need",
    "OutcomeRule",
    "build_command",
    "requirements",
    "translate",
]


def _error_list(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": ["params", *(str(part) for part in error["loc"])], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


def build_command(
    *,
    agent: str,
    action: str,
    params: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    dialect: Dialect = Dialect.JSON,
    command_id: str | None = None,
) -> Command:
    """A validated :class:`Command` (params normalised by the action's schema).

    Raises :class:`CommandError` (422) for an unknown action, listing the known
    ones, or for invalid params, with one ``errors`` entry per field.
    """
    spec = ACTIONS.get(action)
    if spec is None:
        raise CommandError(
            f"unknown action {action!r}",
            errors=[{"loc": ["action"], "msg": "unknown action", "valid": sorted(ACTIONS)}],
        )
    try:
        validated = spec.params.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise CommandError(f"invalid params for {action}", errors=_error_list(exc)) from exc
    return Command(
        id=command_id or uuid.uuid4().hex,
        agent=agent,
        action=action,
        params=validated.model_dump(exclude_none=True),
        idempotency_key=idempotency_key,
        dialect=dialect,
    )


def requirements(command: Command) -> frozenset[Need]:
    """What :func:`translate` needs in its :class:`AgentContext` for this command."""
    return ACTIONS[command.action].needs


def translate(command: Command, context: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    """The GWS request for ``command`` and how its outcome is recognised.

    Raises :class:`CommandError` when the command cannot be performed with what
    GWS defines (unknown agent-state operation or disposition: 422, listing the
    valid values; no voice device: 409).
    """
    spec = ACTIONS[command.action]
    params = spec.params.model_validate(command.params)
    return spec.translate(params, context)
