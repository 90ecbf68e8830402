"""Workbins (8.5.1, catalogue §12): list them, read one, add to one, pull from one, and the
event subscription. All synchronous (``{"status": 0}`` replies); a ``Subscribe`` is what makes
GWS send ``/v2/me/workbins`` notifications. The seeds give no URI for (Un)Subscribe: they are sent
on the workbin they are about."""

from __future__ import annotations

from bridge.gws.operations.builders.table import operation
from bridge.gws.operations.request import SYNC, GwsRequest, Operation, api_uri, operation_body, segment

__all__ = [
    "add_to_workbin",
    "list_workbins",
    "pull_from_workbin",
    "subscribe",
    "unsubscribe",
    "workbin_content",
]


def _workbin(workbin_id: str) -> str:
    return f"/me/workbins/{segment(workbin_id)}"


@operation(
    "workbins.GetWorkbinTypesInfo",
    "GET",
    "/me/workbins",
    name=None,
    confirms="the reply: workbins[{workbinId, workbinName, …}]",
    source="003:5966-6042",
)
def list_workbins() -> Operation:
    return Operation(GwsRequest("GET", "/me/workbins"), SYNC)


@operation(
    "workbin.GetWorkbinContent",
    "GET",
    "/me/workbins/{workbin}/interactions",
    name=None,
    confirms="the reply: interactions[]",
    source="003:6056-6170",
)
def workbin_content(workbin_id: str) -> Operation:
    return Operation(GwsRequest("GET", f"{_workbin(workbin_id)}/interactions", params={"fields": "*"}), SYNC)


@operation(
    "workbin.AddInteractionToWorkbin",
    "POST",
    "/me/workbins/{workbin}/interactions",
    name=None,
    confirms="the reply ({status: 0, uri}); /v2/me/workbins PlacedIn",
    source="003:6172-6207",
)
def add_to_workbin(workbin_id: str, interaction_id: str) -> Operation:
    request = GwsRequest("POST", f"{_workbin(workbin_id)}/interactions", {"interactionId": interaction_id})
    return Operation(request, SYNC)


@operation(
    "interactions.PullInteractionFromWorkbin",
    "POST",
    "/me/interactions",
    confirms="the reply ({status: 0}); the interaction comes back (Pulled)",
    source="003:6209-6241",
)
def pull_from_workbin(workbin_id: str, interaction_id: str, *, base_url: str) -> Operation:
    uri = api_uri(base_url, f"{_workbin(workbin_id)}/interactions/{segment(interaction_id)}")
    return Operation(
        GwsRequest("POST", "/me/interactions", operation_body("PullInteractionFromWorkbin", uri=uri)), SYNC
    )


@operation(
    "workbin.Subscribe",
    "POST",
    "/me/workbins/{workbin}",
    confirms="the reply ({status: 0})",
    source="003:6243-6274",
)
def subscribe(workbin_id: str) -> Operation:
    return Operation(GwsRequest("POST", _workbin(workbin_id), operation_body("Subscribe")), SYNC)


@operation(
    "workbin.Unsubscribe",
    "POST",
    "/me/workbins/{workbin}",
    confirms="the reply ({status: 0})",
    source="003:6322-6349",
)
def unsubscribe(workbin_id: str) -> Operation:
    return Operation(GwsRequest("POST", _workbin(workbin_id), operation_body("Unsubscribe")), SYNC)
