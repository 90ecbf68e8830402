"""``POST /api/v2/me/calls/{id}`` operations (gws-catalogue §4-§9): one function per operationName.

Each function validates its parameters (OperationError 1 when a required one is missing),
then either changes the call and publishes, or — when the call's state does not allow the
operation — publishes an ``ErrorMessage``. The REST reply is ``{"statusCode": 0}`` either way.
"""

from __future__ import annotations

from typing import Any

from simulator.call_transfers import (
    complete,
    initiate,
    merge,
    remove_participant,
    single_step_conference,
    single_step_transfer,
    swap,
)
from simulator.envelopes import OperationError
from simulator.model import Call, CallState, User
from simulator.op_params import CallOperation, merged_user_data, require, user_data_of
from simulator.voice import INCORRECT_STATE, VoiceEngine

__all__ = ["CALL_OPERATIONS", "perform_call_operation", "set_disposition"]


def _answer(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    engine.establish(call)


def _release(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    engine.release(call)


def _hold(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    engine.set_state(call, CallState.HELD)


def _retrieve(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    engine.set_state(call, CallState.ESTABLISHED)


def _send_dtmf(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    engine.notify(call, "DtmfSent")


def _mute(on: bool) -> CallOperation:
    def operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
        call.mute = on
        engine.notify(call)

    return operation


def _attach(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    engine.set_user_data(call, merged_user_data(call, user_data_of(body, required=True)))


def _delete_all(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    engine.set_user_data(call, None)


def _delete_pair(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    key = str(body["key"])
    remaining = {k: v for k, v in (call.user_data or {}).items() if k != key}
    engine.set_user_data(call, remaining)


def set_disposition(engine: VoiceEngine, call: Call, body: dict[str, Any]) -> None:
    """userData[dispositionKey] = disposition; a Released call is updated without a notification."""
    disposition = str(require(body, "disposition"))
    key = str(body.get("dispositionKey") or "DispositionCode")
    user_data = {**(call.user_data or {}), key: disposition}
    if call.state is CallState.RELEASED:
        call.user_data = user_data  # GWS sends EventUserEvent to reporting only
        return
    engine.set_user_data(call, user_data)


def _disposition(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    set_disposition(engine, call, body)


_RECORDING: dict[str, tuple[set[str | None], str, str]] = {
    # operation: (states it starts from, resulting state, GSIP_RECORD)
    "StartCallRecording": ({None, "Stopped"}, "Recording", "ON"),
    "PauseCallRecording": ({"Recording"}, "Paused", "PAUSED"),
    "ResumeCallRecording": ({"Paused"}, "Recording", "ON"),
    "StopCallRecording": ({"Recording", "Paused"}, "Stopped", "OFF"),
}


def _recording(operation_name: str) -> CallOperation:
    allowed_from, result, flag = _RECORDING[operation_name]

    def operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
        if call.recording_state not in allowed_from:
            engine.error(user, INCORRECT_STATE, call)
            return
        call.recording_state = result
        call.user_data = {**(call.user_data or {}), "GSIP_RECORD": flag}
        engine.notify(call, "CallRecordingStateChange")

    return operation


def _switch(listen_in: bool) -> CallOperation:
    def operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
        call.mute = listen_in
        call.monitoring = True
        engine.notify(call)

    return operation


def _monitored_mute(muted: bool) -> CallOperation:
    def operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
        call.monitored_user_muted = muted
        engine.notify(call, "MonitoredUserMutedStateChange")

    return operation


CALL_OPERATIONS: dict[str, CallOperation] = {
    "Answer": _answer,
    "Reject": _release,
    "Hangup": _release,
    "Hold": _hold,
    "Retrieve": _retrieve,
    "SendDtmf": _send_dtmf,
    "MuteCall": _mute(True),
    "UnmuteCall": _mute(False),
    "AttachUserData": _attach,
    "UpdateUserData": _attach,
    "DeleteUserData": _delete_all,
    "DeleteUserDataPair": _delete_pair,
    "SetCallDisposition": _disposition,
    "SingleStepTransfer": single_step_transfer,
    "InitiateTransfer": initiate("transfer"),
    "InitiateConference": initiate("conference"),
    "CompleteTransfer": complete(conference=False),
    "CompleteConference": complete(conference=True),
    "SingleStepConference": single_step_conference,
    "RemoveParticipantFromConference": remove_participant,
    "SwapCalls": swap,
    "MergeWithOtherCall": merge,
    **{name: _recording(name) for name in _RECORDING},
    "SwitchToBargeIn": _switch(listen_in=False),
    "SwitchToListenIn": _switch(listen_in=True),
    "MuteMonitoredUser": _monitored_mute(True),
    "UnmuteMonitoredUser": _monitored_mute(False),
}

# parameters checked before the state, so a malformed request fails synchronously
_REQUIRED: dict[str, tuple[str, ...]] = {
    "SendDtmf": ("digits",),
    "AttachUserData": ("userData",),
    "UpdateUserData": ("userData",),
    "DeleteUserDataPair": ("key",),
    "SetCallDisposition": ("disposition",),
    "SingleStepTransfer": ("destination",),
    "InitiateTransfer": ("destination",),
    "InitiateConference": ("destination",),
    "SingleStepConference": ("destination",),
    "RemoveParticipantFromConference": ("participant",),
    "SwapCalls": ("otherCallUri",),
    "MergeWithOtherCall": ("otherCallUri",),
}


def perform_call_operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    """Run ``body["operationName"]`` on ``call``.

    Raises OperationError 1 (missing parameter) or 2 (unknown operation); an operation the
    call's state does not allow publishes an ErrorMessage instead of raising.
    """
    name = str(require(body, "operationName"))
    operation = CALL_OPERATIONS.get(name)
    if operation is None:
        raise OperationError(2, f"Operation '{name}' is not supported on calls")
    for parameter in _REQUIRED.get(name, ()):
        require(body, parameter)
    if not engine.allowed(call, name):
        engine.error(user, INCORRECT_STATE, call)
        return
    operation(engine, user, call, body)
