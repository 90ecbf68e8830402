"""Translators: pure functions choosing the GWS operation for validated params.

Each translator takes an action's params model and an :class:`AgentContext` and returns an
:class:`Operation` (``(GwsRequest, OutcomeRule)``) built by :mod:`bridge.gws.operations.builders`,
the one place that knows GWS paths and bodies. What is left here is the command side: matching a
reason or state name against ``settings/agent-states``, checking a disposition, needing a
device, raising :class:`CommandError` when the command cannot be performed with what GWS defines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.commands.model import AgentContext, AgentStateDefinition, Operation
from bridge.commands.params import AgentStateParams, ChannelStateParams, DispositionParams, NotReadyParams
from bridge.errors import CommandError
from bridge.gws.operations import builders as gws

Translator = Callable[[Any, AgentContext], Operation]

__all__ = [
    "Translator",
    "device_of",
    "translate_agent_state",
    "translate_channel_state",
    "translate_not_ready",
    "translate_set_disposition",
]


def device_of(ctx: AgentContext) -> str:
    """The agent's voice device id; :class:`CommandError` (409) when it has none."""
    if not ctx.device_id:
        raise CommandError("the agent has no voice device; start a session first", status=409)
    return ctx.device_id


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


def _voice_state(d: AgentStateDefinition) -> Operation:
    return gws.voice_agent_state(d.operation_name, d.notified_state, d.work_mode)


def translate_not_ready(p: NotReadyParams, ctx: AgentContext) -> Operation:
    if p.reason is None and p.work_mode is None:
        return gws.not_ready()
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
        return gws.voice_agent_state(d.operation_name, "NotReady", d.work_mode)
    not_ready = [d for d in ctx.agent_states or () if d.notified_state == "NotReady"]
    valid = sorted(f"{d.reason or '-'}/{d.work_mode or '-'}" for d in not_ready)
    raise CommandError(
        f"no Not Ready agent state with reason={p.reason!r} work_mode={p.work_mode!r}; "
        f"valid reason/work_mode: {', '.join(valid)}",
        errors=[{"loc": ["params", "reason"], "msg": "unknown reason or work mode", "valid": valid}],
    )


def translate_agent_state(p: AgentStateParams, ctx: AgentContext) -> Operation:
    return _voice_state(_find_state(ctx, p.operation, not_ready=p.not_ready))


def translate_channel_state(p: ChannelStateParams, ctx: AgentContext) -> Operation:
    state = p.state if p.state in {"Ready", "NotReady"} else _find_state(ctx, p.state).notified_state
    return gws.channel_state(p.channel, p.state, state)


def translate_set_disposition(p: DispositionParams, ctx: AgentContext) -> Operation:
    if ctx.dispositions is not None and p.disposition not in ctx.dispositions:
        valid = sorted(ctx.dispositions)
        raise CommandError(
            f"unknown disposition {p.disposition!r}; valid: {', '.join(valid) or '(none defined)'}",
            errors=[{"loc": ["params", "disposition"], "msg": "unknown disposition", "valid": valid}],
        )
    # With only the call's UUID, GWS's own sample posts to the agent's device.
    device_id = None if p.call_id is not None else ctx.device_id
    if p.call_id is None and not device_id:
        raise CommandError("the agent has no voice device; give call_id", status=409)
    return gws.set_call_disposition(
        p.disposition,
        base_url=ctx.base_url,
        call_id=p.call_id,
        call_uuid=p.call_uuid,
        key=p.key,
        device_id=device_id,
    )
