"""What an agent session reads from GWS to recover its state after a (re)connect.

:func:`read_snapshot` first sends the workbin ``Subscribe`` for each of the agent's workbins
(GWS sends workbin notifications only to a client that did: SubscribeWorkbinEvents, seed
003), then reads the agent (``GET /me?subresources=*``), its calls, its interactions and each
workbin's content. Subscribing before reading the content means that nothing placed in a
workbin in between is missed: it is in the content, or it comes as a notification.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bridge.errors import GwsError, GwsTransportError
from bridge.gws.operations import (
    get_calls,
    get_interactions,
    get_me,
    get_workbin_content,
    get_workbins,
    subscribe_workbin,
)
from bridge.gws.rest import GwsRestClient
from bridge.gws.status import describe_error
from bridge.normalize import Snapshot

__all__ = ["read_snapshot", "subscribe_workbins"]

# logged as part of the agent session
logger = logging.getLogger("bridge.gws.session")


async def read_snapshot(rest: GwsRestClient) -> Snapshot:
    """Subscribe to the workbins, then read what state recovery compares.

    Raises ``GwsError`` when the agent, its calls or its interactions cannot be read; a
    workbin problem only leaves that workbin out (see :func:`subscribe_workbins`).
    """
    workbins = await subscribe_workbins(rest)
    me = await get_me(rest, subresources=True)
    calls = await get_calls(rest)
    interactions = await get_interactions(rest)
    return Snapshot(me=me, calls=calls, interactions=interactions, workbins=workbins)


async def subscribe_workbins(rest: GwsRestClient) -> dict[str, list[dict[str, Any]]] | None:
    """``Subscribe`` on each of the agent's workbins, then its content: workbin name → interactions.

    A workbin GWS refuses is logged and left out (recovery then does not compare it); ``None``
    when GWS does not list the workbins (one without e-mail, say): none is compared. Raises
    ``GwsTransportError`` when GWS cannot be reached.
    """
    try:
        listed = await get_workbins(rest)
    except GwsTransportError:
        raise
    except GwsError as exc:
        _warn(rest, "workbins not listed, none subscribed", exc)
        return None
    ids = {
        str(item["workbinName"]): str(item["workbinId"])
        for item in listed
        if item.get("workbinName") and item.get("workbinId")
    }

    async def subscribe_and_read(workbin_id: str) -> list[dict[str, Any]]:
        await subscribe_workbin(rest, workbin_id)
        return await get_workbin_content(rest, workbin_id)

    results = await asyncio.gather(*map(subscribe_and_read, ids.values()), return_exceptions=True)
    contents: dict[str, list[dict[str, Any]]] = {}
    for name, result in zip(ids, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, GwsError) or isinstance(result, GwsTransportError):
                raise result
            _warn(rest, f"workbin {name} not subscribed", result)
        else:
            contents[name] = result
    return contents


def _warn(rest: GwsRestClient, what: str, exc: BaseException) -> None:
    error = describe_error(exc)
    logger.warning(
        "agent %s: %s: %s", rest.username, what, error, extra={"agent": rest.username, "error": error}
    )
