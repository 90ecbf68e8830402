"""The CTI envelope dialect (seed 001): ``POST /v1/cti`` with ``{channel, topic, subtopic, source, data}``.

Requests (``topic/subtopic``): ``Agent/SetNotReady {ReasonCodeId?}``,
``Agent/SetReady``, ``Agent/SetAgentState {AgentState}``, ``Agent/SetOffline``,
``Call/Answer|Hangup|Hold|Retrieve {CallId}``, ``Call/MakeCall {PhoneNumber}``,
``Call/SendDtmf {CallId, Digits}``, ``Call/SetDisposition {CallId | CallUuid,
Disposition, DispositionKey?}``. The agent is the envelope's ``agent``, or
``data.AgentLogin``, or the client's only allowed agent.

Agent-state replies take the seed's shape (``subtopic: SetAgentState``,
``message.rules.ButtonStates``, ``message.data`` agent info, ``event``,
``source``), built from the device-state notification that confirmed the
change (or, if none came within ``cti_confirm_timeout``, from GWS's current
device state). Errors carry the seed's codes: ``AGENT_STATE_NOT_FOUND`` when
the reason code is not an agent state GWS defines, ``UPDATE_AGENT_STATE_FAILED``
when GWS refused or reported failure (the reply shapes: ``cti_replies.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.commands import Command, Dialect, build_command
from bridge.config.inbound import InboundClient, InboundSettings
from bridge.errors import CommandError, GwsError
from bridge.gws import operations
from bridge.inbound.cti_replies import (
    AGENT_STATE_NOT_FOUND,
    UPDATE_AGENT_STATE_FAILED,
    CtiError,
    error_reply,
    state_reply,
)
from bridge.inbound.executor import CommandExecutor
from bridge.inbound.http import InboundResponse
from bridge.inbound.json_dialect import AGENT_PATTERN, parse_json_body, validation_errors
from bridge.inbound.outcomes import CommandStatus
from bridge.inbound.problems import Problem

__all__ = ["CTI_ACTIONS", "CtiDialect", "CtiEnvelope", "CtiRequest"]

_AGENT_SUBTOPICS = {"SetNotReady", "SetReady", "SetAgentState", "SetOffline"}
# What each mapped topic/subtopic becomes (docs/commands.md's operation table is built from it).
CTI_ACTIONS: dict[str, tuple[str, ...]] = {
    "Agent/SetReady": ("agent.ready",),
    "Agent/SetNotReady": ("agent.not_ready", "agent.state"),
    "Agent/SetAgentState": ("agent.state",),
    "Agent/SetOffline": ("agent.offline",),
    "Call/Answer": ("call.answer",),
    "Call/Hangup": ("call.hangup",),
    "Call/Hold": ("call.hold",),
    "Call/Retrieve": ("call.retrieve",),
    "Call/MakeCall": ("call.dial",),
    "Call/SendDtmf": ("call.send_dtmf",),
    "Call/SetDisposition": ("call.set_disposition",),
}
_CALL_ACTIONS = {
    "Answer": "call.answer",
    "Hangup": "call.hangup",
    "Hold": "call.hold",
    "Retrieve": "call.retrieve",
}


class CtiEnvelope(BaseModel):
    """The body of ``POST /v1/cti`` (seed 001): a request is ``topic``/``subtopic`` with its ``data``."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        strict=True,
        json_schema_extra={
            "examples": [
                {"channel": "CTI", "topic": "Agent", "subtopic": "SetNotReady", "source": "crm-widget",
                 "data": {"ReasonCodeId": "OutToLunch"}, "agent": "agent0001"},
                {"channel": "CTI", "topic": "Call", "subtopic": "MakeCall", "source": "crm-widget",
                 "data": {"PhoneNumber": "+14155550123"}, "agent": "agent0001"},
            ]
        },
    )  # fmt: skip

    channel: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=64)
    subtopic: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1, max_length=128)
    data: dict[str, Any] = Field(default_factory=dict)
    agent: str | None = Field(default=None, pattern=AGENT_PATTERN)


@dataclass(frozen=True, slots=True)
class CtiRequest:
    """A parsed CTI envelope: the command it asks for, and what the reply must echo."""

    envelope: CtiEnvelope
    command: Command


