"""Translators: pure functions turning validated params into a GWS request and its outcome rule.

Each translator takes an action's params model and an :class:`AgentContext`
and returns ``(GwsRequest, OutcomeRule)``, raising :class:`CommandError` when
the command cannot be performed with what GWS defines. The factories
(``call_op``, ``interaction_op``) build translators for the action table in
:mod:`bridge.commands.actions`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from bridge.commands.model import SYNC, AgentContext, AgentStateDefinition, GwsRequest, OutcomeRule
from bridge.commands.params import (
    AgentStateParams,
    ChannelStateParams,
    CompleteParams,
    DialParams,
    DispositionParams,
    DndParams,
    NotReadyParams,
    SessionStartParams,
    WorkbinPullParams,
)
from bridge.errors import CommandError

Translator = Callable[[Any, AgentContext], tuple[GwsRequest, OutcomeRule]]


def _seg(value: str) -> str:
    return quote(value, safe="")


def voice_state(operation: str, state: str, work_mode: str | None = None) -> tuple[GwsRequest, OutcomeRule]:
    request = GwsRequest("POST", "/me/channels/voice", {"operationName": operation})
    return request, OutcomeRule(user_state=state, work_mode=work_mode, device_errors=True)


def _find_state(context: AgentContext, wanted: str, *, not_ready: bool = False) -> AgentStateDefinition:
    """The agent state whose operation name is ``wanted`` or, failing that, whose operation name,
    display name or reason code matches it without regard to case."""
    states = [d for d in context.agent_states or () if not not_ready or d.notified_state == "NotReady"]
    folded = wanted.casefold()
    exact = (d for d in states if d.operation_name == wanted)
    loose = (
        d
        for d in states
        if folded in {n.casefold() for n in (d.operation_name, d.display_name, d.reason) if n}
    )
    found = next(exact, None) or next(loose, None)
    if found is not None:
        return found
    valid = sorted(d.operation_name for d in states)
    raise CommandError(
        f"unknown agent-state operation {wanted!r}; valid: {', '.join(valid) or '(none defined)'}",
        errors=[{"loc": ["params", "operation"], "msg": "unknown agent-state operation", "valid": valid}],
    )


def translate_not_ready(p: NotReadyParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    if p.reason is None and p.work_mode is None:
        return voice_state("NotReady", "NotReady")
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
        return voice_state(d.operation_name, "NotReady", d.work_mode)
    not_ready = [d for d in ctx.agent_states or () if d.notified_state == "NotReady"]
    valid = sorted(f"{d.reason or '-'}/{d.work_mode or '-'}" for d in not_ready)
    raise CommandError(
        f"no Not Ready agent state with reason={p.reason!r} work_mode={p.work_mode!r}; "
        f"valid reason/work_mode: {', '.join(valid)}",
        errors=[{"loc": ["params", "reason"], "msg": "unknown reason or work mode", "valid": valid}],
    )


def translate_agent_state(p: AgentStateParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    d = _find_state(ctx, p.operation, not_ready=p.not_ready)
    return voice_state(d.operation_name, d.notified_state, d.work_mode)


def translate_dnd(p: DndParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    operation = "DoNotDisturbOn" if p.on else "DoNotDisturbOff"
    return GwsRequest("POST", "/me", {"operationName": operation}), OutcomeRule(
        dnd="On" if p.on else "Off", device_errors=True
    )


def translate_channel_state(p: ChannelStateParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    if p.state in {"Ready", "NotReady"}:
        state = p.state
    else:
        state = _find_state(ctx, p.state).notified_state
    request = GwsRequest("POST", f"/me/channels/{_seg(p.channel)}", {"operationName": p.state})
    return request, OutcomeRule(channel=p.channel, user_state=state, device_errors=True)


def call_op(
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


def phone(number: str) -> dict[str, str]:
    return {"phoneNumber": number}


def translate_dial(p: DialParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    if not ctx.device_id:
        raise CommandError("the agent has no voice device; start a session first", status=409)
    body: dict[str, Any] = {"operationName": "Dial", "destination": phone(p.destination)}
    if p.user_data:
        body["userData"] = p.user_data
    rule = OutcomeRule(call_states=frozenset({"Dialing"}), device_errors=True)
    return GwsRequest("POST", f"/me/devices/{_seg(ctx.device_id)}/calls", body), rule


def translate_set_disposition(p: DispositionParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
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


def interaction_op(operation: str, extra: Callable[[Any], dict[str, Any]] | None = None) -> Translator:
    def translate_interaction(p: Any, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
        body: dict[str, Any] = {"operationName": operation}
        if extra is not None:
            body.update({k: v for k, v in extra(p).items() if v is not None})
        return GwsRequest("POST", f"/me/interactions/{_seg(p.interaction_id)}", body), SYNC

    return translate_interaction


def translate_workbin_pull(p: WorkbinPullParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    uri = f"{ctx.base_url}/api/v2/me/workbins/{_seg(p.workbin_id)}/interactions/{_seg(p.interaction_id)}"
    body = {"operationName": "PullInteractionFromWorkbin", "uri": uri}
    return GwsRequest("POST", "/me/interactions", body), SYNC


def translate_session_start(p: SessionStartParams, ctx: AgentContext) -> tuple[GwsRequest, OutcomeRule]:
    body: dict[str, Any] = {"operationName": "StartContactCenterSession", "channels": list(p.channels)}
    for key, value in (("place", p.place), ("loginCode", p.login_code), ("queue", p.queue)):
        if value is not None:
            body[key] = value
    return GwsRequest("POST", "/me", body), SYNC


def consult(p: CompleteParams) -> str | None:
    # GWS finds the related call itself when consultCallUri is absent.
    return f"/api/v2/me/calls/{_seg(p.consult_call_id)}" if p.consult_call_id else None
