"""Multimedia interaction operations (e-mail, chat) and workbins."""

from __future__ import annotations

from typing import Any

from bridge.gws.operations._request import Reply, operation_body, segment
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


# -- interactions and workbins (§11, §12) ------------------------------------------------------


async def interaction_operation(
    client: GwsRestClient, interaction_id: str, operation_name: str, **params: Any
) -> Reply:
    """``POST /me/interactions/{id} {"operationName": …, **params}``."""
    return await client.post(
        f"/me/interactions/{segment(interaction_id)}", operation_body(operation_name, **params)
    )


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
    uri = client.api_url(f"/me/workbins/{segment(workbin_id)}/interactions/{segment(interaction_id)}")
    return await client.post("/me/interactions", operation_body("PullInteractionFromWorkbin", uri=uri))
