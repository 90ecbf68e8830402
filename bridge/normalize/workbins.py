"""Workbins: ``workbinNotificationResource`` messages on ``/v2/me/workbins``.

The message type is spelled in lower camel case without the ``Message``
suffix (quirk B5) and may sit at the top level (B2); the interaction's
sub-type key has the typo ``interactionSubtType`` (C2). Subject:
``workbin/<agent>/<workbinTypeId>``; the workbin's state maps each contained
interaction id to a digest of what it looked like, so a replayed message
emits nothing and a changed interaction emits ``workbin.interaction_updated``.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import Context, as_dict, as_str, digest
from bridge.normalize.interactions import interaction_fields

__all__ = ["normalize_workbin"]

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
            ctx.emit(EventType.WORKBIN_INTERACTION_REMOVED, subject, data, change=fingerprint, record=record)
    elif interaction_id not in contents:  # PlacedIn, or an update of something we never saw
        contents[interaction_id] = fingerprint
        ctx.emit(EventType.WORKBIN_INTERACTION_ADDED, subject, data, change=fingerprint, record=record)
    elif contents.get(interaction_id) != fingerprint:
        contents[interaction_id] = fingerprint
        ctx.emit(EventType.WORKBIN_INTERACTION_UPDATED, subject, data, change=fingerprint, record=record)
    record["items"] = contents
    if record != record_old:
        ctx.state.set(subject, record)
    return True
