"""Voice call operations (8.5.2 Voice API, catalogue §4-§6, §9): call control, call data,
dispositions, Dial and recording — and what every call operation is built from
(:func:`call_operation`), which ``transfers.py`` (§8) and ``supervisor.py`` (§7) use too.

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
    "delete_user_data",
    "delete_user_data_pair",
    "dial",
    "hangup",
    "hold",
    "mute_call",
    "pause_recording",
    "reject_call",
    "resume_recording",
    "retrieve",
    "send_dtmf",
    "set_call_disposition",
    "start_recording",
    "stop_recording",
    "unmute_call",
    "update_user_data",
]

_S = frozenset
# What confirms a call operation: the call's new state, or a notification type, on this channel.
RELEASED = _S({"Released"})
HELD = _S({"Held"})
_ESTABLISHED = _S({"Established"})
_DATA = _S({"AttachedDataChanged"})
PARTICIPANTS_UPDATED = _S({"ParticipantsUpdated"})
CALLS = "/v2/me/calls CallStateChangeMessage"  # the channel and message that confirm (for the table)
CALL = "/me/calls/{call}"  # the path, as the operation table shows it


def call_path(call_id: str) -> str:
    """The path of call ``call_id`` (relative to ``/api/v2``)."""
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
    return Operation(GwsRequest("POST", call_path(call_id), operation_body(operation_name, **params)), rule)


# -- call control (§4) ------------------------------------------------------------------------------


@operation(
    "call.Answer", "POST", CALL, confirms=f"{CALLS} StatusChange → Established", source="002:4828-4929"
)
def answer(call_id: str) -> Operation:
    return call_operation(call_id, "Answer", states=_ESTABLISHED)


@operation("call.Reject", "POST", CALL, confirms=f"{CALLS} StatusChange → Released", source="002:4931-5022")
def reject_call(call_id: str) -> Operation:
    """Only for a call delivered through a queue (it goes back to the queue)."""
    return call_operation(call_id, "Reject", states=RELEASED)


@operation("call.Hangup", "POST", CALL, confirms=f"{CALLS} StatusChange → Released", source="002:5219-5303")
def hangup(call_id: str) -> Operation:
    return call_operation(call_id, "Hangup", states=RELEASED)


@operation("call.Hold", "POST", CALL, confirms=f"{CALLS} StatusChange → Held", source="002:5024-5118")
def hold(call_id: str) -> Operation:
    return call_operation(call_id, "Hold", states=HELD)


@operation(
    "call.Retrieve", "POST", CALL, confirms=f"{CALLS} StatusChange → Established", source="002:5120-5217"
)
def retrieve(call_id: str) -> Operation:
    return call_operation(call_id, "Retrieve", states=_ESTABLISHED)


@operation("call.SendDtmf", "POST", CALL, confirms=f"{CALLS} DtmfSent", source="002:5305-5405")
def send_dtmf(call_id: str, digits: str) -> Operation:
    return call_operation(call_id, "SendDtmf", types=_S({"DtmfSent"}), digits=digits)


@operation(
    "call.MuteCall",
    "POST",
    CALL,
    confirms=f"{CALLS}: call.mute On (the seeds document none)",
    source="002:5407-5457",
)
def mute_call(call_id: str) -> Operation:
    return call_operation(call_id, "MuteCall", attribute=("mute", "On"))


@operation(
    "call.UnmuteCall",
    "POST",
    CALL,
    confirms=f"{CALLS}: call.mute Off (the seeds document none)",
    source="002:5459-5502",
)
def unmute_call(call_id: str) -> Operation:
    return call_operation(call_id, "UnmuteCall", attribute=("mute", "Off"))


@operation(
    "device.Dial",
    "POST",
    "/me/devices/{device}/calls",
    confirms=f"{CALLS} StatusChange → Dialing",
    source="002:4641-4826",
)
def dial(device_id: str, destination: str, user_data: dict[str, Any] | None = None) -> Operation:
    """A new call from the agent's device; the new call's id is only known from the notification."""
    body = operation_body("Dial", destination=phone_number(destination), userData=user_data or None)
    rule = OutcomeRule(call_states=_S({"Dialing"}), device_errors=True)
    return Operation(GwsRequest("POST", f"/me/devices/{segment(device_id)}/calls", body), rule)


# -- call data (§5) ---------------------------------------------------------------------------------


@operation(
    "call.AttachUserData", "POST", CALL, confirms=f"{CALLS} AttachedDataChanged", source="002:8263-8378"
)
def attach_user_data(call_id: str, user_data: dict[str, Any]) -> Operation:
    """Adds keys even when they exist (prefer :func:`update_user_data`)."""
    return call_operation(call_id, "AttachUserData", types=_DATA, userData=user_data)


@operation(
    "call.UpdateUserData", "POST", CALL, confirms=f"{CALLS} AttachedDataChanged", source="002:8384-8576"
)
def update_user_data(call_id: str, user_data: dict[str, Any]) -> Operation:
    return call_operation(call_id, "UpdateUserData", types=_DATA, userData=user_data)


@operation(
    "call.DeleteUserData", "POST", CALL, confirms=f"{CALLS} AttachedDataChanged", source="002:8578-8679"
)
def delete_user_data(call_id: str) -> Operation:
    return call_operation(call_id, "DeleteUserData", types=_DATA)


@operation(
    "call.DeleteUserDataPair", "POST", CALL, confirms=f"{CALLS} AttachedDataChanged", source="002:8681-8797"
)
def delete_user_data_pair(call_id: str, key: str) -> Operation:
    return call_operation(call_id, "DeleteUserDataPair", types=_DATA, key=key)


# -- dispositions (§6) ------------------------------------------------------------------------------


@operation(
    "call.SetCallDisposition",
    "POST",
    CALL,
    confirms=f"{CALLS} AttachedDataChanged while the call is active; nothing once it is released "
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
        callUri=api_uri(base_url, call_path(call_id)) if call_id else None,
        callUuid=call_uuid,
        disposition=disposition,
        dispositionKey=key or None,
    )
    if device_id is not None:
        path = f"/me/devices/{segment(device_id)}"
    elif call_id is not None:
        path = call_path(call_id)
    else:
        raise ValueError("SetCallDisposition needs a call id or a device id")
    # A released call gets no notification (GWS sends EventUserEvent to reporting only): the
    # note lets the agent's subscriber report the disposition when GWS does not.
    note = disposition_note(call_id=call_id, call_uuid=call_uuid, disposition=disposition, key=key)
    rule = OutcomeRule(call_id=call_id, notification_types=_DATA, note=note)
    return Operation(GwsRequest("POST", path, body), rule)


# -- recording (§9) ---------------------------------------------------------------------------------

_RECORDING = _S({"CallRecordingStateChange"})


@operation(
    "call.StartCallRecording",
    "POST",
    CALL,
    confirms=f"{CALLS} CallRecordingStateChange, recordingState Recording",
    source="003:4108-4521",
)
def start_recording(call_id: str) -> Operation:
    return call_operation(call_id, "StartCallRecording", types=_RECORDING, recording="Recording")


@operation(
    "call.StopCallRecording",
    "POST",
    CALL,
    confirms=f"{CALLS} CallRecordingStateChange, recordingState Stopped",
    source="003:4108-4521",
)
def stop_recording(call_id: str) -> Operation:
    return call_operation(call_id, "StopCallRecording", types=_RECORDING, recording="Stopped")


@operation(
    "call.PauseCallRecording",
    "POST",
    CALL,
    confirms=f"{CALLS} CallRecordingStateChange, recordingState Paused",
    source="003:4108-4521",
)
def pause_recording(call_id: str) -> Operation:
    return call_operation(call_id, "PauseCallRecording", types=_RECORDING, recording="Paused")


@operation(
    "call.ResumeCallRecording",
    "POST",
    CALL,
    confirms=f"{CALLS} CallRecordingStateChange, recordingState Recording",
    source="003:4108-4521",
)
def resume_recording(call_id: str) -> Operation:
    return call_operation(call_id, "ResumeCallRecording", types=_RECORDING, recording="Recording")
