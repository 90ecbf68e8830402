"""GWS operations: each defined once as a pure builder, and performed over a :class:`GwsRestClient`.

:mod:`bridge.gws.operations.builders` holds every operation as a pure function returning an
``Operation`` (the request, and the notification that confirms it) and the operation table
(``OPERATIONS``); :mod:`bridge.gws.operations.request` the types. The async functions here are
thin conveniences that build an operation and send it (``client.perform(op.request)``), plus
the reads the sessions need. Paths are relative to ``/api/v2``. Each mutating function returns
GWS's reply body (``{"statusCode": 0}``, ``{"status": "ok"}``, …) and raises what
:meth:`GwsRestClient.request` raises: a ``GwsError`` subclass when GWS refuses,
``GwsTransportError`` when it cannot be reached. Voice operations are asynchronous in GWS:
success only means "accepted"; the outcome arrives on CometD.

The functions live in ``agent``, ``calls``, ``interactions``, ``workbins`` and ``reads``; import them from
here (``from bridge.gws import operations``; ``operations.ready(client)``).
"""

from __future__ import annotations

from bridge.gws.operations.agent import (
    after_call_work,
    agent_state_operation,
    all_channels_not_ready,
    all_channels_ready,
    aux_work,
    channel_state,
    dnd,
    end_contact_center_session,
    not_ready,
    offline,
    ready,
    start_contact_center_session,
)
from bridge.gws.operations.calls import (
    answer,
    attach_user_data,
    call_operation,
    complete_conference,
    complete_transfer,
    delete_user_data,
    delete_user_data_pair,
    dial,
    forward_calls_off,
    forward_calls_on,
    hangup,
    hold,
    initiate_conference,
    initiate_transfer,
    mute_call,
    pause_recording,
    reject_call,
    resume_recording,
    retrieve,
    send_dtmf,
    set_call_disposition,
    single_step_conference,
    single_step_transfer,
    start_recording,
    stop_recording,
    swap_calls,
    unmute_call,
    update_user_data,
)
from bridge.gws.operations.interactions import (
    accept_interaction,
    complete_interaction,
    interaction_operation,
    place_in_queue,
    place_in_workbin,
    pull_from_workbin,
    reject_interaction,
    transfer_interaction,
    update_interaction_data,
)
from bridge.gws.operations.reads import (
    get_agent_states,
    get_calls,
    get_devices,
    get_disposition_groups,
    get_dispositions,
    get_interactions,
    get_me,
    get_voice_settings,
)
from bridge.gws.operations.workbins import (
    get_workbin_content,
    get_workbins,
    subscribe_workbin,
    unsubscribe_workbin,
)

__all__ = [
    "accept_interaction",
    "after_call_work",
    "agent_state_operation",
    "all_channels_not_ready",
    "all_channels_ready",
    "answer",
    "attach_user_data",
    "aux_work",
    "call_operation",
    "channel_state",
    "complete_conference",
    "complete_interaction",
    "complete_transfer",
    "delete_user_data",
    "delete_user_data_pair",
    "dial",
    "dnd",
    "end_contact_center_session",
    "forward_calls_off",
    "forward_calls_on",
    "get_agent_states",
    "get_calls",
    "get_devices",
    "get_disposition_groups",
    "get_dispositions",
    "get_interactions",
    "get_me",
    "get_voice_settings",
    "get_workbin_content",
    "get_workbins",
    "hangup",
    "hold",
    "initiate_conference",
    "initiate_transfer",
    "interaction_operation",
    "mute_call",
    "not_ready",
    "offline",
    "pause_recording",
    "place_in_queue",
    "place_in_workbin",
    "pull_from_workbin",
    "ready",
    "reject_call",
    "reject_interaction",
    "resume_recording",
    "retrieve",
    "send_dtmf",
    "set_call_disposition",
    "single_step_conference",
    "single_step_transfer",
    "start_contact_center_session",
    "start_recording",
    "stop_recording",
    "subscribe_workbin",
    "swap_calls",
    "transfer_interaction",
    "unmute_call",
    "unsubscribe_workbin",
    "update_interaction_data",
    "update_user_data",
]
