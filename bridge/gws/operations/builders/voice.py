"""Voice call operations (8.5.2 Voice API, catalogue §4-§9): call control, call data,
conferences and transfers, recording, dispositions, Dial, and the supervisor's call operations.

All are asynchronous: the reply (``statusCode 0``) only means "sent to T-Server"; each builder's
rule names the ``/v2/me/calls`` notification that confirms it, and an ``ErrorMessage`` naming the
call fails it. Ids and URIs: ``base_url`` is the GWS root (without ``/api/v2``); URIs inside
bodies are absolute, as in the seeds' samples.
"""

from __future__ import annotations

from typing import Any

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.request import (
    GwsRequest,
    Operation,
    OutcomeRule,
    api_uri,
    operation_body,
    phone_number,
    segment,
)
from bridge.normalize.dispositions import disposition_note

__all__ = [
    "answer",
    "attach_user_data",
    "call_operation",
    "complete_conference",
    "complete_transfer",
    "delete_user_data",
    "delete_user_data_pair",
    "dial",
    "hangup",
    "hold",
    "initiate_conference",
    "initiate_transfer",
    "merge_with_other_call",
    "mute_call",
    "mute_monitored_user",
    "pause_recording",
    "reject_call",
    "remove_participant",
    "resume_recording",
    "retrieve",
    "send_dtmf",
    "set_call_disposition",
    "single_step_conference",
    "single_step_transfer",
    "start_recording",
    "stop_recording",
    "swap_calls",
    "switch_to_barge_in",
    "switch_to_listen_in",
    "unmute_call",
    "unmute_monitored_user",
    "update_user_data",
]

_S = frozenset
_RELEASED = _S({"Released"})
_HELD = _S({"Held"})
_ESTABLISHED = _S({"Established"})
_DATA = _S({"AttachedDataChanged"})
_PARTICIPANTS = _S({"ParticipantsUpdated"})
_CALLS = "/v2/me/calls CallStateChangeMessage"
_CALL = "/me/calls/{call}"


def _call_path(call_id: str) -> str:
    return f"/me/calls/{segment(call_id)}"


def call_operation(
    call_id: str,
    operation_name: str,
    *,
    states: frozenset[str] = frozenset(),
    types: frozenset[str] = frozenset(),
    recording: str | None = None,
    attribute: tuple[str, Any] | None = None,
    **params: Any,
) -> Operation:
    """``POST /me/calls/{id} {"operationName": …, **params}`` (``None`` params left out), confirmed
    by a notification about this call in ``states`` / of a type in ``types``."""
    rule = OutcomeRule(
        call_id=call_id,
        call_states=states,
        notification_types=types,
        recording_state=recording,
        call_attribute=attribute,
    )
    return Operation(GwsRequest("POST", _call_path(call_id), operation_body(operation_name, **params)), rule)


# -- call control (§4) ------------------------------------------------------------------------------


@operation(
    "call.Answer", "POST", _CALL, confirms=f"{_CALLS} StatusChange → Established", source="002:4828-4929"
)
def answer(call_id: str) -> Operation:
    return call_operation(call_id, "Answer", states=_ESTABLISHED)


@operation("call.Reject", "POST", _CALL, confirms=f"{_CALLS} StatusChange → Released", source="002:4931-5022")
def reject_call(call_id: str) -> Operation:
    """Only for a call delivered through a queue (it goes back to the queue)."""
    return call_operation(call_id, "Reject", states=_RELEASED)


@operation("call.Hangup", "POST", _CALL, confirms=f"{_CALLS} StatusChange → Released", source="002:5219-5303")
def hangup(call_id: str) -> Operation:
    return call_operation(call_id, "Hangup", states=_RELEASED)


@operation("call.Hold", "POST", _CALL, confirms=f"{_CALLS} StatusChange → Held", source="002:5024-5118")
def hold(call_id: str) -> Operation:
    return call_operation(call_id, "Hold", states=_HELD)


@operation(
    "call.Retrieve", "POST", _CALL, confirms=f"{_CALLS} StatusChange → Established", source="002:5120-5217"
)
def retrieve(call_id: str) -> Operation:
    return call_operation(call_id, "Retrieve", states=_ESTABLISHED)


