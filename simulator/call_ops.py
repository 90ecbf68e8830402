"""``POST /api/v2/me/calls/{id}`` operations (gws-catalogue §4-§9): one function per operationName.

Each function validates its parameters (OperationError 1 when a required one is missing),
then either changes the call and publishes, or — when the call's state does not allow the
operation — publishes an ``ErrorMessage``. The REST reply is ``{"statusCode": 0}`` either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.envelopes import OperationError
from simulator.model import Call, CallState, User
from simulator.voice import INCORRECT_STATE, VoiceEngine

__all__ = ["CALL_OPERATIONS", "perform_call_operation", "require", "require_destination"]

CallOperation = Callable[[VoiceEngine, User, Call, dict[str, Any]], None]


def require(body: dict[str, Any], name: str) -> Any:
    """``body[name]``; OperationError 1 when missing or empty."""
    value = body.get(name)
    if value is None or value == "" or value == {}:
        raise OperationError(1, f"Required parameter '{name}' is missing")
    return value


def require_destination(body: dict[str, Any]) -> str:
    """``destination.phoneNumber`` (an object, quirk D10; a bare string is tolerated)."""
    destination = require(body, "destination")
    if isinstance(destination, dict):
        number = destination.get("phoneNumber")
        if not number:
            raise OperationError(1, "Required parameter 'destination.phoneNumber' is missing")
        return str(number)
    return str(destination)


def _user_data(body: dict[str, Any], *, required: bool = False) -> dict[str, Any] | None:
    value = require(body, "userData") if required else body.get("userData")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise OperationError(1, "Parameter 'userData' must be an object")
    return value


def _merged(call: Call, extra: dict[str, Any] | None) -> dict[str, Any] | None:
    if not extra:
        return call.user_data
    return {**(call.user_data or {}), **extra}


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
    engine.set_user_data(call, _merged(call, _user_data(body, required=True)))


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


def _single_step_transfer(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    destination = require_destination(body)
    call.user_data = _merged(call, _user_data(body))
    engine.release(call, with_peer=False)
    target = engine.state.users_by_dn.get(destination)
    if target is not None and target is not user:
        engine.ring(target, call.participants[0], call.user_data)


def _initiate(purpose: str) -> CallOperation:
    def operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
        destination = require_destination(body)
        extra = _user_data(body)
        if call.state is CallState.ESTABLISHED:
            engine.set_state(call, CallState.HELD)
        consult = engine.dial(user, destination, _merged(call, extra), parent=call)
        if consult is not None:
            consult.consult_purpose = purpose

    return operation


def _consult_pair(
    engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]
) -> tuple[Call, Call] | None:
    if body.get("consultCallUri"):
        consult = engine.find_call(user, str(body["consultCallUri"]))
        return call, consult
    if call.parent_call_id is not None:
        original = user.calls.get(call.parent_call_id)
        return (original, call) if original is not None else None
    for other in user.live_calls.values():
        if other.parent_call_id == call.id and other.state is not CallState.RELEASED:
            return call, other
    return None


def _complete(conference: bool) -> CallOperation:
    def operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
        pair = _consult_pair(engine, user, call, body)
        if pair is None:
            engine.error(user, INCORRECT_STATE, call)
            return
        original, consult = pair
        far_leg = engine.state.calls.get(consult.peer_call_id or "")
        consult.peer_call_id = None
        engine.release(consult, with_peer=False)
        if far_leg is not None:
            far_leg.peer_call_id = None
        if conference:
            for number in consult.participants:
                if number not in original.participants:
                    original.participants.append(number)
            original.state = CallState.ESTABLISHED
            engine.notify(original, "ParticipantsUpdated")
            if far_leg is not None:
                far_leg.participants = [*original.participants]
                engine.notify(far_leg, "ParticipantsUpdated")
            return
        engine.release(original, with_peer=False)
        if far_leg is not None and far_leg.state is not CallState.RELEASED:
            far_leg.participants = list(original.participants)
            engine.notify(far_leg, "ParticipantsUpdated")

    return operation


def _single_step_conference(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    destination = require_destination(body)
    extra = _user_data(body) or {}
    if destination not in call.participants:
        call.participants.append(destination)
    call.user_data = {**(call.user_data or {}), **extra, "FirstConferencePartyDN": user.device.phone_number}
    engine.notify(call, "ParticipantsUpdated")


def _remove_participant(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    participant = str(require(body, "participant"))
    if participant not in call.participants:
        engine.error(user, "Invalid participant", call)
        return
    call.participants.remove(participant)
    engine.notify(call, "ParticipantsUpdated")


def _swap(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    other = engine.find_call(user, str(require(body, "otherCallUri")))
    if other.state is not CallState.HELD and other.state is not CallState.ESTABLISHED:
        engine.error(user, INCORRECT_STATE, other)
        return
    if call.state is CallState.ESTABLISHED:
        engine.set_state(call, CallState.HELD)
    engine.set_state(other, CallState.ESTABLISHED)


def _merge(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    other = engine.find_call(user, str(require(body, "otherCallUri")))
    if other.state is CallState.RELEASED:
        engine.error(user, INCORRECT_STATE, other)
        return
    engine.release(other, with_peer=False)
    for number in other.participants:
        if number not in call.participants:
            call.participants.append(number)
    engine.notify(call, "ParticipantsUpdated")


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
    "SingleStepTransfer": _single_step_transfer,
    "InitiateTransfer": _initiate("transfer"),
    "InitiateConference": _initiate("conference"),
    "CompleteTransfer": _complete(conference=False),
    "CompleteConference": _complete(conference=True),
    "SingleStepConference": _single_step_conference,
    "RemoveParticipantFromConference": _remove_participant,
    "SwapCalls": _swap,
    "MergeWithOtherCall": _merge,
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
