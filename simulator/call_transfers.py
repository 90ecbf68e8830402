"""Transfers and conferences of simulated calls (gws-catalogue §8): single-step and two-step
(initiate, then complete with the consult call), removing a participant, swapping and merging.

Each operation has the shape of every call operation (:data:`simulator.call_ops.CALL_OPERATIONS`).
"""

from __future__ import annotations

from typing import Any

from simulator.model import Call, CallState, User
from simulator.op_params import CallOperation, merged_user_data, require, require_destination, user_data_of
from simulator.voice import INCORRECT_STATE, VoiceEngine

__all__ = [
    "complete",
    "initiate",
    "merge",
    "remove_participant",
    "single_step_conference",
    "single_step_transfer",
    "swap",
]


def single_step_transfer(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    destination = require_destination(body)
    call.user_data = merged_user_data(call, user_data_of(body))
    engine.release(call, with_peer=False)
    target = engine.state.users_by_dn.get(destination)
    if target is not None and target is not user:
        engine.ring(target, call.participants[0], call.user_data)


def initiate(purpose: str) -> CallOperation:
    def operation(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
        destination = require_destination(body)
        extra = user_data_of(body)
        if call.state is CallState.ESTABLISHED:
            engine.set_state(call, CallState.HELD)
        consult = engine.dial(user, destination, merged_user_data(call, extra), parent=call)
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


def complete(conference: bool) -> CallOperation:
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


def single_step_conference(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    destination = require_destination(body)
    extra = user_data_of(body) or {}
    if destination not in call.participants:
        call.participants.append(destination)
    call.user_data = {**(call.user_data or {}), **extra, "FirstConferencePartyDN": user.device.phone_number}
    engine.notify(call, "ParticipantsUpdated")


def remove_participant(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    participant = str(require(body, "participant"))
    if participant not in call.participants:
        engine.error(user, "Invalid participant", call)
        return
    call.participants.remove(participant)
    engine.notify(call, "ParticipantsUpdated")


def swap(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    other = engine.find_call(user, str(require(body, "otherCallUri")))
    if other.state is not CallState.HELD and other.state is not CallState.ESTABLISHED:
        engine.error(user, INCORRECT_STATE, other)
        return
    if call.state is CallState.ESTABLISHED:
        engine.set_state(call, CallState.HELD)
    engine.set_state(other, CallState.ESTABLISHED)


def merge(engine: VoiceEngine, user: User, call: Call, body: dict[str, Any]) -> None:
    other = engine.find_call(user, str(require(body, "otherCallUri")))
    if other.state is CallState.RELEASED:
        engine.error(user, INCORRECT_STATE, other)
        return
    engine.release(other, with_peer=False)
    for number in other.participants:
        if number not in call.participants:
            call.participants.append(number)
    engine.notify(call, "ParticipantsUpdated")
