"""Voice call operations: call control, call data, transfers and conferences, recording,
forwarding, Dial and SetCallDisposition."""

from __future__ import annotations

from typing import Any

from bridge.gws.operations._request import Reply, operation_body, phone_number, segment
from bridge.gws.rest import GwsRestClient

__all__ = [
    "answer",
    "attach_user_data",
    "call_operation",
    "complete_conference",
    "complete_transfer",
    "delete_user_data",
    "delete_user_data_pair",
    "dial",
    "forward_calls_off",
    "forward_calls_on",
    "hangup",
    "hold",
    "initiate_conference",
    "initiate_transfer",
    "mute_call",
    "pause_recording",
    "reject_call",
    "resume_recording",
    "retrieve",
    "send_dtmf",
    "set_call_disposition",
    "single_step_conference",
    "single_step_transfer",
    "start_recording",
    "stop_recording",
    "swap_calls",
    "unmute_call",
    "update_user_data",
]


# -- dispositions (§6) --------------------------------------------------------------------------


async def set_call_disposition(
    client: GwsRestClient,
    call_id: str,
    disposition: str,
    *,
    key: str | None = "DispositionCode",
    call_uuid: str | None = None,
    device_id: str | None = None,
) -> Reply:
    """``SetCallDisposition`` on a call (active or already released).

    ``key`` is the userData key (``dispositionKey``); ``None`` or ``""`` lets GWS use its
    configured key. ``callUri`` is always sent; ``device_id`` posts the sample's variant to
    ``/me/devices/{id}`` instead of ``/me/calls/{id}``.
    """
    body = operation_body(
        "SetCallDisposition",
        callUri=client.api_url(f"/me/calls/{segment(call_id)}"),
        callUuid=call_uuid,
        disposition=disposition,
        dispositionKey=key or None,
    )
    path = f"/me/devices/{segment(device_id)}" if device_id is not None else f"/me/calls/{segment(call_id)}"
    return await client.post(path, body)


# -- calls (§4, §5, §8, §9, §10) ---------------------------------------------------------------


async def call_operation(client: GwsRestClient, call_id: str, operation_name: str, **params: Any) -> Reply:
    """``POST /me/calls/{id} {"operationName": …, **params}`` (``None`` params are left out)."""
    return await client.post(f"/me/calls/{segment(call_id)}", operation_body(operation_name, **params))


async def answer(client: GwsRestClient, call_id: str) -> Reply:
    """Answer a ringing call."""
    return await call_operation(client, call_id, "Answer")


async def reject_call(client: GwsRestClient, call_id: str) -> Reply:
    """Reject a call delivered through a queue (it goes back to the queue)."""
    return await call_operation(client, call_id, "Reject")


async def hangup(client: GwsRestClient, call_id: str) -> Reply:
    """Release a call."""
    return await call_operation(client, call_id, "Hangup")


async def hold(client: GwsRestClient, call_id: str) -> Reply:
    """Put a call on hold."""
    return await call_operation(client, call_id, "Hold")


async def retrieve(client: GwsRestClient, call_id: str) -> Reply:
    """Retrieve a held call."""
    return await call_operation(client, call_id, "Retrieve")


async def mute_call(client: GwsRestClient, call_id: str) -> Reply:
    """Mute the agent on a call."""
    return await call_operation(client, call_id, "MuteCall")


async def unmute_call(client: GwsRestClient, call_id: str) -> Reply:
    """Unmute the agent on a call."""
    return await call_operation(client, call_id, "UnmuteCall")