class CtiDialect:
    """Parses CTI envelopes into commands and answers in the seed's shapes.

    :meth:`parse` is pure (no IO): the receiver authorizes the command it returns, runs it
    once per idempotency key, and :meth:`perform` executes it and renders the seed's reply.
    """

    def __init__(self, executor: CommandExecutor, settings: InboundSettings) -> None:
        self._executor = executor
        self._settings = settings

    def parse(
        self, body: bytes, client: InboundClient, idempotency_key: str | None
    ) -> CtiRequest | InboundResponse:
        """The command an envelope asks for, or the seed-shaped refusal to send as is.

        Raises ``CommandError`` (problem+json) for an envelope that is not one at all.
        """
        document = parse_json_body(body)
        try:
            envelope = CtiEnvelope.model_validate(document)
        except ValidationError as exc:
            raise CommandError("invalid CTI envelope", errors=validation_errors(exc)) from exc
        agent = self._agent_of(envelope, client)
        try:
            return CtiRequest(envelope, self._command(envelope, agent, idempotency_key))
        except CtiError as error:
            return error_reply(envelope, error)

    async def perform(self, request: CtiRequest, client: InboundClient) -> InboundResponse:
        """Execute the command and answer in the seed's shape (errors included)."""
        try:
            return await self._perform(request.envelope, request.command, client)
        except CtiError as error:
            return error_reply(request.envelope, error)

    @staticmethod
    def _agent_of(envelope: CtiEnvelope, client: InboundClient) -> str:
        agent = envelope.agent or envelope.data.get("AgentLogin")
        if agent is None:
            named = [name for name in client.agents if name != "*"]
            if len(named) == 1 and not client.groups:
                return named[0]
            raise CommandError(
                "name the agent (envelope 'agent' or data.AgentLogin)",
                errors=[{"loc": ["agent"], "msg": "required", "type": "missing"}],
            )
        if not isinstance(agent, str) or not re.match(AGENT_PATTERN, agent):
            loc = ["agent"] if envelope.agent else ["data", "AgentLogin"]
            raise CommandError(
                "the agent must be a user name",
                errors=[
                    {"loc": loc, "msg": f"must match {AGENT_PATTERN}", "type": "string_pattern_mismatch"}
                ],
            )
        return agent

    @staticmethod
    def _command(envelope: CtiEnvelope, agent: str, key: str | None) -> Command:
        topic, subtopic, data = envelope.topic, envelope.subtopic, envelope.data

        def make(action: str, params: dict[str, Any] | None = None) -> Command:
            return build_command(
                agent=agent, action=action, params=params, idempotency_key=key, dialect=Dialect.CTI
            )

        if topic == "Agent" and subtopic in _AGENT_SUBTOPICS:
            if subtopic == "SetReady":
                return make("agent.ready")
            if subtopic == "SetOffline":
                return make("agent.offline")
            wanted = data.get("ReasonCodeId") if subtopic == "SetNotReady" else data.get("AgentState")
            if wanted is None and subtopic == "SetNotReady":
                return make("agent.not_ready")
            if not isinstance(wanted, str) or not wanted.strip():
                raise CtiError(422, AGENT_STATE_NOT_FOUND, "no agent state given")
            # matched against GWS's agent-state definitions when the command is translated
            return make("agent.state", {"operation": wanted.strip(), "not_ready": subtopic == "SetNotReady"})
        if topic == "Call" and subtopic in _CALL_ACTIONS:
            return make(_CALL_ACTIONS[subtopic], {"call_id": data.get("CallId")})
        if topic == "Call" and subtopic == "MakeCall":
            return make("call.dial", {"destination": data.get("PhoneNumber")})
        if topic == "Call" and subtopic == "SendDtmf":
            return make("call.send_dtmf", {"call_id": data.get("CallId"), "digits": data.get("Digits")})
        if topic == "Call" and subtopic == "SetDisposition":
            params = {
                "call_id": data.get("CallId"),
                "call_uuid": data.get("CallUuid"),
                "disposition": data.get("Disposition"),
                "key": data.get("DispositionKey"),
            }
            return make("call.set_disposition", {k: v for k, v in params.items() if v is not None})
        raise CommandError(
            f"unsupported CTI request {topic}/{subtopic}",
            errors=[{"loc": ["subtopic"], "msg": "unsupported topic/subtopic", "type": "unsupported"}],
        )

    async def _perform(
        self, envelope: CtiEnvelope, command: Command, client: InboundClient
    ) -> InboundResponse:
        is_state = command.action.startswith("agent.")
        try:
            execution = await self._executor.execute(command, client.name)
        except Problem as problem:
            if not is_state:
                raise
            gws = {k: problem.extensions.get(k) for k in ("gws_status_code", "gws_message")}
            status = 422 if problem.status == 422 else 502 if problem.status >= 500 else problem.status
            code = AGENT_STATE_NOT_FOUND if problem.status == 422 else UPDATE_AGENT_STATE_FAILED
            raise CtiError(status, code, problem.detail, command_id=command.id, **gws) from problem
        outcome = await self._executor.wait(execution, self._settings.cti_confirm_timeout)
        if outcome is not None and outcome.status is CommandStatus.FAILED:
            detail = outcome.error or "GWS reported a failure"
            if is_state:
                raise CtiError(
                    502, UPDATE_AGENT_STATE_FAILED, detail, command_id=command.id, gws_message=detail
                )
            raise Problem(502, f"GWS: {detail}", kind="gws-error", command_id=command.id, gws_message=detail)
        if not is_state:
            result = outcome.status.value if outcome is not None else execution.record["status"]
            message = {
                "data": {"commandId": command.id, "status": result},
                "event": result,
                "source": "event",
            }
            reply = {"channel": envelope.channel, "topic": envelope.topic, "subtopic": envelope.subtopic}
            return InboundResponse.json(200, dict(reply, message=message))
        device = None
        if outcome is not None and outcome.notification is not None:
            devices = outcome.notification.get("devices") or []
            device = devices[0] if devices and isinstance(devices[0], dict) else None
        rest = self._executor.sessions.client(command.agent)
        try:
            if device is None:
                devices = await operations.get_devices(rest)
                device = devices[0] if devices else {}
            calls = await operations.get_calls(rest)
        except GwsError as exc:
            raise CtiError(
                502, UPDATE_AGENT_STATE_FAILED, "GWS: " + exc.message, command_id=command.id
            ) from exc
        return InboundResponse.json(200, state_reply(envelope, command, rest.user, device, calls))