@operation("call.SendDtmf", "POST", _CALL, confirms=f"{_CALLS} DtmfSent", source="002:5305-5405")
def send_dtmf(call_id: str, digits: str) -> Operation:
    return call_operation(call_id, "SendDtmf", types=_S({"DtmfSent"}), digits=digits)


@operation(
    "call.MuteCall",
    "POST",
    _CALL,
    confirms=f"{_CALLS}: call.mute On (the seeds document none)",
    source="002:5407-5457",
)
def mute_call(call_id: str) -> Operation:
    return call_operation(call_id, "MuteCall", attribute=("mute", "On"))


@operation(
    "call.UnmuteCall",
    "POST",
    _CALL,
    confirms=f"{_CALLS}: call.mute Off (the seeds document none)",
    source="002:5459-5502",
)
def unmute_call(call_id: str) -> Operation:
    return call_operation(call_id, "UnmuteCall", attribute=("mute", "Off"))


@operation(
    "device.Dial",
    "POST",
    "/me/devices/{device}/calls",
    confirms=f"{_CALLS} StatusChange → Dialing",
    source="002:4641-4826",
)
def dial(device_id: str, destination: str, user_data: dict[str, Any] | None = None) -> Operation:
    """A new call from the agent's device; the new call's id is only known from the notification."""
    body = operation_body("Dial", destination=phone_number(destination), userData=user_data or None)
    rule = OutcomeRule(call_states=_S({"Dialing"}), device_errors=True)
    return Operation(GwsRequest("POST", f"/me/devices/{segment(device_id)}/calls", body), rule)


# -- call data (§5) ---------------------------------------------------------------------------------


@operation(
    "call.AttachUserData", "POST", _CALL, confirms=f"{_CALLS} AttachedDataChanged", source="002:8263-8378"
)
def attach_user_data(call_id: str, user_data: dict[str, Any]) -> Operation:
    """Adds keys even when they exist (prefer :func:`update_user_data`)."""
    return call_operation(call_id, "AttachUserData", types=_DATA, userData=user_data)


@operation(
    "call.UpdateUserData", "POST", _CALL, confirms=f"{_CALLS} AttachedDataChanged", source="002:8384-8576"
)
def update_user_data(call_id: str, user_data: dict[str, Any]) -> Operation:
    return call_operation(call_id, "UpdateUserData", types=_DATA, userData=user_data)


@operation(
    "call.DeleteUserData", "POST", _CALL, confirms=f"{_CALLS} AttachedDataChanged", source="002:8578-8679"
)
def delete_user_data(call_id: str) -> Operation:
    return call_operation(call_id, "DeleteUserData", types=_DATA)


@operation(
    "call.DeleteUserDataPair", "POST", _CALL, confirms=f"{_CALLS} AttachedDataChanged", source="002:8681-8797"
)
def delete_user_data_pair(call_id: str, key: str) -> Operation:
    return call_operation(call_id, "DeleteUserDataPair", types=_DATA, key=key)


# -- dispositions (§6) ------------------------------------------------------------------------------


@operation(
    "call.SetCallDisposition",
    "POST",
    _CALL,
    confirms=f"{_CALLS} AttachedDataChanged while the call is active; nothing once it is released "
    "(the agent's subscriber then reports it from the command's note)",
    source="002:5504-5623",
    alternate_path="/me/devices/{device}",
)
def set_call_disposition(
    disposition: str,
    *,
    base_url: str,
    call_id: str | None = None,
    call_uuid: str | None = None,
    key: str | None = None,
    device_id: str | None = None,
) -> Operation:
    """``SetCallDisposition`` on a call (active or released). ``key`` is the userData key
    (``dispositionKey``; ``None``: GWS's configured key). Sent to ``/me/calls/{id}`` with the
    call's ``callUri``, or, with ``device_id`` (the seed's sample; the only way with just a
    ``call_uuid``), to ``/me/devices/{id}``. ValueError when neither a call nor a device is named."""
    body = operation_body(
        "SetCallDisposition",
        callUri=api_uri(base_url, _call_path(call_id)) if call_id else None,
        callUuid=call_uuid,
        disposition=disposition,
        dispositionKey=key or None,
    )
    if device_id is not None:
        path = f"/me/devices/{segment(device_id)}"
    elif call_id is not None:
        path = _call_path(call_id)
    else:
        raise ValueError("SetCallDisposition needs a call id or a device id")
    # A released call gets no notification (GWS sends EventUserEvent to reporting only): the
    # note lets the agent's subscriber report the disposition when GWS does not.
    note = disposition_note(call_id=call_id, call_uuid=call_uuid, disposition=disposition, key=key)
    rule = OutcomeRule(call_id=call_id, notification_types=_DATA, note=note)
    return Operation(GwsRequest("POST", path, body), rule)