async def dial(
    client: GwsRestClient, device_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> str | None:
    """``POST /me/devices/{id}/calls`` Dial; returns the new call's id when GWS returns one
    (8.5.2 answers only ``{"statusCode": 0}``; the call then appears on CometD as Dialing)."""
    reply = await client.post(
        f"/me/devices/{segment(device_id)}/calls",
        operation_body("Dial", destination={"phoneNumber": destination}, userData=user_data),
    )
    call_id = reply.get("id")
    if call_id is None and isinstance(reply.get("call"), dict):
        call_id = reply["call"].get("id")
    if call_id is None and isinstance(reply.get("uri"), str):
        call_id = reply["uri"].rstrip("/").rsplit("/", 1)[-1]
    return str(call_id) if call_id is not None else None


async def send_dtmf(client: GwsRestClient, call_id: str, digits: str) -> Reply:
    """Send DTMF ``digits`` (0-9, ``*``, ``#``) on a call."""
    return await call_operation(client, call_id, "SendDtmf", digits=digits)


async def attach_user_data(client: GwsRestClient, call_id: str, user_data: dict[str, Any]) -> Reply:
    """AttachUserData (adds keys even when they exist; prefer :func:`update_user_data`)."""
    return await call_operation(client, call_id, "AttachUserData", userData=user_data)


async def update_user_data(client: GwsRestClient, call_id: str, user_data: dict[str, Any]) -> Reply:
    """UpdateUserData: add or replace keys of the call's userData."""
    return await call_operation(client, call_id, "UpdateUserData", userData=user_data)


async def delete_user_data(client: GwsRestClient, call_id: str) -> Reply:
    """DeleteUserData: remove all of the call's userData."""
    return await call_operation(client, call_id, "DeleteUserData")


async def delete_user_data_pair(client: GwsRestClient, call_id: str, key: str) -> Reply:
    """DeleteUserDataPair: remove one userData key."""
    return await call_operation(client, call_id, "DeleteUserDataPair", key=key)


async def single_step_transfer(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Blind transfer to ``destination`` (a phone number)."""
    return await call_operation(
        client, call_id, "SingleStepTransfer", destination=phone_number(destination), userData=user_data
    )


async def initiate_transfer(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Start a consult transfer: the call is held and a consult call dials ``destination``."""
    return await call_operation(
        client, call_id, "InitiateTransfer", destination=phone_number(destination), userData=user_data
    )


async def complete_transfer(
    client: GwsRestClient, call_id: str, *, consult_call_id: str | None = None
) -> Reply:
    """Complete a consult transfer; ``consultCallUri`` is sent when ``consult_call_id`` is given
    (otherwise GWS finds the related call)."""
    consult_uri = client.api_url(f"/me/calls/{segment(consult_call_id)}") if consult_call_id else None
    return await call_operation(client, call_id, "CompleteTransfer", consultCallUri=consult_uri)


async def single_step_conference(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Add ``destination`` to the call in one step."""
    return await call_operation(
        client, call_id, "SingleStepConference", destination=phone_number(destination), userData=user_data
    )


async def initiate_conference(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Start a consult conference: the call is held and a consult call dials ``destination``."""
    return await call_operation(
        client, call_id, "InitiateConference", destination=phone_number(destination), userData=user_data
    )


async def complete_conference(
    client: GwsRestClient, call_id: str, *, consult_call_id: str | None = None
) -> Reply:
    """Merge the consult call into the conference."""
    consult_uri = client.api_url(f"/me/calls/{segment(consult_call_id)}") if consult_call_id else None
    return await call_operation(client, call_id, "CompleteConference", consultCallUri=consult_uri)


async def swap_calls(client: GwsRestClient, call_id: str, other_call_id: str) -> Reply:
    """Hold this call and retrieve the other one."""
    other_uri = client.api_url(f"/me/calls/{segment(other_call_id)}")
    return await call_operation(client, call_id, "SwapCalls", otherCallUri=other_uri)


async def start_recording(client: GwsRestClient, call_id: str) -> Reply:
    """StartCallRecording."""
    return await call_operation(client, call_id, "StartCallRecording")


async def stop_recording(client: GwsRestClient, call_id: str) -> Reply:
    """StopCallRecording."""
    return await call_operation(client, call_id, "StopCallRecording")


async def pause_recording(client: GwsRestClient, call_id: str) -> Reply:
    """PauseCallRecording."""
    return await call_operation(client, call_id, "PauseCallRecording")


async def resume_recording(client: GwsRestClient, call_id: str) -> Reply:
    """ResumeCallRecording."""
    return await call_operation(client, call_id, "ResumeCallRecording")


async def forward_calls_on(client: GwsRestClient, device_id: str, destination: str) -> Reply:
    """``POST /me/devices/{id}`` ForwardCallsOn; ``destination`` is a plain string."""
    return await client.post(
        f"/me/devices/{segment(device_id)}", operation_body("ForwardCallsOn", destination=destination)
    )


async def forward_calls_off(client: GwsRestClient, device_id: str) -> Reply:
    """``POST /me/devices/{id}`` ForwardCallsOff (no destination, unlike the seed's sample)."""
    return await client.post(f"/me/devices/{segment(device_id)}", operation_body("ForwardCallsOff"))
