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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


class Dialect(str, Enum):
    """The inbound formats a command can arrive in."""

    JSON = "json"
    CTI = "cti"
    SLACK = "slack"


class Need(str, Enum):
    """Facts from GWS a translation needs (fetched, and cached, by the executor)."""

    DEVICE = "device"  # the agent's voice device id (/me/devices)
    AGENT_STATES = "agent_states"  # GET /settings/agent-states
    DISPOSITIONS = "dispositions"  # GET /settings/dispositions (+ hierarchical groups)


# Ids end up in URL paths: one path segment, no traversal, no spaces.
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@+=-]{0,127}$")]
Text = Annotated[str, Field(min_length=1, max_length=256)]
PhoneNumber = Annotated[str, Field(pattern=r"^\+?[0-9A-Za-z*#._-]{1,64}$")]
UserData = Annotated[dict[str, Any], Field(min_length=1, max_length=200)]


class Command(BaseModel):
    """One inbound command: ``action`` for ``agent``, with validated ``params``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    agent: str
    action: str
    params: dict[str, Any]
    idempotency_key: str | None = None
    dialect: Dialect = Dialect.JSON


@dataclass(frozen=True)
class GwsRequest:
    """One GWS REST request; ``path`` is relative to ``/api/v2``."""

    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class OutcomeRule:
    """How the CometD outcome of an accepted operation is recognised.

    ``synchronous`` rules are settled by the REST reply alone. Otherwise a
    ``CallStateChangeMessage`` about ``call_id`` (any call when ``call_id`` is
    None) whose state is in ``call_states`` or whose notificationType is in
    ``notification_types`` means success, as does a ``DeviceStateChangeMessage``
    / channel message matching ``user_state`` / ``work_mode`` / ``dnd`` /
    ``channel``. An ``ErrorMessage`` whose ``callUri`` names ``call_id`` means
    failure; one without ``callUri`` fails the oldest pending command whose rule
    has ``device_errors``.
    """

    synchronous: bool = False
    call_id: str | None = None
    call_states: frozenset[str] = frozenset()
    notification_types: frozenset[str] = frozenset()
    recording_state: str | None = None
    user_state: str | None = None
    work_mode: str | None = None
    dnd: str | None = None
    channel: str | None = None
    device_errors: bool = False


SYNC = OutcomeRule(synchronous=True)


@dataclass(frozen=True)
class AgentStateDefinition:
    """One entry of ``settings/agent-states``."""

    operation_name: str
    display_name: str = ""
    state: str = ""
    work_mode: str | None = None
    reason: str | None = None

    @classmethod
    def from_gws(cls, item: Mapping[str, Any]) -> AgentStateDefinition:
        """Build from a GWS settings item (``operationName``, ``displayName``, ``state``, …)."""
        return cls(
            operation_name=str(item.get("operationName", "")),
            display_name=str(item.get("displayName") or ""),
            state=str(item.get("state") or ""),
            work_mode=item.get("workMode") or None,
            reason=item.get("reason") or None,
        )

    @property
    def notified_state(self) -> str:
        """The ``userState.state`` GWS notifies (settings say ``Logout``, devices ``LoggedOut``)."""
        return "LoggedOut" if self.state in {"Logout", "LoggedOut", "Logged Out"} else self.state


@dataclass(frozen=True)
class AgentContext:
    """What the translator knows about the agent from GWS; only what :func:`requirements` asked for."""

    base_url: str = ""
    device_id: str | None = None
    agent_states: tuple[AgentStateDefinition, ...] | None = None
    dispositions: frozenset[str] | None = None


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class NoParams(_Params):
    pass


class NotReadyParams(_Params):
    reason: Text | None = None
    work_mode: Text | None = None


class AgentStateParams(_Params):
    operation: Text


class DndParams(_Params):
    on: bool


class ChannelStateParams(_Params):
    channel: Ident
    state: Text


class CallParams(_Params):
    call_id: Ident


class DispositionParams(_Params):
    call_id: Ident | None = None
    call_uuid: Ident | None = None
    disposition: Text
    key: Text | None = None

    @model_validator(mode="after")
    def _one_call_reference(self) -> DispositionParams:
        if self.call_id is None and self.call_uuid is None:
            raise ValueError("call_id or call_uuid is required")
        return self


class DialParams(_Params):
    destination: PhoneNumber
    user_data: UserData | None = None


class DtmfParams(CallParams):
    digits: Annotated[str, Field(pattern=r"^[0-9*#]{1,64}$")]


class CallDataParams(CallParams):
    user_data: UserData


class DeleteDataParams(CallParams):
    key: Text | None = None


class CallDestinationParams(CallParams):
    destination: PhoneNumber
    user_data: UserData | None = None


class CompleteParams(CallParams):
    consult_call_id: Ident | None = None


class InteractionParams(_Params):
    interaction_id: Ident


class InteractionAcceptParams(InteractionParams):
    nickname: Text | None = None


class PlaceInQueueParams(InteractionParams):
    queue: Text


class PlaceInWorkbinParams(InteractionParams):
    workbin: Text


class InteractionTransferParams(InteractionParams):
    user_id: Ident


class InteractionDataParams(InteractionParams):
    user_data: UserData


class WorkbinPullParams(_Params):
    workbin_id: Ident
    interaction_id: Ident


class SessionStartParams(_Params):
    channels: Annotated[list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]], Field(min_length=1)]
    place: Text | None = None
    login_code: Text | None = None
    queue: Text | None = None


Translator = Callable[[Any, AgentContext], tuple[GwsRequest, OutcomeRule]]


@dataclass(frozen=True)
class ActionSpec:
    """One action: its params model, what it needs from GWS, and its translation."""

    params: type[_Params]
    translate: Translator
    needs: frozenset[Need] = field(default_factory=frozenset)
    summary: str = ""


def _seg(value: str) -> str:
    return quote(value, safe="")


def _voice_state(operation: str, state: str, work_mode: str | None = None) -> tuple[GwsRequest, OutcomeRule]:
    request = GwsRequest("POST", "/me/channels/voice", {"operationName": operation})
    return request, OutcomeRule(user_state=state, work_mode=work_mode, device_errors=True)


def _find_state(context: AgentContext, operation: str) -> AgentStateDefinition:
    states = context.agent_states or ()
    for definition in states:
        if definition.operation_name == operation:
            return definition
    valid = sorted(d.operation_name for d in states)
    raise CommandError(
        f"unknown agent-state operation {operation!r}; valid: {', '.join(valid) or '(none defined)'}",
        errors=[{"loc": ["params", "operation"], "msg": "unknown agent-state operation", "valid": valid}],
    )


def _t_not_ready(p: NotReadyParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    if p.reason is None and p.work_mode is None:
        return _voice_state("NotReady", "NotReady")
    # GWS has no reason parameter on NotReady: a reason (or work mode) is an agent-state definition.
    for d in ctx.agent_states or ():
        if d.notified_state != "NotReady":
            continue
        if p.reason is not None and p.reason not in {d.reason, d.operation_name, d.display_name}:
            continue
        if p.work_mode is not None and d.work_mode != p.work_mode:
            continue
        if p.reason is None and d.reason is not None:
            continue
        return _voice_state(d.operation_name, "NotReady", d.work_mode)
    not_ready = [d for d in ctx.agent_states or () if d.notified_state == "NotReady"]
    valid = sorted(f"{d.reason or '-'}/{d.work_mode or '-'}" for d in not_ready)
    raise CommandError(
        f"no Not Ready agent state with reason={p.reason!r} work_mode={p.work_mode!r}; "
        f"valid reason/work_mode: {', '.join(valid)}",
        errors=[{"loc": ["params", "reason"], "msg": "unknown reason or work mode", "valid": valid}],
    )


def _t_agent_state(p: AgentStateParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    d = _find_state(ctx, p.operation)
    return _voice_state(d.operation_name, d.notified_state, d.work_mode)


def _t_dnd(p: DndParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    operation = "DoNotDisturbOn" if p.on else "DoNotDisturbOff"
    return GwsRequest("POST", "/me", {"operationName": operation}), OutcomeRule(
        dnd="On" if p.on else "Off", device_errors=True
    )


def _t_channel_state(p: ChannelStateParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    if p.state in {"Ready", "NotReady"}:
        state = p.state
    else:
        state = _find_state(ctx, p.state).notified_state
    request = GwsRequest("POST", f"/me/channels/{_seg(p.channel)}", {"operationName": p.state})
    return request, OutcomeRule(channel=p.channel, user_state=state, device_errors=True)


def _call_op(
    operation: str,
    *,
    states: frozenset[str] = frozenset(),
    types: frozenset[str] = frozenset(),
    recording: str | None = None,
    extra: Callable[[Any], dict[str, Any]] | None = None,
) -> Translator:
    def translate_call(p: Any, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
        body: dict[str, Any] = {"operationName": operation}
        if extra is not None:
            body.update({k: v for k, v in extra(p).items() if v is not None})
        rule = OutcomeRule(
            call_id=p.call_id, call_states=states, notification_types=types, recording_state=recording
        )
        return GwsRequest("POST", f"/me/calls/{_seg(p.call_id)}", body), rule

    return translate_call


def _phone(number: str) -> dict[str, str]:
    return {"phoneNumber": number}


def _t_dial(p: DialParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    if not ctx.device_id:
        raise CommandError("the agent has no voice device; start a session first", status=409)
    body: dict[str, Any] = {"operationName": "Dial", "destination": _phone(p.destination)}
    if p.user_data:
        body["userData"] = p.user_data
    rule = OutcomeRule(call_states=frozenset({"Dialing"}), device_errors=True)
    return GwsRequest("POST", f"/me/devices/{_seg(ctx.device_id)}/calls", body), rule


def _t_set_disposition(p: DispositionParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    if ctx.dispositions is not None and p.disposition not in ctx.dispositions:
        valid = sorted(ctx.dispositions)
        raise CommandError(
            f"unknown disposition {p.disposition!r}; valid: {', '.join(valid) or '(none defined)'}",
            errors=[{"loc": ["params", "disposition"], "msg": "unknown disposition", "valid": valid}],
        )
    body: dict[str, Any] = {"operationName": "SetCallDisposition", "disposition": p.disposition}
    if p.key is not None:
        body["dispositionKey"] = p.key
    if p.call_uuid is not None:
        body["callUuid"] = p.call_uuid
    if p.call_id is not None:
        path = f"/me/calls/{_seg(p.call_id)}"
        body["callUri"] = f"{ctx.base_url}/api/v2{path}"
    elif ctx.device_id:  # only the UUID is known: GWS's own sample posts to the device
        path = f"/me/devices/{_seg(ctx.device_id)}"
    else:
        raise CommandError("the agent has no voice device; give call_id", status=409)
    # A released call gets no notification (GWS sends EventUserEvent to reporting only).
    rule = OutcomeRule(call_id=p.call_id, notification_types=frozenset({"AttachedDataChanged"}))
    return GwsRequest("POST", path, body), rule


def _interaction_op(operation: str, extra: Callable[[Any], dict[str, Any]] | None = None) -> Translator:
    def translate_interaction(p: Any, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
        body: dict[str, Any] = {"operationName": operation}
        if extra is not None:
            body.update({k: v for k, v in extra(p).items() if v is not None})
        return GwsRequest("POST", f"/me/interactions/{_seg(p.interaction_id)}", body), SYNC

    return translate_interaction


def _t_workbin_pull(p: WorkbinPullParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    uri = f"{ctx.base_url}/api/v2/me/workbins/{_seg(p.workbin_id)}/interactions/{_seg(p.interaction_id)}"
    body = {"operationName": "PullInteractionFromWorkbin", "uri": uri}
    return GwsRequest("POST", "/me/interactions", body), SYNC


def _t_session_start(p: SessionStartParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    body: dict[str, Any] = {"operationName": "StartContactCenterSession", "channels": list(p.channels)}
    for key, value in (("place", p.place), ("loginCode", p.login_code), ("queue", p.queue)):
        if value is not None:
            body[key] = value
    return GwsRequest("POST", "/me", body), SYNC


def _fixed(request: GwsRequest, rule: OutcomeRule) -> Translator:
    return lambda p, ctx: (request, rule)


_S = frozenset


def _data_op(operation: str) -> Translator:
    return _call_op(operation, types=_S({"AttachedDataChanged"}), extra=lambda p: {"userData": p.user_data})


def _recording_op(operation: str, state: str) -> Translator:
    return _call_op(operation, types=_S({"CallRecordingStateChange"}), recording=state)


_STATES = _S({Need.AGENT_STATES})
_RELEASED = _S({"Released"})

ACTIONS: dict[str, ActionSpec] = {
    # agent state (voice channel, GWS 8.5.2 agent-state operations)
    "agent.ready": ActionSpec(NoParams, lambda p, c: _voice_state("Ready", "Ready"), summary="Ready"),
    "agent.not_ready": ActionSpec(NotReadyParams, _t_not_ready, _STATES, "Not Ready, optional reason"),
    "agent.after_call_work": ActionSpec(
        NoParams, lambda p, c: _voice_state("AfterCallWork", "NotReady", "AfterCallWork")
    ),
    "agent.aux_work": ActionSpec(NoParams, lambda p, c: _voice_state("AuxWork", "NotReady", "AuxWork")),
    "agent.offline": ActionSpec(NoParams, lambda p, c: _voice_state("Offline", "LoggedOut")),
    "agent.state": ActionSpec(AgentStateParams, _t_agent_state, _STATES, "custom agent-state operation"),
    "agent.dnd": ActionSpec(DndParams, _t_dnd),
    "channel.state": ActionSpec(ChannelStateParams, _t_channel_state, _STATES),
    # dispositions
    "call.set_disposition": ActionSpec(
        DispositionParams, _t_set_disposition, _S({Need.DISPOSITIONS, Need.DEVICE})
    ),
    # calls
    "call.answer": ActionSpec(CallParams, _call_op("Answer", states=_S({"Established"}))),
    "call.reject": ActionSpec(CallParams, _call_op("Reject", states=_RELEASED)),
    "call.hangup": ActionSpec(CallParams, _call_op("Hangup", states=_RELEASED)),
    "call.hold": ActionSpec(CallParams, _call_op("Hold", states=_S({"Held"}))),
    "call.retrieve": ActionSpec(CallParams, _call_op("Retrieve", states=_S({"Established"}))),
    "call.dial": ActionSpec(DialParams, _t_dial, _S({Need.DEVICE})),
    "call.send_dtmf": ActionSpec(
        DtmfParams, _call_op("SendDtmf", types=_S({"DtmfSent"}), extra=lambda p: {"digits": p.digits})
    ),
    "call.attach_data": ActionSpec(CallDataParams, _data_op("AttachUserData")),
    "call.update_data": ActionSpec(CallDataParams, _data_op("UpdateUserData")),
    "call.delete_data": ActionSpec(
        DeleteDataParams,
        lambda p, c: _call_op(
            "DeleteUserDataPair" if p.key else "DeleteUserData",
            types=_S({"AttachedDataChanged"}),
            extra=lambda q: {"key": q.key},
        )(p, c),
    ),
    "call.transfer": ActionSpec(
        CallDestinationParams,
        _call_op(
            "SingleStepTransfer",
            states=_RELEASED,
            extra=lambda p: {"destination": _phone(p.destination), "userData": p.user_data},
        ),
        summary="single-step transfer",
    ),
    "call.initiate_transfer": ActionSpec(
        CallDestinationParams,
        _call_op(
            "InitiateTransfer",
            states=_S({"Held"}),
            extra=lambda p: {"destination": _phone(p.destination), "userData": p.user_data},
        ),
    ),
    "call.complete_transfer": ActionSpec(
        CompleteParams,
        _call_op("CompleteTransfer", states=_RELEASED, extra=lambda p: {"consultCallUri": _consult(p)}),
    ),
    "call.conference": ActionSpec(
        CallDestinationParams,
        _call_op(
            "SingleStepConference",
            types=_S({"ParticipantsUpdated"}),
            extra=lambda p: {"destination": _phone(p.destination), "userData": p.user_data},
        ),
        summary="single-step conference",
    ),
    "call.initiate_conference": ActionSpec(
        CallDestinationParams,
        _call_op(
            "InitiateConference",
            states=_S({"Held"}),
            extra=lambda p: {"destination": _phone(p.destination), "userData": p.user_data},
        ),
    ),
    "call.complete_conference": ActionSpec(
        CompleteParams,
        _call_op(
            "CompleteConference",
            states=_RELEASED,
            types=_S({"ParticipantsUpdated"}),
            extra=lambda p: {"consultCallUri": _consult(p)},
        ),
    ),
    "call.start_recording": ActionSpec(CallParams, _recording_op("StartCallRecording", "Recording")),
    "call.stop_recording": ActionSpec(CallParams, _recording_op("StopCallRecording", "Stopped")),
    "call.pause_recording": ActionSpec(CallParams, _recording_op("PauseCallRecording", "Paused")),
    "call.resume_recording": ActionSpec(CallParams, _recording_op("ResumeCallRecording", "Recording")),
    # interactions and workbins (8.5.1: synchronous "status: ok" replies)
    "interaction.accept": ActionSpec(
        InteractionAcceptParams, _interaction_op("Accept", lambda p: {"nickname": p.nickname})
    ),
    "interaction.reject": ActionSpec(InteractionParams, _interaction_op("Reject")),
    "interaction.complete": ActionSpec(InteractionParams, _interaction_op("Complete")),
    "interaction.place_in_queue": ActionSpec(
        PlaceInQueueParams, _interaction_op("PlaceInQueue", lambda p: {"queueName": p.queue})
    ),
    "interaction.place_in_workbin": ActionSpec(
        PlaceInWorkbinParams, _interaction_op("PlaceInWorkbin", lambda p: {"workbin": p.workbin})
    ),
    "interaction.transfer": ActionSpec(
        InteractionTransferParams, _interaction_op("Transfer", lambda p: {"userId": p.user_id})
    ),
    "interaction.update_data": ActionSpec(
        InteractionDataParams, _interaction_op("UpdateUserData", lambda p: {"userData": p.user_data})
    ),
    "workbin.pull": ActionSpec(WorkbinPullParams, _t_workbin_pull),
    # sessions
    "session.start": ActionSpec(SessionStartParams, _t_session_start),
    "session.end": ActionSpec(
        NoParams, _fixed(GwsRequest("POST", "/me", {"operationName": "EndContactCenterSession"}), SYNC)
    ),
}


def _consult(p: CompleteParams) -> str | None:
    # GWS finds the related call itself when consultCallUri is absent.
    return f"/api/v2/me/calls/{_seg(p.consult_call_id)}" if p.consult_call_id else None


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
