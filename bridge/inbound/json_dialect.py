"""The generic JSON dialect: ``POST /v1/commands`` with ``{agent, action, params}``.

The ``Idempotency-Key`` header travels into :attr:`Command.idempotency_key`.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.commands import Command, Dialect, build_command
from bridge.commands.limits import check_input
from bridge.errors import CommandError
from bridge.inbound.problems import Problem

__all__ = ["AGENT_PATTERN", "parse_json_body", "parse_json_command"]

AGENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$"


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    agent: str = Field(pattern=AGENT_PATTERN)
    action: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


def parse_json_body(body: bytes) -> dict[str, Any]:
    """``body`` as a JSON object within the input limits.

    Raises :class:`Problem` 400 when it is not a JSON object, :class:`CommandError` 422 naming
    each field that breaks a limit of :mod:`bridge.commands.limits` (depth, keys, lengths).
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not valid JSON", kind="malformed-body") from None
    if not isinstance(document, dict):
        raise Problem(400, "the body must be a JSON object", kind="malformed-body")
    check_input(document, what="the body")
    return document


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Field errors as ``{loc, msg, type}`` (never echoing the input)."""
    return [
        {"loc": [str(part) for part in error["loc"]], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


def parse_json_command(body: bytes, idempotency_key: str | None) -> Command:
    """A validated :class:`Command`; raises :class:`Problem` 400 or :class:`CommandError` 422."""
    document = parse_json_body(body)
    try:
        envelope = _Envelope.model_validate(document)
    except ValidationError as exc:
        raise CommandError("invalid command body", errors=validation_errors(exc)) from exc
    return build_command(
        agent=envelope.agent,
        action=envelope.action,
        params=envelope.params,
        idempotency_key=idempotency_key,
        dialect=Dialect.JSON,
    )
