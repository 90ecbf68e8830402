"""The action table: every action name, its params schema, what it needs from GWS, its translator.

:data:`ACTIONS` is the one place that says which actions exist; the dialects
validate against it and :func:`bridge.commands.translate` dispatches through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.commands.model import Need
from bridge.commands.params import (
    AgentStateParams,
    CallDataParams,
    CallDestinationParams,
    CallParams,
    ChannelStateParams,
    CompleteParams,
    DeleteDataParams,
    DialParams,
    DispositionParams,
    DndParams,
    DtmfParams,
    InteractionAcceptParams,
    InteractionDataParams,
    InteractionParams,
    InteractionTransferParams,
    NoParams,
    NotReadyParams,
    PlaceInQueueParams,
    PlaceInWorkbinParams,
    SessionStartParams,
    WorkbinPullParams,
    _Params,
)
from bridge.commands.translators import (
    Translator,
    device_of,
    translate_agent_state,
    translate_channel_state,
    translate_not_ready,
    translate_set_disposition,
)
from bridge.gws.operations import builders as gws


@dataclass(frozen=True)
class ActionSpec:
    """One action: its params model, what it needs from GWS, and its translation."""

    params: type[_Params]
    translate: Translator
    needs: frozenset[Need] = field(default_factory=frozenset)
    summary: str = ""


_S = frozenset
_STATES = _S({Need.AGENT_STATES})

ACTIONS: dict[str, ActionSpec] = {
    # agent state (voice channel, GWS 8.5.2 agent-state operations)
    "agent.ready": ActionSpec(NoParams, lambda p, c: gws.ready(), summary="Ready"),
    "agent.not_ready": ActionSpec(NotReadyParams, translate_not_ready, _STATES, "Not Ready, optional reason"),
    "agent.after_call_work": ActionSpec(NoParams, lambda p, c: gws.after_call_work()),
    "agent.aux_work": ActionSpec(NoParams, lambda p, c: gws.aux_work()),
    "agent.offline": ActionSpec(NoParams, lambda p, c: gws.offline()),
    "agent.state": ActionSpec(
        AgentStateParams, translate_agent_state, _STATES, "custom agent-state operation"
    ),
    "agent.dnd": ActionSpec(DndParams, lambda p, c: gws.me_dnd(p.on)),
    "channel.state": ActionSpec(ChannelStateParams, translate_channel_state, _STATES),
    # dispositions
    "call.set_disposition": ActionSpec(
        DispositionParams, translate_set_disposition, _S({Need.DISPOSITIONS, Need.DEVICE})
    ),
    # calls
    "call.answer": ActionSpec(CallParams, lambda p, c: gws.answer(p.call_id)),
    "call.reject": ActionSpec(CallParams, lambda p, c: gws.reject_call(p.call_id)),
    "call.hangup": ActionSpec(CallParams, lambda p, c: gws.hangup(p.call_id)),
    "call.hold": ActionSpec(CallParams, lambda p, c: gws.hold(p.call_id)),
    "call.retrieve": ActionSpec(CallParams, lambda p, c: gws.retrieve(p.call_id)),
    "call.dial": ActionSpec(
        DialParams, lambda p, c: gws.dial(device_of(c), p.destination, p.user_data), _S({Need.DEVICE})
    ),
    "call.send_dtmf": ActionSpec(DtmfParams, lambda p, c: gws.send_dtmf(p.call_id, p.digits)),
    "call.attach_data": ActionSpec(CallDataParams, lambda p, c: gws.attach_user_data(p.call_id, p.user_data)),
    "call.update_data": ActionSpec(CallDataParams, lambda p, c: gws.update_user_data(p.call_id, p.user_data)),
    "call.delete_data": ActionSpec(
        DeleteDataParams,
        lambda p, c: (
            gws.delete_user_data_pair(p.call_id, p.key) if p.key else gws.delete_user_data(p.call_id)
        ),
    ),
    "call.transfer": ActionSpec(
        CallDestinationParams,
        lambda p, c: gws.single_step_transfer(p.call_id, p.destination, p.user_data),
        summary="single-step transfer",
    ),
    "call.initiate_transfer": ActionSpec(
        CallDestinationParams, lambda p, c: gws.initiate_transfer(p.call_id, p.destination, p.user_data)
    ),
    "call.complete_transfer": ActionSpec(
        CompleteParams, lambda p, c: gws.complete_transfer(p.call_id, p.consult_call_id, base_url=c.base_url)
    ),
    "call.conference": ActionSpec(
        CallDestinationParams,
        lambda p, c: gws.single_step_conference(p.call_id, p.destination, p.user_data),
        summary="single-step conference",
    ),
    "call.initiate_conference": ActionSpec(
        CallDestinationParams, lambda p, c: gws.initiate_conference(p.call_id, p.destination, p.user_data)
    ),
    "call.complete_conference": ActionSpec(
        CompleteParams,
        lambda p, c: gws.complete_conference(p.call_id, p.consult_call_id, base_url=c.base_url),
    ),
    "call.start_recording": ActionSpec(CallParams, lambda p, c: gws.start_recording(p.call_id)),
    "call.stop_recording": ActionSpec(CallParams, lambda p, c: gws.stop_recording(p.call_id)),
    "call.pause_recording": ActionSpec(CallParams, lambda p, c: gws.pause_recording(p.call_id)),
    "call.resume_recording": ActionSpec(CallParams, lambda p, c: gws.resume_recording(p.call_id)),
    # interactions and workbins (8.5.1: synchronous "status: ok" replies)
    "interaction.accept": ActionSpec(
        InteractionAcceptParams, lambda p, c: gws.accept_interaction(p.interaction_id, p.nickname)
    ),
    "interaction.reject": ActionSpec(
        InteractionParams, lambda p, c: gws.reject_interaction(p.interaction_id)
    ),
    "interaction.complete": ActionSpec(
        InteractionParams, lambda p, c: gws.complete_interaction(p.interaction_id)
    ),
    "interaction.place_in_queue": ActionSpec(
        PlaceInQueueParams, lambda p, c: gws.place_in_queue(p.interaction_id, p.queue)
    ),
    "interaction.place_in_workbin": ActionSpec(
        PlaceInWorkbinParams, lambda p, c: gws.place_in_workbin(p.interaction_id, p.workbin)
    ),
    "interaction.transfer": ActionSpec(
        InteractionTransferParams, lambda p, c: gws.transfer_interaction(p.interaction_id, p.user_id)
    ),
    "interaction.update_data": ActionSpec(
        InteractionDataParams, lambda p, c: gws.update_interaction_data(p.interaction_id, p.user_data)
    ),
    "workbin.pull": ActionSpec(
        WorkbinPullParams,
        lambda p, c: gws.pull_from_workbin(p.workbin_id, p.interaction_id, base_url=c.base_url),
    ),
    # sessions
    "session.start": ActionSpec(
        SessionStartParams,
        lambda p, c: gws.start_contact_center_session(
            p.channels, place=p.place, login_code=p.login_code, queue=p.queue
        ),
    ),
    "session.end": ActionSpec(NoParams, lambda p, c: gws.end_contact_center_session()),
}
