"""Agent state (system and custom operations, per channel, all channels), DND, and the
contact-center session, performed over a :class:`GwsRestClient` (requests built by
:mod:`bridge.gws.operations.builders`)."""

from __future__ import annotations

from typing import Any

from bridge.gws.operations import builders as build
from bridge.gws.operations._request import Reply
from bridge.gws.rest import GwsRestClient

__all__ = [
    "after_call_work",
    "agent_state_operation",
    "all_channels_not_ready",
    "all_channels_ready",
    "aux_work",
    "channel_state",
    "dnd",
    "end_contact_center_session",
    "not_ready",
    "offline",
    "ready",
    "start_contact_center_session",
]


async def agent_state_operation(client: GwsRestClient, operation_name: str, **params: Any) -> Reply:
    """``POST /me/channels/voice {"operationName": operation_name}``: any agent-state operation,
    system (Ready, NotReady, AuxWork, AfterCallWork, Offline) or custom (e.g. ``Training``,
    defined in ``settings/agent-states`` with its reason code and work mode)."""
    return await client.perform(build.voice_agent_state(operation_name, "", **params).request)


async def ready(client: GwsRestClient) -> Reply:
    """Voice channel Ready."""
    return await client.perform(build.ready().request)


async def not_ready(client: GwsRestClient) -> Reply:
    """Voice channel NotReady, without a reason or work mode.

    NotReady takes no parameter but ``operationName`` (002:8884-8960; on ``/me``, 000:58-89).
    A reason code or work mode is an agent-state definition in ``settings/agent-states``
    (e.g. ``AuxWork``, ``Training``): send its operation with :func:`agent_state_operation`,
    as the ``agent.not_ready`` command does.
    """
    return await client.perform(build.not_ready().request)


async def after_call_work(client: GwsRestClient) -> Reply:
    """Voice channel AfterCallWork (NotReady, workMode AfterCallWork)."""
    return await client.perform(build.after_call_work().request)


async def aux_work(client: GwsRestClient) -> Reply:
    """Voice channel AuxWork (NotReady, workMode AuxWork)."""
    return await client.perform(build.aux_work().request)


async def offline(client: GwsRestClient) -> Reply:
    """Voice channel Offline (device userState becomes LoggedOut)."""
    return await client.perform(build.offline().request)


async def channel_state(client: GwsRestClient, channel: str, operation_name: str) -> Reply:
    """``POST /me/channels/{channel}`` with an agent-state operation (8.5.1 Channels API;
    channel ids are media names: ``voice``, ``email``, ``chat``…)."""
    return await client.perform(build.channel_state(channel, operation_name, operation_name).request)


async def all_channels_ready(client: GwsRestClient) -> Reply:
    """``POST /me {"operationName": "Ready"}``: Ready on every channel."""
    return await client.perform(build.all_channels_state("Ready").request)


async def all_channels_not_ready(client: GwsRestClient) -> Reply:
    """``POST /me {"operationName": "NotReady"}``: NotReady on every channel."""
    return await client.perform(build.all_channels_state("NotReady").request)


async def dnd(client: GwsRestClient, on: bool, *, device_id: str | None = None) -> Reply:
    """Do-not-disturb on/off: on ``/me`` (all channels and devices), or on one device."""
    operation = build.me_dnd(on) if device_id is None else build.device_dnd(device_id, on)
    return await client.perform(operation.request)


async def start_contact_center_session(
    client: GwsRestClient,
    channels: list[str],
    *,
    place: str | None = None,
    login_code: str | None = None,
    queue: str | None = None,
) -> Reply:
    """``POST /me`` StartContactCenterSession (logs the agent in on ``channels``)."""
    operation = build.start_contact_center_session(channels, place=place, login_code=login_code, queue=queue)
    return await client.perform(operation.request)


async def end_contact_center_session(client: GwsRestClient) -> Reply:
    """``POST /me`` EndContactCenterSession; GWS then invalidates the HTTP session, so the
    client forgets its session and CSRF token (the next request logs in again)."""
    return await client.perform(build.end_contact_center_session().request)
