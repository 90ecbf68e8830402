"""The action table: every action name, its params schema, what it needs from GWS, its translator.

:data:`ACTIONS` is the one place that says which actions exist; the dialects
validate against it and :func:`bridge.commands.translate` dispatches through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.commands.model import SYNC, GwsRequest, Need, OutcomeRule
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
    call_op,
    consult,
    interaction_op,
    phone,
    translate_agent_state,
    translate_channel_state,
    translate_dial,
    translate_dnd,
    translate_not_ready,
    translate_session_start,
    translate_set_disposition,
    translate_workbin_pull,
    voice_state,
)


@dataclass(frozen=True)
class ActionSpec:
    """One action: its params model, what it needs from GWS, and its translation."""

    params: type[_Params]
    translate: Translator
    needs: frozenset[Need] = field(default_factory=frozenset)
    summary: str = ""


def _fixed(request: GwsRequest, rule: OutcomeRule) -> Translator:
    return lambda p, ctx: (request, rule)


_S = frozenset


def _data_op(operation: str) -> Translator:
    return call_op(operation, types=_S({"AttachedDataChanged"}), extra=lambda p: {"userData": p.user_data})


def _recording_op(operation: str, state: str) -> Translator:
    return call_op(operation, types=_S({"CallRecordingStateChange"}), recording=state)


_STATES = _S({Need.AGENT_STATES})
_RELEASED = _S({"Released"})

ACTIONS: dict[str, ActionSpec] = {
    # agent state (voice channel, GWS 8.5.2 agent-state operations)
    "agent.ready": ActionSpec(NoParams, lambda p, c: voice_state("Ready", "Ready"), summary="Ready"),
    "agent.not_ready": ActionSpec(NotReadyParams, translate_not_ready, _STATES, "Not Ready, optional reason"),
    "agent.after_call_work": ActionSpec(
        NoParams, lambda p, c: voice_state("AfterCallWork", "NotReady", "AfterCallWork")
    ),
    "agent.aux_work": ActionSpec(NoParams, lambda p, c: voice_state("AuxWork", "NotReady", "AuxWork")),
    "agent.offline": ActionSpec(NoParams, lambda p, c: voice_state("Offline", "LoggedOut")),
    "agent.state": ActionSpec(
        AgentStateParams, translate_agent_state, _STATES, "custom agent-state operation"
    ),
    "agent.dnd": ActionSpec(DndParams, translate_dnd),
    "channel.state": ActionSpec(ChannelStateParams, translate_channel_state, _STATES),
    # dispositions
    "call.set_disposition": ActionSpec(
        DispositionParams, translate_set_disposition, _S({Need.DISPOSITIONS, Need.DEVICE})
    ),
    # calls
    "call.answer": ActionSpec(CallParams, call_op("Answer", states=_S({"Established"}))),
    "call.reject": ActionSpec(CallParams, call_op("Reject", states=_RELEASED)),
    "call.hangup": ActionSpec(CallParams, call_op("Hangup", states=_RELEASED)),
    "call.hold": ActionSpec(CallParams, call_op("Hold", states=_S({"Held"}))),
    "call.retrieve": ActionSpec(CallParams, call_op("Retrieve", states=_S({"Established"}))),
    "call.dial": ActionSpec(DialParams, translate_dial, _S({Need.DEVICE})),
    "call.send_dtmf": ActionSpec(
        DtmfParams, call_op("SendDtmf", types=_S({"DtmfSent"}), extra=lambda p: {"digits": p.digits})
    ),
    "call.attach_data": ActionSpec(CallDataParams, _data_op("AttachUserData")),
    "call.update_data": ActionSpec(CallDataParams, _data_op("UpdateUserData")),
    "call.delete_data": ActionSpec(
        DeleteDataParams,
        lambda p, c: call_op(
            "DeleteUserDataPair" if p.key else "DeleteUserData",
            types=_S({"AttachedDataChanged"}),
            extra=lambda q: {"key": q.key},
        )(p, c),
    ),
    "call.transfer": ActionSpec(
        CallDestinationParams,
        call_op(
            "SingleStepTransfer",
            states=_RELEASED,
            extra=lambda p: {"destination": phone(p.destination), "userData": p.user_data},
        ),
        summary="single-step transfer",
    ),
    "call.initiate_transfer": ActionSpec(
        CallDestinationParams,
        call_op(
            "InitiateTransfer",
            states=_S({"Held"}),
            extra=lambda p: {"destination": phone(p.destination), "userData": p.user_data},
        ),
    ),
    "call.complete_transfer": ActionSpec(
        CompleteParams,
        call_op("CompleteTransfer", states=_RELEASED, extra=lambda p: {"consultCallUri": consult(p)}),
    ),
    "call.conference": ActionSpec(
        CallDestinationParams,
        call_op(
            "SingleStepConference",
            types=_S({"ParticipantsUpdated"}),
            extra=lambda p: {"destination": phone(p.destination), "userData": p.user_data},
        ),
        summary="single-step conference",
    ),
    "call.initiate_conference": ActionSpec(
        CallDestinationParams,
        call_op(
            "InitiateConference",
            states=_S({"Held"}),
            extra=lambda p: {"destination": phone(p.destination), "userData": p.user_data},
        ),
    ),
    "call.complete_conference": ActionSpec(
        CompleteParams,
        call_op(
            "CompleteConference",
            states=_RELEASED,
            types=_S({"ParticipantsUpdated"}),
            extra=lambda p: {"consultCallUri": consult(p)},
        ),
    ),
    "call.start_recording": ActionSpec(CallParams, _recording_op("StartCallRecording", "Recording")),
    "call.stop_recording": ActionSpec(CallParams, _recording_op("StopCallRecording", "Stopped")),
    "call.pause_recording": ActionSpec(CallParams, _recording_op("PauseCallRecording", "Paused")),
    "call.resume_recording": ActionSpec(CallParams, _recording_op("ResumeCallRecording", "Recording")),
    # interactions and workbins (8.5.1: synchronous "status: ok" replies)
    "interaction.accept": ActionSpec(
        InteractionAcceptParams, interaction_op("Accept", lambda p: {"nickname": p.nickname})
    ),
    "interaction.reject": ActionSpec(InteractionParams, interaction_op("Reject")),
    "interaction.complete": ActionSpec(InteractionParams, interaction_op("Complete")),
    "interaction.place_in_queue": ActionSpec(
        PlaceInQueueParams, interaction_op("PlaceInQueue", lambda p: {"queueName": p.queue})
    ),
    "interaction.place_in_workbin": ActionSpec(
        PlaceInWorkbinParams, interaction_op("PlaceInWorkbin", lambda p: {"workbin": p.workbin})
    ),
    "interaction.transfer": ActionSpec(
        InteractionTransferParams, interaction_op("Transfer", lambda p: {"userId": p.user_id})
    ),
    "interaction.update_data": ActionSpec(
        InteractionDataParams, interaction_op("UpdateUserData", lambda p: {"userData": p.user_data})
    ),
    "workbin.pull": ActionSpec(WorkbinPullParams, translate_workbin_pull),
    # sessions
    "session.start": ActionSpec(SessionStartParams, translate_session_start),
    "session.end": ActionSpec(
        NoParams, _fixed(GwsRequest("POST", "/me", {"operationName": "EndContactCenterSession"}), SYNC)
    ),
}
