"""State recovery: the REST view of an agent compared with the last-known state.

The bodies are fed through the same family functions as live messages, so
a change gives the same event (and the same id) whichever path sees it
first, and nothing already seen is emitted again. What only recovery can
tell — a call or interaction that ended while we were away and that GWS no
longer lists, an interaction that left a workbin — is reported from the last-known state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.errors import NormalizationError
from bridge.normalize.calls import normalize_call, released_from_record
from bridge.normalize.channels import normalize_channels
from bridge.normalize.context import Context, as_dict, as_list, as_str, last_path_segment
from bridge.normalize.devices import normalize_devices
from bridge.normalize.interactions import interaction_fields, normalize_interaction, vanished_interaction
from bridge.normalize.wire import jsonable, parse_wire
from bridge.normalize.workbins import recover_workbin

__all__ = ["Snapshot", "recover_snapshot"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """The REST bodies read after a CometD (re)connect; each is parsed JSON, raw bytes/str, or ``None``.

    ``me``: ``GET /api/v2/me?subresources=*`` (8.5.2 ``{user: {devices, calls, …}}``
    or the 8.5.1 bare ``{devices, channels}``); ``calls``:
    ``GET /api/v2/me/calls?fields=*`` (``{calls: […]}``); ``interactions``:
    ``GET /api/v2/me/interactions?fields=*`` (``{interactions: […]}``); ``workbins``: each
    workbin's name (as notifications spell ``workbinTypeId``) → its
    ``GET /api/v2/me/workbins/{id}/interactions?fields=*`` body (or the list of its items).
    """

    me: Any = None
    calls: Any = None
    interactions: Any = None
    workbins: Mapping[str, Any] | None = None


def _body(ctx: Context, name: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview | str):
        try:
            value = parse_wire(value)
        except NormalizationError:
            logger.warning("snapshot body is not JSON; ignored", extra={"agent": ctx.agent, "part": name})
            return None
    else:
        value = jsonable(value)
    if isinstance(value, list):  # a bare list of items
        return {name: value}
    return value if isinstance(value, dict) else None


def recover_snapshot(ctx: Context, snapshot: Snapshot) -> None:
    """Emit into ``ctx`` the events for every difference between ``snapshot`` and the state."""
    me = _body(ctx, "me", snapshot.me)
    calls_body = _body(ctx, "calls", snapshot.calls)
    interactions_body = _body(ctx, "interactions", snapshot.interactions)
    user = as_dict(me.get("user")) if me is not None and isinstance(me.get("user"), dict) else (me or {})
    for step in (_devices, _channels):
        _guarded(ctx, step, user)
    _guarded(ctx, _calls, user, calls_body)
    _guarded(ctx, _interactions, interactions_body)
    for workbin, content in (snapshot.workbins or {}).items():
        _guarded(ctx, _workbin, workbin, _body(ctx, "interactions", content))


def _guarded(ctx: Context, step: Any, *args: Any) -> None:
    try:
        step(ctx, *args)
    except Exception:  # recovery must not fail the session; the next recovery retries
        logger.exception("snapshot step failed", extra={"agent": ctx.agent, "step": step.__name__})


def _devices(ctx: Context, user: dict[str, Any]) -> None:
    devices = [d for d in as_list(user.get("devices")) if isinstance(d, dict)]
    if devices:
        ctx.raw = devices
        normalize_devices(ctx, {"devices": devices})


def _channels(ctx: Context, user: dict[str, Any]) -> None:
    channels = [c for c in as_list(user.get("channels")) if isinstance(c, dict)]
    if channels:
        ctx.raw = channels
        normalize_channels(ctx, {"channels": channels})


def _calls(ctx: Context, user: dict[str, Any], calls_body: dict[str, Any] | None) -> None:
    listed: list[dict[str, Any]] | None = None
    if calls_body is not None and isinstance(calls_body.get("calls"), list):
        listed = [c for c in calls_body["calls"] if isinstance(c, dict)]
    elif isinstance(user.get("calls"), list):
        listed = [c for c in user["calls"] if isinstance(c, dict)]
    if listed is None:
        return
    seen: set[str] = set()
    for call in listed:
        call_id = as_str(call.get("id")) or last_path_segment(call.get("uri"))
        if call_id is None:
            continue
        seen.add("call/" + call_id)
        ctx.raw = call
        normalize_call(ctx, {"call": call}, recovered=True)
    for subject in ctx.state.subjects("call/"):
        if subject not in seen:
            record = ctx.state.get(subject)
            if record:
                ctx.raw = None
                released_from_record(ctx, subject, record)


def _workbin(ctx: Context, workbin: str, body: dict[str, Any] | None) -> None:
    if body is None or not isinstance(body.get("interactions"), list):
        return
    ctx.raw = body
    recover_workbin(ctx, workbin, [item for item in body["interactions"] if isinstance(item, dict)])


def _interactions(ctx: Context, body: dict[str, Any] | None) -> None:
    if body is None or not isinstance(body.get("interactions"), list):
        return
    seen: set[str] = set()
    for item in body["interactions"]:
        if not isinstance(item, dict):
            continue
        ctx.raw = item
        data: dict[str, Any] = item["data"] if isinstance(item.get("data"), dict) else item
        if normalize_interaction(ctx, data, recovered=True):
            ix: dict[str, Any] = data["interaction"] if isinstance(data.get("interaction"), dict) else data
            fields = interaction_fields(ctx.agent, ix)
            if fields is not None:
                seen.add("interaction/" + fields["interaction_id"])
    for subject in ctx.state.subjects("interaction/"):
        if subject not in seen:
            record = ctx.state.get(subject)
            if record:
                ctx.raw = None
                vanished_interaction(ctx, subject, record)
