"""Conferences and transfers of voice calls (8.5.2 Voice API, catalogue §8).

Single-step and two-step (initiate, then complete with the consult call) transfers and
conferences, removing a conference participant, swapping and merging two calls. Built like every
call operation (:func:`~bridge.gws.operations.builders.voice.call_operation`); the URIs of the
other call are absolute, as in the seeds' samples.
"""

from __future__ import annotations

from typing import Any

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.builders.voice import (
    CALL,
    CALLS,
    HELD,
    PARTICIPANTS_UPDATED,
    RELEASED,
    call_operation,
    call_path,
)
from bridge.gws.operations.request import Operation, api_uri, phone_number

__all__ = [
    "complete_conference",
    "complete_transfer",
    "initiate_conference",
    "initiate_transfer",
    "merge_with_other_call",
    "remove_participant",
    "single_step_conference",
    "single_step_transfer",
    "swap_calls",
]


@operation(
    "call.SingleStepTransfer",
    "POST",
    CALL,
    confirms=f"{CALLS} StatusChange → Released",
    source="002:6336-6498",
)
def single_step_transfer(
    call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Operation:
    return call_operation(
        call_id,
        "SingleStepTransfer",
        states=RELEASED,
        destination=phone_number(destination),
        userData=user_data,
    )


@operation(
    "call.InitiateTransfer",
    "POST",
    CALL,
    confirms=f"{CALLS} StatusChange → Held (then the consult call Dialing)",
    source="002:6500-7020",
)
def initiate_transfer(call_id: str, destination: str, user_data: dict[str, Any] | None = None) -> Operation:
    return call_operation(
        call_id, "InitiateTransfer", states=HELD, destination=phone_number(destination), userData=user_data
    )


def _consult_uri(base_url: str, consult_call_id: str | None) -> str | None:
    # GWS finds the related call itself when consultCallUri is absent.
    return api_uri(base_url, call_path(consult_call_id)) if consult_call_id else None


@operation(
    "call.CompleteTransfer",
    "POST",
    CALL,
    confirms=f"{CALLS} StatusChange → Released",
    source="002:7022-7507",
)
def complete_transfer(call_id: str, consult_call_id: str | None = None, *, base_url: str) -> Operation:
    return call_operation(
        call_id, "CompleteTransfer", states=RELEASED, consultCallUri=_consult_uri(base_url, consult_call_id)
    )


@operation(
    "call.SingleStepConference",
    "POST",
    CALL,
    confirms=f"{CALLS} ParticipantsUpdated",
    source="002:5812-6018",
)
def single_step_conference(
    call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Operation:
    return call_operation(
        call_id,
        "SingleStepConference",
        types=PARTICIPANTS_UPDATED,
        destination=phone_number(destination),
        userData=user_data,
    )


@operation(
    "call.InitiateConference",
    "POST",
    CALL,
    confirms=f"{CALLS} StatusChange → Held (then the consult call Dialing)",
    source="002:6020-6181",
)
def initiate_conference(call_id: str, destination: str, user_data: dict[str, Any] | None = None) -> Operation:
    return call_operation(
        call_id, "InitiateConference", states=HELD, destination=phone_number(destination), userData=user_data
    )


@operation(
    "call.CompleteConference",
    "POST",
    CALL,
    confirms=f"{CALLS} consult Released, original ParticipantsUpdated",
    source="002:6183-6334",
)
def complete_conference(call_id: str, consult_call_id: str | None = None, *, base_url: str) -> Operation:
    return call_operation(
        call_id,
        "CompleteConference",
        states=RELEASED,
        types=PARTICIPANTS_UPDATED,
        consultCallUri=_consult_uri(base_url, consult_call_id),
    )


@operation(
    "call.RemoveParticipantFromConference",
    "POST",
    CALL,
    confirms=f"{CALLS} ParticipantsUpdated",
    source="002:7509-7609",
)
def remove_participant(call_id: str, participant: str) -> Operation:
    """Only the conference's owner or a monitoring supervisor may (GWS enforces it)."""
    return call_operation(
        call_id, "RemoveParticipantFromConference", types=PARTICIPANTS_UPDATED, participant=participant
    )


@operation(
    "call.SwapCalls",
    "POST",
    CALL,
    confirms=f"{CALLS} StatusChange: this call → Held, the other → Established",
    source="002:7611-8213",
)
def swap_calls(call_id: str, other_call_id: str, *, base_url: str) -> Operation:
    """Hold this call and retrieve the other one."""
    other = api_uri(base_url, call_path(other_call_id))
    return call_operation(call_id, "SwapCalls", states=HELD, otherCallUri=other)


@operation(
    "call.MergeWithOtherCall",
    "POST",
    CALL,
    confirms="not documented (the seeds' notification section is empty): unknown unless an ErrorMessage",
    source="002:8215-8255",
)
def merge_with_other_call(call_id: str, other_call_id: str, *, base_url: str) -> Operation:
    other = api_uri(base_url, call_path(other_call_id))
    return call_operation(call_id, "MergeWithOtherCall", otherCallUri=other)
