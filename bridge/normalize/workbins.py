"""Workbins: ``workbinNotificationResource`` messages on ``/v2/me/workbins``, and their recovery.

The message type is spelled in lower camel case without the ``Message``
suffix (quirk B5) and may sit at the top level (B2); the interaction's
sub-type key has the typo ``interactionSubtType`` (C2). Subject:
``workbin/<agent>/<workbinTypeId>``; the workbin's state maps each contained
interaction id to a digest of what it looked like, so a replayed message
emits nothing and a changed interaction emits ``workbin.interaction_updated``.

Recovery (:func:`recover_workbin`) compares a workbin's content (``GET
/me/workbins/{id}/interactions``, raw Interaction Server attributes) with that
map: an interaction in it that the state does not know was added, one the state
knows that is gone was removed. The content has another shape than the
notifications, so it tells membership only: an interaction learnt from it has
no digest yet, and its next notification only records one. ``added`` and
``removed`` are identified by the interaction id, so both paths give one id.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import Context, as_dict, as_str, digest
from bridge.normalize.interactions import interaction_fields

__all__ = ["normalize_workbin", "recover_workbin"]

_REMOVED = {"takenout", "removed", "pulled", "pulledout", "delete", "deleted", "remove"}


def normalize_workbin(ctx: Context, msg: dict[str, Any]) -> bool:
    """Emit the event for one workbin notification; ``False`` without a workbin or interaction id."""
    info = as_dict(msg.get("workbinInfo"))
    workbin = as_str(info.get("workbinTypeId")) or as_str(msg.get("workbinId")) or as_str(msg.get("workbin"))
    fields = interaction_fields(ctx.agent, as_dict(msg.get("interaction")))
    if workbin is None or fields is None:
        return False
    operation = as_str(msg.get("workbinContentOperation")) or as_str(msg.get("operation")) or ""
    subject = f"workbin/{ctx.agent}/{workbin}"
    record_old = ctx.state.get(subject) or {}
    record = dict(record_old)
    contents = dict(as_dict(record_old.get("items")))
    interaction_id = fields["interaction_id"]
    reason = as_dict(msg.get("reasonInfo"))
    actor = as_dict(msg.get("actorInfo"))
    data = {
        **fields,
        "workbin": workbin,
        "workbin_agent_id": as_str(info.get("workbinAgentId")) or as_str(info.get("WorkbinAgentId")),
        "workbin_place_id": as_str(info.get("workbinPlaceId")),
        "workbin_group_id": as_str(info.get("workbinGroupId")),
        "operation": as_str(msg.get("operation")),
        "content_operation": as_str(msg.get("workbinContentOperation")),
        "reason": {
            "code": as_str(reason.get("reason")),
            "name": as_str(reason.get("reasonName")),
            "description": as_str(reason.get("reasonDescription")),
        },
        "actor": {
            "type": as_str(actor.get("actorType")),
            "agent_id": as_str(actor.get("agentId")),
            "media_server_id": as_str(actor.get("actorMediaServerId")),
            "place_id": as_str(actor.get("actorPlaceId")),
        },
    }
    fingerprint = digest([fields["state"], fields["user_data"], fields["queue"]])
    op = operation.lower()
    if op in _REMOVED:
        if interaction_id in contents:
            del contents[interaction_id]
            removed = EventType.WORKBIN_INTERACTION_REMOVED
            ctx.emit(removed, subject, data, change=interaction_id, record=record)
    elif interaction_id not in contents:  # PlacedIn, or an update of something we never saw
        contents[interaction_id] = fingerprint
        ctx.emit(EventType.WORKBIN_INTERACTION_ADDED, subject, data, change=interaction_id, record=record)
    elif contents.get(interaction_id) is None:  # known from a recovery only: nothing to compare with
        contents[interaction_id] = fingerprint
    elif contents.get(interaction_id) != fingerprint:
        contents[interaction_id] = fingerprint
        ctx.emit(EventType.WORKBIN_INTERACTION_UPDATED, subject, data, change=fingerprint, record=record)
    record["items"] = contents
    if record != record_old:
        ctx.state.set(subject, record)
    return True


# GetWorkbinContent attributes that are the interaction's own fields, not its data (003:6056-6170)
_CONTENT_FIELDS = {
    "InteractionId": "id",
    "MediaType": "channel",
    "InteractionType": "interactionType",
    "InteractionSubtype": "interactionSubType",
    "Queue": "currentQueue",
    "ParentId": "parentId",
}


def _from_content(item: dict[str, Any]) -> dict[str, Any]:
    """A content item (flat Interaction Server attributes) as an interaction object."""
    interaction: dict[str, Any] = {key: item[raw] for raw, key in _CONTENT_FIELDS.items() if raw in item}
    interaction["userData"] = {k: v for k, v in item.items() if k not in _CONTENT_FIELDS}
    return interaction


def _recovered(fields: dict[str, Any], workbin: str, agent_id: str | None) -> dict[str, Any]:
    """Workbin event data for what recovery found: no operation, reason or actor to tell."""
    return {
        **fields,
        "workbin": workbin,
        "workbin_agent_id": agent_id,
        "workbin_place_id": None,
        "workbin_group_id": None,
        "operation": None,
        "content_operation": None,
        "reason": {"code": None, "name": None, "description": None},
        "actor": {"type": None, "agent_id": None, "media_server_id": None, "place_id": None},
        "recovered": True,
    }


def recover_workbin(ctx: Context, workbin: str, items: list[dict[str, Any]]) -> None:
    """Emit what changed in ``workbin`` (its name, as notifications spell ``workbinTypeId``) while
    the session was away: ``items`` is its whole content as ``GET …/interactions`` lists it."""
    subject = f"workbin/{ctx.agent}/{workbin}"
    record_old = ctx.state.get(subject) or {}
    record = dict(record_old)
    contents = dict(as_dict(record_old.get("items")))
    listed: dict[str, dict[str, Any]] = {}
    for item in items:
        fields = interaction_fields(ctx.agent, _from_content(item))
        if fields is not None and fields["interaction_id"] not in contents:
            contents[fields["interaction_id"]] = None  # no digest: the content has another shape
            data = _recovered(fields, workbin, as_str(item.get("WorkbinAgentId")))
            ctx.emit(EventType.WORKBIN_INTERACTION_ADDED, subject, data, change=fields["interaction_id"],
                     record=record)  # fmt: skip
        if fields is not None:
            listed[fields["interaction_id"]] = fields
    for interaction_id in [i for i in contents if i not in listed]:
        del contents[interaction_id]
        gone = interaction_fields(ctx.agent, {"id": interaction_id})
        assert gone is not None
        data = _recovered(gone, workbin, None)
        ctx.emit(EventType.WORKBIN_INTERACTION_REMOVED, subject, data, change=interaction_id, record=record)
    record["items"] = contents
    if record != record_old:
        ctx.state.set(subject, record)
