"""Typed GWS operations the bridge performs, as async functions over a :class:`GwsRestClient`.

Paths and bodies follow ``gws-catalogue.md``; every path is relative to ``/api/v2``. Each
mutating function returns GWS's reply body (``{"statusCode": 0}``, ``{"status": "ok"}``, …)
and raises what :meth:`GwsRestClient.request` raises: a ``GwsError`` subclass when GWS
refuses, ``GwsTransportError`` when it cannot be reached. Voice operations are asynchronous
in GWS: success only means "accepted"; the outcome arrives on CometD.

Where the seeds disagree with themselves, these functions do what GWS 8.5.2 does:

* voice agent-state operations go to ``POST /me/channels/voice`` (the per-operation "Request
  URL" tables say ``/me/calls/{id}``, which is a copy-paste error in 002);
* ``SetCallDisposition`` goes to ``POST /me/calls/{id}`` (the Request URL table; the sample
  posts to ``/me/devices/{id}``, still available with ``device_id=``);
* ``ForwardCallsOn`` takes ``destination`` as a plain string, not ``{"phoneNumber": …}``;
* interaction single-step transfer is ``operationName: "Transfer"`` with ``userId``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bridge.gws.rest import GwsRestClient

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
    "swap_calls",
    "transfer_interaction",
    "unmute_call",
    "update_interaction_data",
    "update_user_data",
]

Reply = dict[str, Any]


def _seg(value: str) -> str:
    """One path segment; ids come from outside (commands), so they are escaped."""
    if not value:
        raise ValueError("an id in a GWS path must not be empty")
    return quote(str(value), safe="")


def _op(operation_name: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"operationName": operation_name}
    body.update({key: value for key, value in params.items() if value is not None})
    return body


# -- agent state (voice channel, 8.5.2 §2.3) ------------------------------------------------


async def agent_state_operation(client: GwsRestClient, operation_name: str, **params: Any) -> Reply:
    """``POST /me/channels/voice {"operationName": operation_name}``: any agent-state operation,
    system (Ready, NotReady, AuxWork, AfterCallWork, Offline) or custom (e.g. ``Training``,
    defined in ``settings/agent-states`` with its reason code and work mode)."""
    return await client.post("/me/channels/voice", _op(operation_name, **params))


async def ready(client: GwsRestClient) -> Reply:
    """Voice channel Ready."""
    return await agent_state_operation(client, "Ready")


async def not_ready(
    client: GwsRestClient, *, reason: str | None = None, work_mode: str | None = None
) -> Reply:
    """Voice channel NotReady.

    The seeds document NotReady without parameters; a reason is normally expressed as a custom
    agent-state operation (:func:`agent_state_operation`). When ``reason`` / ``work_mode`` are
    given they are sent as ``reasonCode`` / ``workMode`` (the attribute names of the 8.5.1
    agent-state settings), which GWS passes to T-Server.
    """
    return await agent_state_operation(client, "NotReady", reasonCode=reason, workMode=work_mode)


async def after_call_work(client: GwsRestClient) -> Reply:
    """Voice channel AfterCallWork (NotReady, workMode AfterCallWork)."""
    return await agent_state_operation(client, "AfterCallWork")


async def aux_work(client: GwsRestClient) -> Reply:
    """Voice channel AuxWork (NotReady, workMode AuxWork)."""
    return await agent_state_operation(client, "AuxWork")


async def offline(client: GwsRestClient) -> Reply:
    """Voice channel Offline (device userState becomes LoggedOut)."""
    return await agent_state_operation(client, "Offline")


async def channel_state(client: GwsRestClient, channel: str, operation_name: str) -> Reply:
    """``POST /me/channels/{channel}`` with an agent-state operation (8.5.1 Channels API;
    channel ids are media names: ``voice``, ``email``, ``chat``…)."""
    return await client.post(f"/me/channels/{_seg(channel)}", _op(operation_name))


async def all_channels_ready(client: GwsRestClient) -> Reply:
    """``POST /me {"operationName": "Ready"}``: Ready on every channel."""
    return await client.post("/me", _op("Ready"))


async def all_channels_not_ready(client: GwsRestClient) -> Reply:
    """``POST /me {"operationName": "NotReady"}``: NotReady on every channel."""
    return await client.post("/me", _op("NotReady"))


async def dnd(client: GwsRestClient, on: bool, *, device_id: str | None = None) -> Reply:
    """Do-not-disturb on/off: on ``/me`` (all channels and devices), or on one device."""
    operation = "DoNotDisturbOn" if on else "DoNotDisturbOff"
    path = f"/me/devices/{_seg(device_id)}" if device_id is not None else "/me"
    return await client.post(path, _op(operation))


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
    body = _op(
        "SetCallDisposition",
        callUri=client.api_url(f"/me/calls/{_seg(call_id)}"),
        callUuid=call_uuid,
        disposition=disposition,
        dispositionKey=key or None,
    )
    path = f"/me/devices/{_seg(device_id)}" if device_id is not None else f"/me/calls/{_seg(call_id)}"
    return await client.post(path, body)


async def get_dispositions(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /settings/dispositions``: the flat disposition codes ``[{name, displayName}]``."""
    reply = await client.get("/settings/dispositions")
    return _list(reply, "settings")


