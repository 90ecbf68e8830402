"""The action table: every action name, its params schema, what it needs from GWS, its translator.

:data:`ACTIONS` is the one place that says which actions exist; the dialects
validate against it and :func:`bridge.commands.translate` dispatches through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.commands.media_params import (
    ChatAgentParams,
    ChatHistoryParams,
    ChatMessageParams,
    EmailAttachmentParams,
    EmailAttachParams,
    EmailCreateParams,
    EmailReplyParams,
    EmailSendParams,
    InteractionAcceptParams,
    InteractionDataParams,
    InteractionDeleteDataParams,
    InteractionParams,
    InteractionTransferParams,
    PlaceInQueueParams,
    PlaceInWorkbinParams,
    WorkbinAddParams,
    WorkbinParams,
    WorkbinPullParams,
)
from bridge.commands.model import Need
from bridge.commands.params import (
    AgentStateParams,
    AllChannelsStateParams,
    CallDataParams,
    CallDestinationParams,
    CallParams,
    ChangePasswordParams,
    ChannelDndParams,
    ChannelStateParams,
    CompleteParams,
    DeleteDataParams,
    DialParams,
    DispositionParams,
    DndParams,
    DtmfParams,
    ForwardParams,
    MonitorParams,
    NoParams,
    NotReadyParams,
    OtherCallParams,
    ParamsModel,
    RemoveParticipantParams,
    SessionStartParams,
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

    params: type[ParamsModel]
    translate: Translator
    needs: frozenset[Need] = field(default_factory=frozenset)
    summary: str = ""


_S = frozenset
_STATES = _S({Need.AGENT_STATES})

_DEVICE = _S({Need.DEVICE})

_MORE_VOICE: dict[str, ActionSpec] = {
    "call.mute": ActionSpec(CallParams, lambda p, c: gws.mute_call(p.call_id), summary="mute the agent"),
    "call.unmute": ActionSpec(CallParams, lambda p, c: gws.unmute_call(p.call_id)),
    "call.swap": ActionSpec(
        OtherCallParams,
        lambda p, c: gws.swap_calls(p.call_id, p.other_call_id, base_url=c.base_url),
        summary="hold this call, retrieve the other",
    ),
    "call.merge": ActionSpec(
        OtherCallParams,
        lambda p, c: gws.merge_with_other_call(p.call_id, p.other_call_id, base_url=c.base_url),
    ),
    "call.remove_participant": ActionSpec(
        RemoveParticipantParams, lambda p, c: gws.remove_participant(p.call_id, p.participant)
    ),
}


def _monitor(mode: str) -> Translator:
    return lambda p, c: gws.monitor(
        mode, device_of(c), p.target_device_id, base_url=c.base_url, scope=p.scope, monitoring_mode=p.mode
    )


_SUPERVISOR: dict[str, ActionSpec] = {
    "supervisor.listen_in": ActionSpec(MonitorParams, _monitor("ListenIn"), _DEVICE),
    "supervisor.coach": ActionSpec(MonitorParams, _monitor("Coach"), _DEVICE),
    "supervisor.barge_in": ActionSpec(MonitorParams, _monitor("BargeIn"), _DEVICE),
    "supervisor.cancel": ActionSpec(
        NoParams, lambda p, c: gws.cancel_supervisor_monitoring(device_of(c)), _DEVICE
    ),
    "supervisor.switch_to_barge_in": ActionSpec(CallParams, lambda p, c: gws.switch_to_barge_in(p.call_id)),
    "supervisor.switch_to_listen_in": ActionSpec(CallParams, lambda p, c: gws.switch_to_listen_in(p.call_id)),
    "supervisor.mute_agent": ActionSpec(CallParams, lambda p, c: gws.mute_monitored_user(p.call_id)),
    "supervisor.unmute_agent": ActionSpec(CallParams, lambda p, c: gws.unmute_monitored_user(p.call_id)),
}

_MORE_AGENT: dict[str, ActionSpec] = {
    "agent.all_channels": ActionSpec(
        AllChannelsStateParams,
        lambda p, c: gws.all_channels_state(p.state),
        summary="Ready/NotReady everywhere",
    ),
    "channel.dnd": ActionSpec(ChannelDndParams, lambda p, c: gws.channel_dnd(p.channel, p.on)),
    "device.dnd": ActionSpec(DndParams, lambda p, c: gws.device_dnd(device_of(c), p.on), _DEVICE),
    "device.forward_on": ActionSpec(
        ForwardParams, lambda p, c: gws.forward_calls_on(device_of(c), p.destination), _DEVICE
    ),
    "device.forward_off": ActionSpec(NoParams, lambda p, c: gws.forward_calls_off(device_of(c)), _DEVICE),
    "agent.change_password": ActionSpec(
        ChangePasswordParams,
        lambda p, c: gws.change_password(p.old_password, p.new_password, first_login=p.first_login),
    ),
}

_CHAT: dict[str, ActionSpec] = {
    "chat.send_message": ActionSpec(
        ChatMessageParams, lambda p, c: gws.send_message(p.interaction_id, p.text)
    ),
    "chat.typing_started": ActionSpec(InteractionParams, lambda p, c: gws.start_typing(p.interaction_id)),
    "chat.typing_stopped": ActionSpec(InteractionParams, lambda p, c: gws.stop_typing(p.interaction_id)),
    "chat.invite": ActionSpec(ChatAgentParams, lambda p, c: gws.invite_user(p.interaction_id, p.agent_id)),
    "chat.leave": ActionSpec(
        ChatAgentParams, lambda p, c: gws.leave_conference(p.interaction_id, p.agent_id)
    ),
    "chat.end": ActionSpec(InteractionParams, lambda p, c: gws.end_chat_session(p.interaction_id)),
    "chat.history": ActionSpec(
        ChatHistoryParams, lambda p, c: gws.request_chat_history(p.interaction_id, p.event_id)
    ),
    "interaction.attach_data": ActionSpec(
        InteractionDataParams, lambda p, c: gws.attach_interaction_data(p.interaction_id, p.user_data)
    ),
    "interaction.delete_data": ActionSpec(
        InteractionDeleteDataParams, lambda p, c: gws.delete_interaction_data(p.interaction_id, p.keys)
    ),
    "interaction.cancel": ActionSpec(
        InteractionParams, lambda p, c: gws.cancel_interaction(p.interaction_id)
    ),
}


def _reply(build: Any) -> Translator:
    return lambda p, c: build(
        p.interaction_id,
        queue_name=p.queue,
        subject_prefix=p.subject_prefix,
        reply_to_start_line=p.reply_to_start_line,
        indent_character=p.indent_character,
        quote_original=p.quote_original,
    )


def _email_object(p: EmailSendParams) -> dict[str, str]:
    fields = {"toAddress": p.to, "subject": p.subject, "text": p.text, "fromAddress": p.from_address,
              "ccAddress": p.cc, "bccAddress": p.bcc}  # fmt: skip
    return {key: value for key, value in fields.items() if value is not None}


_EMAIL: dict[str, ActionSpec] = {
    "email.reply": ActionSpec(EmailReplyParams, _reply(gws.reply)),
    "email.reply_all": ActionSpec(EmailReplyParams, _reply(gws.reply_all)),
    "email.send": ActionSpec(
        EmailSendParams, lambda p, c: gws.send_email(p.interaction_id, _email_object(p), queue_name=p.queue)
    ),
    "email.create": ActionSpec(
        EmailCreateParams,
        lambda p, c: gws.create_email(
            p.queue, interaction_type=p.interaction_type, interaction_sub_type=p.interaction_sub_type
        ),
    ),
    "email.attach_file": ActionSpec(
        EmailAttachParams,
        lambda p, c: gws.add_attachment(p.interaction_id, p.file_name, p.data, p.mime_type),
        summary="attach a file (base64) to an e-mail; the reply's documentId names it",
    ),
    "email.delete_attachment": ActionSpec(
        EmailAttachmentParams,
        lambda p, c: gws.delete_attachment(p.interaction_id, p.attachment_id),
        summary="remove an attachment by its documentId",
    ),
}

_WORKBINS: dict[str, ActionSpec] = {
    "workbin.list": ActionSpec(NoParams, lambda p, c: gws.list_workbins()),
    "workbin.content": ActionSpec(WorkbinParams, lambda p, c: gws.workbin_content(p.workbin_id)),
    "workbin.add": ActionSpec(
        WorkbinAddParams, lambda p, c: gws.add_to_workbin(p.workbin_id, p.interaction_id)
    ),
}

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
    **_MORE_VOICE,
    **_SUPERVISOR,
    **_MORE_AGENT,
    **_CHAT,
    **_EMAIL,
    **_WORKBINS,
}

# Operations of the seeds deliberately without an action, and why (docs/commands.md shows it).
WITHOUT_ACTION: dict[str, str] = {
    "interaction.GetWorkbinContent": "its content arrives as notifications only; `workbin.content` reads it",
    "workbin.Subscribe": "the subscriber sends it for the agent's workbins after every login (003:6243)",
    "workbin.Unsubscribe": "the subscriber's own subscription; a command must not silence it",
}
