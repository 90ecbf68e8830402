"""Voice calls: the call state machine, capabilities per state, and the notifications each change sends.

An operation the call's current state does not allow is *accepted* (the REST reply is
``{"statusCode": 0}``) and then reported on ``/v2/me/calls`` as an ``ErrorMessage``
("Incorrect object state"), as GWS does: the outcome of every voice operation is asynchronous.
Synchronous refusals (:class:`~simulator.envelopes.OperationError`) are for missing
parameters, unknown calls and an unavailable voice service.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from simulator.envelopes import OperationError
from simulator.messages import TOPIC_CALLS, TOPIC_DEVICES, MessageBuilder, Publish
from simulator.model import Call, CallState, CallType, SimState, User

__all__ = ["INCORRECT_STATE", "VoiceEngine"]

INCORRECT_STATE = "Incorrect object state"
_DATA_OPS = ["AttachUserData", "UpdateUserData", "DeleteUserData", "DeleteUserDataPair"]
_TALK_OPS = ["InitiateConference", "InitiateTransfer", "SingleStepConference", "SingleStepTransfer"]
_RECORDING_CAPS = {
    "Recording": ["PauseCallRecording", "StopCallRecording"],
    "Paused": ["ResumeCallRecording", "StopCallRecording"],
    "Stopped": ["StartCallRecording"],
}
# operations allowed whatever the capabilities say
_ALWAYS = {"SetCallDisposition"}
_ESTABLISHED_ONLY = {
    "MuteCall", "UnmuteCall", "StartCallRecording", "StopCallRecording", "PauseCallRecording",
    "ResumeCallRecording", "SwitchToBargeIn", "SwitchToListenIn", "MuteMonitoredUser",
    "UnmuteMonitoredUser", "MergeWithOtherCall",
}  # fmt: skip


class VoiceEngine:
    """Call operations on one :class:`SimState`; every change is published as GWS would."""

    def __init__(
        self,
        state: SimState,
        builder: MessageBuilder,
        publish: Publish,
        *,
        released_retention: float = 60.0,
        remote_answer_delay: float | None = 0.2,
    ) -> None:
        self.state = state
        self.builder = builder
        self.publish = publish
        self.released_retention = released_retention
        self.remote_answer_delay = remote_answer_delay
        self._timers: set[asyncio.TimerHandle] = set()

    # -- reading ----------------------------------------------------------------------------------

    def capabilities(self, call: Call) -> list[str]:
        """What the call's state offers (cf. the seed samples for Ringing, Dialing, Established, Held)."""
        state = call.state
        if state is CallState.RELEASED:
            return []
        owner = self.state.users[call.owner]
        if state is CallState.RINGING:
            caps = list(_DATA_OPS)
            if owner.device.telephony_network != "Public":
                caps.append("Answer")
            return caps
        if state is CallState.DIALING:
            caps = ["Hangup", "SendDtmf", *_DATA_OPS]
            if call.call_type is CallType.CONSULT:
                caps += ["SwapCalls", "CompleteTransfer", "CompleteConference"]
            return caps
        if state is CallState.HELD:
            caps = ["Retrieve", "Hangup", *_DATA_OPS, *_TALK_OPS]
        else:
            caps = ["Hangup", "Hold", "SendDtmf", *_DATA_OPS, *_TALK_OPS]
            if len(call.participants) > 1:
                caps += ["MuteCall", "RemoveParticipantFromConference"]
            if call.supervisor_listening_in or call.monitoring:
                caps.append("SwitchToBargeIn" if call.mute else "SwitchToListenIn")
            caps += _RECORDING_CAPS.get(call.recording_state or "", [])
        if self._related_call(call) is not None:
            caps += ["SwapCalls", "CompleteTransfer", "CompleteConference"]
        return caps

    def call_body(self, call: Call, now: float | None = None) -> dict[str, Any]:
        owner = self.state.users[call.owner]
        return self.builder.call_json(call, self.capabilities(call), owner.device.id, now)

    def calls_of(self, user: User) -> list[Call]:
        """The user's calls, Released ones included until their retention expires."""
        self.state.expire_released(time.monotonic(), self.released_retention)
        return list(user.calls.values())

    def find_call(self, user: User, call_id: str) -> Call:
        """The user's call ``call_id`` (an id or a call URI); OperationError 6 when unknown."""
        call_id = call_id.rstrip("/").rsplit("/", 1)[-1]
        call = user.calls.get(call_id)
        if call is None:
            raise OperationError(6, f"Call {call_id} not found")
        return call

    def _related_call(self, call: Call) -> Call | None:
        """Another live call of the same agent (consult pair first): what SwapCalls/Complete* act on."""
        owner = self.state.users[call.owner]
        if call.parent_call_id is not None and call.parent_call_id in owner.live_calls:
            return owner.live_calls[call.parent_call_id]
        for other in owner.live_calls.values():
            if other is not call and other.state is not CallState.RINGING:
                return other
        return None

    # -- publishing -------------------------------------------------------------------------------

    def notify(self, call: Call, notification_type: str = "StatusChange") -> None:
        owner = self.state.users[call.owner]
        message = self.builder.call_message(
            notification_type, self.call_body(call), owner.device.phone_number
        )
        self.publish(TOPIC_CALLS, message, owner.user_name)

    def error(self, user: User, message: str, call: Call | None = None) -> None:
        """Publish an asynchronous ``ErrorMessage`` (on /v2/me/calls for a call, else /v2/me/devices)."""
        topic = TOPIC_CALLS if call is not None else TOPIC_DEVICES
        body = self.builder.error_message(user.device.id, message, call.id if call is not None else None)
        self.publish(topic, body, user.user_name)

    # -- creating calls ---------------------------------------------------------------------------

    def _new_call(
        self,
        owner: User,
        state: CallState,
        call_type: CallType,
        other_party: str,
        *,
        dnis: str,
        ani: str,
        user_data: dict[str, Any] | None,
        parent: Call | None = None,
    ) -> Call:
        self.state.expire_released(time.monotonic(), self.released_retention)
        call_id, call_uuid = self.state.new_call_ids()
        call = Call(
            id=call_id,
            call_uuid=call_uuid,
            owner=owner.user_name,
            state=state,
            call_type=call_type,
            participants=[other_party],
            dnis=dnis,
            ani=ani,
            started=time.monotonic(),
            user_data=dict(user_data) if user_data else None,
            parent_call_id=parent.id if parent is not None else None,
        )
        self.state.add_call(call)
        return call

    def ring(self, target: User, from_number: str, user_data: dict[str, Any] | None = None) -> Call:
        """Present an inbound call to ``target`` (forwarded to another agent when forwarding is on)."""
        forward = target.device.forward_to
        if forward is not None:
            forwarded = self.state.user(forward)
            if forwarded is not None and forwarded is not target:
                target = forwarded
        caller = self.state.users_by_dn.get(from_number)
        call_type = CallType.INTERNAL if caller is not None else CallType.INBOUND
        call = self._new_call(
            target,
            CallState.RINGING,
            call_type,
            from_number,
            dnis=target.device.phone_number,
            ani=from_number,
            user_data=user_data,
        )
        self.notify(call)
        return call

    def dial(
        self, user: User, destination: str, user_data: dict[str, Any] | None, parent: Call | None = None
    ) -> Call | None:
        """Start an outbound (or consult, when ``parent`` is set) call from ``user`` to ``destination``.

        Dialling one's own DN or a non-numeric destination creates no call: an ``ErrorMessage``
        ("Invalid Called Dn") goes to ``/v2/me/devices`` and None is returned.
        """
        if destination == user.device.phone_number or not destination.lstrip("+").isdigit():
            self.error(user, "Invalid Called Dn")
            return None
        callee = self.state.users_by_dn.get(destination)
        if callee is not None:
            call_type = CallType.INTERNAL
        else:
            call_type = CallType.OUTBOUND
        if parent is not None:
            call_type = CallType.CONSULT
        own_dn = user.device.phone_number
        call = self._new_call(
            user, CallState.DIALING, call_type, destination, dnis=destination, ani=own_dn,
            user_data=user_data, parent=parent,
        )  # fmt: skip
        self.notify(call)
        if callee is not None and callee is not user:
            peer = self._new_call(
                callee,
                CallState.RINGING,
                CallType.CONSULT if parent is not None else CallType.INTERNAL,
                own_dn,
                dnis=destination,
                ani=own_dn,
                user_data=user_data,
            )
            call.peer_call_id, peer.peer_call_id = peer.id, call.id
            self.notify(peer)
        elif self.remote_answer_delay is not None:
            self._later(self.remote_answer_delay, self._remote_answer, call.id)
        return call

    def _later(self, delay: float, callback: Any, *args: Any) -> None:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def run() -> None:
            self._timers.discard(handle)
            callback(*args)

        handle = loop.call_later(delay, run)
        self._timers.add(handle)

    def _remote_answer(self, call_id: str) -> None:
        call = self.state.calls.get(call_id)
        if call is not None and call.state is CallState.DIALING:
            call.state = CallState.ESTABLISHED
            self.notify(call)

    def cancel_timers(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()

    # -- state changes ----------------------------------------------------------------------------

    def establish(self, call: Call) -> None:
        """Ringing/Dialing → Established, and the peer leg too."""
        call.state = CallState.ESTABLISHED
        self.notify(call)
        peer = self.state.calls.get(call.peer_call_id or "")
        if peer is not None and peer.state in (CallState.DIALING, CallState.RINGING):
            peer.state = CallState.ESTABLISHED
            self.notify(peer)

    def release(self, call: Call, *, with_peer: bool = True) -> None:
        """→ Released (capabilities ``[]``); the peer leg of an internal call is released too."""
        if call.state is CallState.RELEASED:
            return
        call.state = CallState.RELEASED
        self.state.mark_released(call, time.monotonic())
        self.notify(call)
        if with_peer:
            peer = self.state.calls.get(call.peer_call_id or "")
            if peer is not None and peer.state is not CallState.RELEASED:
                self.release(peer, with_peer=False)

    def set_state(self, call: Call, state: CallState) -> None:
        call.state = state
        self.notify(call)

    def set_user_data(self, call: Call, user_data: dict[str, Any] | None) -> None:
        """Replace the call's userData (None = property absent) and tell both legs."""
        call.user_data = user_data
        if call.state is not CallState.RELEASED:
            self.notify(call, "AttachedDataChanged")
        peer = self.state.calls.get(call.peer_call_id or "")
        if peer is not None:
            peer.user_data = dict(user_data) if user_data is not None else None
            if peer.state is not CallState.RELEASED:
                self.notify(peer, "AttachedDataChanged")

    def allowed(self, call: Call, operation: str) -> bool:
        if operation in _ALWAYS:
            return True
        if operation == "Reject":  # offered only for queue-delivered calls, accepted on any ringing call
            return call.state is CallState.RINGING
        if operation in _ESTABLISHED_ONLY:
            return call.state is CallState.ESTABLISHED
        return operation in self.capabilities(call)
