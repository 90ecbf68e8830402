"""Voice call operations: call control, call data, transfers and conferences, recording,
forwarding, Dial and SetCallDisposition, performed over a :class:`GwsRestClient` (requests built
by :mod:`bridge.gws.operations.builders`)."""

from __future__ import annotations

from typing import Any

from bridge.gws.operations import builders as build
from bridge.gws.operations._request import Reply
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
    operation = build.set_call_disposition(
        disposition,
        base_url=client.base_url,
        call_id=call_id,
        call_uuid=call_uuid,
        key=key,
        device_id=device_id,
    )
    return await client.perform(operation.request)


async def call_operation(client: GwsRestClient, call_id: str, operation_name: str, **params: Any) -> Reply:
    """``POST /me/calls/{id} {"operationName": …, **params}`` (``None`` params are left out)."""
    return await client.perform(build.call_operation(call_id, operation_name, **params).request)


async def dial(
    client: GwsRestClient, device_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> str | None:
    """``POST /me/devices/{id}/calls`` Dial; returns the new call's id when GWS returns one
    (8.5.2 answers only ``{"statusCode": 0}``; the call then appears on CometD as Dialing)."""
    reply = await client.perform(build.dial(device_id, destination, user_data).request)
    call_id = reply.get("id")
    if call_id is None and isinstance(reply.get("call"), dict):
        call_id = reply["call"].get("id")
    if call_id is None and isinstance(reply.get("uri"), str):
        call_id = reply["uri"].rstrip("/").rsplit("/", 1)[-1]
    return str(call_id) if call_id is not None else None


async def complete_transfer(
    client: GwsRestClient, call_id: str, *, consult_call_id: str | None = None
) -> Reply:
    """Complete a consult transfer; ``consultCallUri`` is sent when ``consult_call_id`` is given
    (otherwise GWS finds the related call)."""
    return await client.perform(
        build.complete_transfer(call_id, consult_call_id, base_url=client.base_url).request
    )


async def complete_conference(
    client: GwsRestClient, call_id: str, *, consult_call_id: str | None = None
) -> Reply:
    """Merge the consult call into the conference."""
    operation = build.complete_conference(call_id, consult_call_id, base_url=client.base_url)
    return await client.perform(operation.request)


async def swap_calls(client: GwsRestClient, call_id: str, other_call_id: str) -> Reply:
    """Hold this call and retrieve the other one."""
    return await client.perform(build.swap_calls(call_id, other_call_id, base_url=client.base_url).request)


async def answer(client: GwsRestClient, call_id: str) -> Reply:
    """Answer a ringing call."""
    return await client.perform(build.answer(call_id).request)


async def reject_call(client: GwsRestClient, call_id: str) -> Reply:
    """Reject a call delivered through a queue (it goes back to the queue)."""
    return await client.perform(build.reject_call(call_id).request)


async def hangup(client: GwsRestClient, call_id: str) -> Reply:
    """Release a call."""
    return await client.perform(build.hangup(call_id).request)


async def hold(client: GwsRestClient, call_id: str) -> Reply:
    """Put a call on hold."""
    return await client.perform(build.hold(call_id).request)


async def retrieve(client: GwsRestClient, call_id: str) -> Reply:
    """Retrieve a held call."""
    return await client.perform(build.retrieve(call_id).request)


async def mute_call(client: GwsRestClient, call_id: str) -> Reply:
    """Mute the agent on a call."""
    return await client.perform(build.mute_call(call_id).request)


async def unmute_call(client: GwsRestClient, call_id: str) -> Reply:
    """Unmute the agent on a call."""
    return await client.perform(build.unmute_call(call_id).request)


async def delete_user_data(client: GwsRestClient, call_id: str) -> Reply:
    """DeleteUserData: remove all of the call's userData."""
    return await client.perform(build.delete_user_data(call_id).request)


async def start_recording(client: GwsRestClient, call_id: str) -> Reply:
    """StartCallRecording."""
    return await client.perform(build.start_recording(call_id).request)


async def stop_recording(client: GwsRestClient, call_id: str) -> Reply:
    """StopCallRecording."""
    return await client.perform(build.stop_recording(call_id).request)


async def pause_recording(client: GwsRestClient, call_id: str) -> Reply:
    """PauseCallRecording."""
    return await client.perform(build.pause_recording(call_id).request)


async def resume_recording(client: GwsRestClient, call_id: str) -> Reply:
    """ResumeCallRecording."""
    return await client.perform(build.resume_recording(call_id).request)


async def send_dtmf(client: GwsRestClient, call_id: str, digits: str) -> Reply:
    """Send DTMF ``digits`` (0-9, ``*``, ``#``) on a call."""
    return await client.perform(build.send_dtmf(call_id, digits).request)


async def attach_user_data(client: GwsRestClient, call_id: str, user_data: dict[str, Any]) -> Reply:
    """AttachUserData (adds keys even when they exist; prefer :func:`update_user_data`)."""
    return await client.perform(build.attach_user_data(call_id, user_data).request)


async def update_user_data(client: GwsRestClient, call_id: str, user_data: dict[str, Any]) -> Reply:
    """UpdateUserData: add or replace keys of the call's userData."""
    return await client.perform(build.update_user_data(call_id, user_data).request)


async def delete_user_data_pair(client: GwsRestClient, call_id: str, key: str) -> Reply:
    """DeleteUserDataPair: remove one userData key."""
    return await client.perform(build.delete_user_data_pair(call_id, key).request)


async def single_step_transfer(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Blind transfer to ``destination`` (a phone number)."""
    return await client.perform(build.single_step_transfer(call_id, destination, user_data).request)


async def initiate_transfer(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Start a consult transfer: the call is held and a consult call dials ``destination``."""
    return await client.perform(build.initiate_transfer(call_id, destination, user_data).request)


async def single_step_conference(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Add ``destination`` to the call in one step."""
    return await client.perform(build.single_step_conference(call_id, destination, user_data).request)


async def initiate_conference(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Start a consult conference: the call is held and a consult call dials ``destination``."""
    return await client.perform(build.initiate_conference(call_id, destination, user_data).request)


async def forward_calls_on(client: GwsRestClient, device_id: str, destination: str) -> Reply:
    """``POST /me/devices/{id}`` ForwardCallsOn; ``destination`` is a plain string."""
    return await client.perform(build.forward_calls_on(device_id, destination).request)


async def forward_calls_off(client: GwsRestClient, device_id: str) -> Reply:
    """``POST /me/devices/{id}`` ForwardCallsOff (no destination, unlike the seed's sample)."""
    return await client.perform(build.forward_calls_off(device_id).request)
