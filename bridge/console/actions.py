"""The operator's actions in the console: replaying or purging dead letters, and enabling,
disabling or testing a destination. Each needs an operator key, and each is audited, refused
or not; the work is :class:`~bridge.delivery.admin.DeliveryAdmin`'s, the same code as
``gws-bridge dlq`` and ``gws-bridge destinations``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bridge.console.http import ADMIN, AUDIT, NAME, json_reply, read_body, require_operator
from bridge.delivery.admin import AdminError, LetterFilter, parse_time
from bridge.inbound.problems import Problem

__all__ = ["destination_action", "letter_filter", "purge", "replay"]


def letter_filter(body: dict[str, Any], *, ids: Any = None) -> LetterFilter:
    """The dead letters ``body`` selects (ids, destination, since, until, limit); raises a 400
    ``Problem`` naming the field at fault."""
    raw_ids = body.get("ids", []) if ids is None else ids
    if not isinstance(raw_ids, list | tuple) or not all(
        isinstance(i, str) and NAME.match(i) for i in raw_ids
    ):
        raise Problem(400, "ids must be a list of dead-letter ids", field="ids")
    destination = body.get("destination") or None
    if destination is not None and (not isinstance(destination, str) or not NAME.match(destination)):
        raise Problem(400, "destination is not a destination name", field="destination")
    limit = body.get("limit")
    if limit is not None:
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            limit = 0
        if not 1 <= limit <= 100_000:
            raise Problem(400, "limit must be an integer from 1 to 100000", field="limit")
    return LetterFilter(
        ids=tuple(raw_ids), destination=destination, since=_when(body.get("since"), "since"),
        until=_when(body.get("until"), "until"), limit=limit,
    )  # fmt: skip


def _when(raw: Any, name: str) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return parse_time(str(raw))
    except ValueError as exc:
        raise Problem(400, f"{name}: ISO 8601, Unix seconds or an age such as 15m", field=name) from exc


async def _bulk(request: web.Request, action: str) -> web.Response:
    identity = require_operator(request, f"{action} dead letters")
    body = await read_body(request)
    selection = letter_filter(body)
    everything = body.get("all") is True
    dry_run = body.get("dry_run") is True
    admin = request.app[ADMIN]
    target = ",".join(selection.ids) or (
        f"destination={selection.destination} since={selection.since} until={selection.until}"
        if not selection.unfiltered else "all"
    )  # fmt: skip
    try:
        # The same streaming code as `gws-bridge dlq`: batches, bounded memory, and the dry run.
        bulk = admin.replay if action == "replay" else admin.purge
        result = await bulk(selection, everything=everything, dry_run=dry_run)
    except AdminError as exc:
        await request.app[AUDIT].record(identity, f"dead-letters.{action}", target, f"refused: {exc}")
        raise
    outcome = f"{'dry run: would ' + action + ' ' if dry_run else ''}{result.count} letter(s)"
    audit = request.app[AUDIT]
    await audit.record(identity, f"dead-letters.{action}", target, outcome, missing=result.missing)
    return json_reply({"count": result.count, "missing": result.missing, "dry_run": dry_run})


async def replay(request: web.Request) -> web.Response:
    return await _bulk(request, "replay")


async def purge(request: web.Request) -> web.Response:
    return await _bulk(request, "purge")


async def destination_action(request: web.Request) -> web.Response:
    name, action = request.match_info["name"], request.match_info["action"]
    identity = require_operator(request, f"{action} a destination")
    admin, log = request.app[ADMIN], request.app[AUDIT]
    body = await read_body(request)
    try:
        if action == "enable":
            moved, kicks = await admin.enable(name)
            result: dict[str, Any] = {"enabled": True, "rescheduled": moved, "subjects_kicked": kicks}
        elif action == "disable":
            reason = body.get("reason") or f"disabled by {identity.name} (console)"
            if not isinstance(reason, str) or len(reason) > 200:
                raise Problem(400, "reason must be a string of at most 200 characters", field="reason")
            result = {"disabled": await admin.disable(name, reason)}
        else:
            event = await admin.send_test(name, identity.name)
            result = {"event_id": event.id}
    except AdminError as exc:
        await log.record(identity, f"destination.{action}", name, f"refused: {exc}")
        raise
    await log.record(identity, f"destination.{action}", name, "ok", **result)
    return json_reply(result)
