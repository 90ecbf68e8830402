"""Multimedia interaction operations (e-mail, chat) and workbins, performed over a
:class:`GwsRestClient` (requests built by :mod:`bridge.gws.operations.builders`)."""

from __future__ import annotations

from typing import Any

from bridge.gws.operations import builders as build
from bridge.gws.operations._request import Reply
from bridge.gws.rest import GwsRestClient

__all__ = [
    "accept_interaction",
    "complete_interaction",
    "interaction_operation",
    "place_in_queue",
    "place_in_workbin",
    "pull_from_workbin",
    "reject_interaction",
    "transfer_interaction",
    "update_interaction_data",
]


async def interaction_operation(
    client: GwsRestClient, interaction_id: str, operation_name: str, **params: Any
) -> Reply:
    """``POST /me/interactions/{id} {"operationName": …, **params}``."""
    return await client.perform(build.interaction_operation(interaction_id, operation_name, **params).request)


async def accept_interaction(
    client: GwsRestClient, interaction_id: str, *, nickname: str | None = None
) -> Reply:
    """Accept an invited e-mail or chat (``nickname`` is shown in a chat)."""
    return await client.perform(build.accept_interaction(interaction_id, nickname).request)


async def reject_interaction(client: GwsRestClient, interaction_id: str) -> Reply:
    """Reject an invited interaction (offered to another agent)."""
    return await client.perform(build.reject_interaction(interaction_id).request)


async def complete_interaction(client: GwsRestClient, interaction_id: str) -> Reply:
    """Complete (stop processing) an interaction."""
    return await client.perform(build.complete_interaction(interaction_id).request)


async def place_in_queue(client: GwsRestClient, interaction_id: str, queue_name: str) -> Reply:
    """Put the interaction back into ``queue_name``."""
    return await client.perform(build.place_in_queue(interaction_id, queue_name).request)


async def place_in_workbin(client: GwsRestClient, interaction_id: str, workbin: str) -> Reply:
    """Put the interaction into a workbin."""
    return await client.perform(build.place_in_workbin(interaction_id, workbin).request)


async def transfer_interaction(client: GwsRestClient, interaction_id: str, user_id: str) -> Reply:
    """Single-step transfer of an interaction to another agent (``"Transfer"`` + ``userId``)."""
    return await client.perform(build.transfer_interaction(interaction_id, user_id).request)


async def update_interaction_data(
    client: GwsRestClient, interaction_id: str, user_data: dict[str, Any]
) -> Reply:
    """UpdateUserData on an interaction."""
    return await client.perform(build.update_interaction_data(interaction_id, user_data).request)


async def pull_from_workbin(client: GwsRestClient, workbin_id: str, interaction_id: str) -> Reply:
    """``POST /me/interactions`` PullInteractionFromWorkbin with the workbin interaction's URI."""
    operation = build.pull_from_workbin(workbin_id, interaction_id, base_url=client.base_url)
    return await client.perform(operation.request)
