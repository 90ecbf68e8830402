"""Workbins (8.5.1, §12) performed over a :class:`GwsRestClient`: the agent's workbins, their
content, and the event subscription (requests built by :mod:`bridge.gws.operations.builders`).

GWS sends workbin notifications (``/v2/me/workbins``) only to a client that sent the
``Subscribe`` operation (SubscribeWorkbinEvents, 003:6243-6274).
"""

from __future__ import annotations

from typing import Any

from bridge.gws.operations import builders as build
from bridge.gws.operations._request import Reply, items_of
from bridge.gws.rest import GwsRestClient

__all__ = ["get_workbin_content", "get_workbins", "subscribe_workbin", "unsubscribe_workbin"]


async def get_workbins(client: GwsRestClient) -> list[dict[str, Any]]:
    """GetWorkbinTypesInfo: ``[{workbinId, workbinName, viewName, …}]``."""
    return items_of(await client.perform(build.list_workbins().request), "workbins")


async def get_workbin_content(client: GwsRestClient, workbin_id: str) -> list[dict[str, Any]]:
    """GetWorkbinContent: the interactions in the workbin, as raw Interaction Server attributes
    (``InteractionId``, ``MediaType``, ``Queue``, …)."""
    return items_of(await client.perform(build.workbin_content(workbin_id).request), "interactions")


async def subscribe_workbin(client: GwsRestClient, workbin_id: str) -> Reply:
    """``Subscribe``: receive the workbin's notifications."""
    return await client.perform(build.subscribe(workbin_id).request)


async def unsubscribe_workbin(client: GwsRestClient, workbin_id: str) -> Reply:
    """``Unsubscribe``."""
    return await client.perform(build.unsubscribe(workbin_id).request)
