"""Reads: the agent's state for recovery (me, calls, interactions, devices) and the settings
commands are validated against (agent states, dispositions, voice settings)."""

from __future__ import annotations

from typing import Any

from bridge.gws.operations._request import Reply, items_of, segment
from bridge.gws.rest import GwsRestClient

__all__ = [
    "get_agent_states",
    "get_calls",
    "get_devices",
    "get_disposition_groups",
    "get_dispositions",
    "get_interactions",
    "get_me",
    "get_voice_settings",
]


async def get_dispositions(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /settings/dispositions``: the flat disposition codes ``[{name, displayName}]``."""
    reply = await client.get("/settings/dispositions")
    return items_of(reply, "settings")


async def get_disposition_groups(client: GwsRestClient, group_id: str, *, tree: bool = True) -> Reply:
    """``GET /groups/{id}?subresources=**`` (whole tree) or ``=*`` (first level): the
    hierarchical dispositions of a group (bare group object with ``groups`` and
    ``dispositions``)."""
    return await client.get(f"/groups/{segment(group_id)}", params={"subresources": "**" if tree else "*"})


async def get_agent_states(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /settings/agent-states``: ``[{operationName, displayName, state, workMode?, reason?}]``."""
    return items_of(await client.get("/settings/agent-states"), "settings")


async def get_voice_settings(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /settings/voice``: ``[{name, value}]`` (toast-filter, case-filter, …)."""
    return items_of(await client.get("/settings/voice"), "settings")


async def get_me(client: GwsRestClient, subresources: bool = True) -> dict[str, Any]:
    """``GET /me?subresources=*``: the ``user`` object with devices, calls, settings… (a bare
    8.5.1-style body is returned as is)."""
    reply = await client.get("/me", params={"subresources": "*"} if subresources else None)
    user = reply.get("user")
    return user if isinstance(user, dict) else reply


async def get_calls(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /me/calls?fields=*``: the agent's calls."""
    return items_of(await client.get("/me/calls", params={"fields": "*"}), "calls")


async def get_interactions(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /me/interactions?fields=*``: the agent's interactions."""
    return items_of(await client.get("/me/interactions", params={"fields": "*"}), "interactions")


async def get_devices(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /me/devices?fields=*``: the agent's devices."""
    return items_of(await client.get("/me/devices", params={"fields": "*"}), "devices")