# -- conferences and transfers (§8) -----------------------------------------------------------------


@operation(
    "call.SingleStepTransfer",
    "POST",
    _CALL,
    confirms=f"{_CALLS} StatusChange → Released",
    source="002:6336-6498",
)
def single_step_transfer(
    call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Operation:
    return call_operation(
        call_id,
        "SingleStepTransfer",
        states=_RELEASED,
        destination=phone_number(destination),
        userData=user_data,
    )


@operation(
    "call.InitiateTransfer",
    "POST",
    _CALL,
    confirms=f"{_CALLS} StatusChange → Held (then the consult call Dialing)",
    source="002:6500-7020",
)
def initiate_transfer(call_id: str, destination: str, user_data: dict[str, Any] | None = None) -> Operation:
    return call_operation(
        call_id, "InitiateTransfer", states=_HELD, destination=phone_number(destination), userData=user_data
    )


def _consult_uri(base_url: str, consult_call_id: str | None) -> str | None:
    # GWS finds the related call itself when consultCallUri is absent.
    return api_uri(base_url, _call_path(consult_call_id)) if consult_call_id else None


@operation(
    "call.CompleteTransfer",
    "POST",
    _CALL,
    confirms=f"{_CALLS} StatusChange → Released",
    source="002:7022-7507",
)
def complete_transfer(call_id: str, consult_call_id: str | None = None, *, base_url: str) -> Operation:
    return call_operation(
        call_id, "CompleteTransfer", states=_RELEASED, consultCallUri=_consult_uri(base_url, consult_call_id)
    )


@operation(
    "call.SingleStepConference",
    "POST",
    _CALL,
    confirms=f"{_CALLS} ParticipantsUpdated",
    source="002:5812-6018",
)
def single_step_conference(
    call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Operation:
    return call_operation(
        call_id,
        "SingleStepConference",
        types=_PARTICIPANTS,
        destination=phone_number(destination),
        userData=user_data,
    )


@operation(
    "call.InitiateConference",
    "POST",
    _CALL,
    confirms=f"{_CALLS} StatusChange → Held (then the consult call Dialing)",
    source="002:6020-6181",
)
def initiate_conference(call_id: str, destination: str, user_data: dict[str, Any] | None = None) -> Operation:
    return call_operation(
        call_id, "InitiateConference", states=_HELD, destination=phone_number(destination), userData=user_data
    )


@operation(
    "call.CompleteConference",
    "POST",
    _CALL,
    confirms=f"{_CALLS} consult Released, original ParticipantsUpdated",
    source="002:6183-6334",
)
def complete_conference(call_id: str, consult_call_id: str | None = None, *, base_url: str) -> Operation:
    return call_operation(
        call_id,
        "CompleteConference",
        states=_RELEASED,
        types=_PARTICIPANTS,
        consultCallUri=_consult_uri(base_url, consult_call_id),
    )


@operation(
    "call.RemoveParticipantFromConference",
    "POST",
    _CALL,
    confirms=f"{_CALLS} ParticipantsUpdated",
    source="002:7509-7609",
)
def remove_participant(call_id: str, participant: str) -> Operation:
    """Only the conference's owner or a monitoring supervisor may (GWS enforces it)."""
    return call_operation(
        call_id, "RemoveParticipantFromConference", types=_PARTICIPANTS, participant=participant
    )


@operation(
    "call.SwapCalls",
    "POST",
    _CALL,
    confirms=f"{_CALLS} StatusChange: this call → Held, the other → Established",
    source="002:7611-8213",
)
def swap_calls(call_id: str, other_call_id: str, *, base_url: str) -> Operation:
    """Hold this call and retrieve the other one."""
    other = api_uri(base_url, _call_path(other_call_id))
    return call_operation(call_id, "SwapCalls", states=_HELD, otherCallUri=other)


@operation(
    "call.MergeWithOtherCall",
    "POST",
    _CALL,
    confirms="not documented (the seeds' notification section is empty): unknown unless an ErrorMessage",
    source="002:8215-8255",
)
def merge_with_other_call(call_id: str, other_call_id: str, *, base_url: str) -> Operation:
    other = api_uri(base_url, _call_path(other_call_id))
    return call_operation(call_id, "MergeWithOtherCall", otherCallUri=other)


# -- recording (§9) ---------------------------------------------------------------------------------

_RECORDING = _S({"CallRecordingStateChange"})


@operation(
    "call.StartCallRecording",
    "POST",
    _CALL,
    confirms=f"{_CALLS} CallRecordingStateChange, recordingState Recording",
    source="003:4108-4521",
)
def start_recording(call_id: str) -> Operation:
    return call_operation(call_id, "StartCallRecording", types=_RECORDING, recording="Recording")


@operation(
    "call.StopCallRecording",
    "POST",
    _CALL,
    confirms=f"{_CALLS} CallRecordingStateChange, recordingState Stopped",
    source="003:4108-4521",
)
def stop_recording(call_id: str) -> Operation:
    return call_operation(call_id, "StopCallRecording", types=_RECORDING, recording="Stopped")


@operation(
    "call.PauseCallRecording",
    "POST",
    _CALL,
    confirms=f"{_CALLS} CallRecordingStateChange, recordingState Paused",
    source="003:4108-4521",
)
def pause_recording(call_id: str) -> Operation:
    return call_operation(call_id, "PauseCallRecording", types=_RECORDING, recording="Paused")


@operation(
    "call.ResumeCallRecording",
    "POST",
    _CALL,
    confirms=f"{_CALLS} CallRecordingStateChange, recordingState Recording",
    source="003:4108-4521",
)
def resume_recording(call_id: str) -> Operation:
    return call_operation(call_id, "ResumeCallRecording", types=_RECORDING, recording="Recording")


# -- the supervisor's call operations (§7) ----------------------------------------------------------


@operation(
    "call.SwitchToBargeIn", "POST", _CALL, confirms=f"{_CALLS} StatusChange, mute Off", source="002:9771-9882"
)
def switch_to_barge_in(call_id: str) -> Operation:
    return call_operation(call_id, "SwitchToBargeIn", attribute=("mute", "Off"))


@operation(
    "call.SwitchToListenIn", "POST", _CALL, confirms=f"{_CALLS} StatusChange, mute On", source="002:9884-9990"
)
def switch_to_listen_in(call_id: str) -> Operation:
    return call_operation(call_id, "SwitchToListenIn", attribute=("mute", "On"))


@operation(
    "call.MuteMonitoredUser",
    "POST",
    _CALL,
    confirms=f"{_CALLS} MonitoredUserMutedStateChange, monitoredUserMuted true",
    source="002:9992-10108",
)
def mute_monitored_user(call_id: str) -> Operation:
    return call_operation(
        call_id,
        "MuteMonitoredUser",
        types=_S({"MonitoredUserMutedStateChange"}),
        attribute=("monitoredUserMuted", True),
    )


@operation(
    "call.UnmuteMonitoredUser",
    "POST",
    _CALL,
    confirms=f"{_CALLS} MonitoredUserMutedStateChange, monitoredUserMuted false",
    source="002:10110-10217",
)
def unmute_monitored_user(call_id: str) -> Operation:
    return call_operation(
        call_id,
        "UnmuteMonitoredUser",
        types=_S({"MonitoredUserMutedStateChange"}),
        attribute=("monitoredUserMuted", False),
    )
