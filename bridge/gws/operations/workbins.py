"""Workbins (8.5.1, §12): the agent's workbins, their content, and the event subscription.

GWS sends workbin notifications (``/v2/me/workbins``) only to a client that sent the
``Subscribe`` operation (SubscribeWorkbinEvents, 003:6243-6274). The seeds give no URI for it;
it is sent on the workbin it is about, ``POST /me/workbins/{workbinId}``.
"""

from __future__ import annotations

from typing import Any

from bridge.gws.operations._request import Reply, items_of, operation_body, segment
from bridge.gws.rest import GwsRestClient

__all__ = ["get_workbin_content", "get_workbins", "subscribe_workbin", "unsubscribe_workbin"]


async def get_workbins(client: GwsRestClient) -> list[dict[str, Any]]:
    """``GET /me/workbins`` (GetWorkbinTypesInfo): ``[{workbinId, workbinName, viewName, …}]``."""
    return items_of(await client.get("/me/workbins"), "workbins")


async def get_workbin_content(client: GwsRestClient, workbin_id: str) -> list[dict[str, Any]]:
    """``GET /me/workbins/{id}/interactions?fields=*``: the interactions in it, as raw Interaction
    Server attributes (``InteractionId``, ``MediaType``, ``Queue``, …)."""
    reply = await client.get(f"/me/workbins/{segment(workbin_id)}/interactions", params={"fields": "*"})
    return items_of(reply, "interactions")


async def subscribe_workbin(client: GwsRestClient, workbin_id: str) -> Reply:
    """``POST /me/workbins/{id} {"operationName": "Subscribe"}``: receive the workbin's notifications."""
    return await client.post(f"/me/workbins/{segment(workbin_id)}", operation_body("Subscribe"))


async def unsubscribe_workbin(client: GwsRestClient, workbin_id: str) -> Reply:
    """``POST /me/workbins/{id} {"operationName": "Unsubscribe"}``."""
    return await client.post(f"/me/workbins/{segment(workbin_id)}", operation_body("Unsubscribe"))