async def get_disposition_groups(client: GwsRestClient, group_id: str, *, tree: bool = True) -> Reply:
    """``GET /groups/{id}?subresources=**`` (whole tree) or ``=*`` (first level): the
    hierarchical dispositions of a group (bare group object with ``groups`` and
    ``dispositions``)."""
    return await client.get(f"/groups/{_seg(group_id)}", params={"subresources": "**" if tree else "*"})


# -- calls (§4, §5, §8, §9, §10) ---------------------------------------------------------------


async def call_operation(client: GwsRestClient, call_id: str, operation_name: str, **params: Any) -> Reply:
    """``POST /me/calls/{id} {"operationName": …, **params}`` (``None`` params are left out)."""
    return await client.post(f"/me/calls/{_seg(call_id)}", _op(operation_name, **params))


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
        f"/me/devices/{_seg(device_id)}/calls",
        _op("Dial", destination={"phoneNumber": destination}, userData=user_data),
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


def _destination(destination: str) -> dict[str, str]:
    return {"phoneNumber": destination}


async def single_step_transfer(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Blind transfer to ``destination`` (a phone number)."""
    return await call_operation(
        client, call_id, "SingleStepTransfer", destination=_destination(destination), userData=user_data
    )


async def initiate_transfer(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Start a consult transfer: the call is held and a consult call dials ``destination``."""
    return await call_operation(
        client, call_id, "InitiateTransfer", destination=_destination(destination), userData=user_data
    )


async def complete_transfer(
    client: GwsRestClient, call_id: str, *, consult_call_id: str | None = None
) -> Reply:
    """Complete a consult transfer; ``consultCallUri`` is sent when ``consult_call_id`` is given
    (otherwise GWS finds the related call)."""
    consult_uri = client.api_url(f"/me/calls/{_seg(consult_call_id)}") if consult_call_id else None
    return await call_operation(client, call_id, "CompleteTransfer", consultCallUri=consult_uri)


async def single_step_conference(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Add ``destination`` to the call in one step."""
    return await call_operation(
        client, call_id, "SingleStepConference", destination=_destination(destination), userData=user_data
    )


async def initiate_conference(
    client: GwsRestClient, call_id: str, destination: str, user_data: dict[str, Any] | None = None
) -> Reply:
    """Start a consult conference: the call is held and a consult call dials ``destination``."""
    return await call_operation(
        client, call_id, "InitiateConference", destination=_destination(destination), userData=user_data
    )


async def complete_conference(
    client: GwsRestClient, call_id: str, *, consult_call_id: str | None = None
) -> Reply:
    """Merge the consult call into the conference."""
    consult_uri = client.api_url(f"/me/calls/{_seg(consult_call_id)}") if consult_call_id else None
    return await call_operation(client, call_id, "CompleteConference", consultCallUri=consult_uri)


async def swap_calls(client: GwsRestClient, call_id: str, other_call_id: str) -> Reply:
    """Hold this call and retrieve the other one."""
    other_uri = client.api_url(f"/me/calls/{_seg(other_call_id)}")
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
    return await client.post(f"/me/devices/{_seg(device_id)}", _op("ForwardCallsOn", destination=destination))


async def forward_calls_off(client: GwsRestClient, device_id: str) -> Reply:
    """``POST /me/devices/{id}`` ForwardCallsOff (no destination, unlike the seed's sample)."""
    return await client.post(f"/me/devices/{_seg(device_id)}", _op("ForwardCallsOff"))


# -- interactions and workbins (§11, §12) ------------------------------------------------------


async def interaction_operation(
    client: GwsRestClient, interaction_id: str, operation_name: str, **params: Any
) -> Reply:
    """``POST /me/interactions/{id} {"operationName": …, **params}``."""
    return await client.post(f"/me/interactions/{_seg(interaction_id)}", _op(operation_name, **params))


async def accept_interaction(
    client: GwsRestClient, interaction_id: str, *, nickname: str | None = None
) -> Reply:
    """Accept an invited e-mail or chat (``nickname`` is shown in a chat)."""
    return await interaction_operation(client, interaction_id, "Accept", nickname=nickname)


async def reject_interaction(client: GwsRestClient, interaction_id: str) -> Reply:
    """Reject an invited interaction (offered to another agent)."""
    return await interaction_operation(client, interaction_id, "Reject")


async def complete_interaction(client: GwsRestClient, interaction_id: str) -> Reply:
    """Complete (stop processing) an interaction."""
    return await interaction_operation(client, interaction_id, "Complete")


async def place_in_queue(client: GwsRestClient, interaction_id: str, queue_name: str) -> Reply:
    """Put the interaction back into ``queue_name``."""
    return await interaction_operation(client, interaction_id, "PlaceInQueue", queueName=queue_name)


async def place_in_workbin(client: GwsRestClient, interaction_id: str, workbin: str) -> Reply:
    """Put the interaction into a workbin."""
    return await interaction_operation(client, interaction_id, "PlaceInWorkbin", workbin=workbin)


async def transfer_interaction(client: GwsRestClient, interaction_id: str, user_id: str) -> Reply:
    """Single-step transfer of an interaction to another agent (``"Transfer"`` + ``userId``)."""
    return await interaction_operation(client, interaction_id, "Transfer", userId=user_id)


async def update_interaction_data(
    client: GwsRestClient, interaction_id: str, user_data: dict[str, Any]
) -> Reply:
    """UpdateUserData on an interaction."""
    return await interaction_operation(client, interaction_id, "UpdateUserData", userData=user_data)


async def pull_from_workbin(client: GwsRestClient, workbin_id: str, interaction_id: str) -> Reply:
    """``POST /me/interactions`` PullInteractionFromWorkbin with the workbin interaction's URI."""
    uri = client.api_url(f"/me/workbins/{_seg(workbin_id)}/interactions/{_seg(interaction_id)}")
    return await client.post("/me/interactions", _op("PullInteractionFromWorkbin", uri=uri))


# -- settings and session ------------------------------------------------------------------------


async def get_agent_states(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /settings/agent-states``: ``[{operationName, displayName, state, workMode?, reason?}]``."""
    return _list(await client.get("/settings/agent-states"), "settings")


async def get_voice_settings(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /settings/voice``: ``[{name, value}]`` (toast-filter, case-filter, …)."""
    return _list(await client.get("/settings/voice"), "settings")


async def start_contact_center_session(
    client: GwsRestClient,
    channels: list[str],
    *,
    place: str | None = None,
    login_code: str | None = None,
    queue: str | None = None,
) -> Reply:
    """``POST /me`` StartContactCenterSession (logs the agent in on ``channels``)."""
    body = _op(
        "StartContactCenterSession", channels=list(channels), place=place, loginCode=login_code, queue=queue
    )
    return await client.post("/me", body)


async def end_contact_center_session(client: GwsRestClient) -> Reply:
    """``POST /me`` EndContactCenterSession; GWS then invalidates the HTTP session, so the
    client forgets its session and CSRF token (the next request logs in again)."""
    reply = await client.post("/me", _op("EndContactCenterSession"))
    client.forget_session()
    return reply


# -- reads (state recovery) ----------------------------------------------------------------------


async def get_me(client: GwsRestClient, subresources: bool = True) -> dict[str, Any]:
    """``GET /me?subresources=*``: the ``user`` object with devices, calls, settings… (a bare
    8.5.1-style body is returned as is)."""
    reply = await client.get("/me", params={"subresources": "*"} if subresources else None)
    user = reply.get("user")
    return user if isinstance(user, dict) else reply


async def get_calls(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /me/calls?fields=*``: the agent's calls."""
    return _list(await client.get("/me/calls", params={"fields": "*"}), "calls")


async def get_interactions(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /me/interactions?fields=*``: the agent's interactions."""
    return _list(await client.get("/me/interactions", params={"fields": "*"}), "interactions")


async def get_devices(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /me/devices?fields=*``: the agent's devices."""
    return _list(await client.get("/me/devices", params={"fields": "*"}), "devices")


def _list(reply: Reply, key: str) -> list[dict[str, Any]]:
    value = reply.get(key)
    if isinstance(value, dict):  # a singular resource where a list was expected (quirk A8)
        return [value]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]
