"""Which family a Bayeux message belongs to, and the ``gws.unrecognized`` fallback.

Identification (quirks B1-B11): ``/meta/*`` entries are skipped; the message
type is ``data.messageType`` or ``data.messageTypeName``, or the same keys at
the top level of a bare message; messages without any (channel state,
password changes) are recognised by their shape. Whatever cannot be
normalized becomes ``gws.unrecognized`` carrying the raw message; nothing is
dropped silently and no input raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.normalize.calls import normalize_call, normalize_call_error
from bridge.normalize.channels import channel_items, normalize_channels
from bridge.normalize.context import Context, as_list, as_str
from bridge.normalize.devices import normalize_device_error, normalize_devices
from bridge.normalize.dispositions import normalize_disposition_note
from bridge.normalize.interactions import normalize_interaction
from bridge.normalize.services import normalize_service
from bridge.normalize.users import PASSWORD_NOTIFICATIONS, normalize_user
from bridge.normalize.workbins import normalize_workbin

__all__ = ["normalize_message", "retire_finished"]

logger = logging.getLogger(__name__)

#: how many finished calls/interactions an agent's state remembers (for dedupe) before pruning
KEEP_FINISHED = 500


def _error(ctx: Context, data: dict[str, Any]) -> bool:
    if data.get("callUri") is not None:
        return normalize_call_error(ctx, data)
    return normalize_device_error(ctx, data)


_FAMILIES: dict[str, Callable[[Context, dict[str, Any]], bool]] = {
    "callstatechangemessage": normalize_call,
    "callstatechangedmessage": normalize_call,
    "devicestatechangemessage": normalize_devices,
    "errormessage": _error,
    "callstateerrormessage": _error,
    "devicestateerrormessage": _error,
    "servicestatechangemessage": normalize_service,
    "interactionstatemessage": normalize_interaction,
    "interactionstatemessages": normalize_interaction,
    "workbinnotificationresource": normalize_workbin,
    "workbinnotificationresourcemessage": normalize_workbin,
    "gwsbridgenote": normalize_disposition_note,  # the bridge's own notes, never from GWS
}


def normalize_message(ctx: Context, message: Any) -> None:
    """Normalize one Bayeux message (not an array) into ``ctx.events``."""
    ctx.raw = message
    ctx.topic = None
    if not isinstance(message, dict):
        ctx.unrecognized(message, None, "not a JSON object")
        return
    topic = message.get("channel")
    if isinstance(topic, str) and topic.startswith("/meta/"):
        return
    data = message.get("data")
    if not isinstance(data, dict):
        if "messageType" in message or "messageTypeName" in message:
            data = message  # bare message (quirk B2)
        elif data is None and "successful" in message:
            logger.debug("skipping a Bayeux reply", extra={"agent": ctx.agent, "channel": topic})
            return
        else:
            ctx.unrecognized(message, None, "no data object")
            return
    if not isinstance(topic, str):
        inner = data.get("channel")
        topic = inner if isinstance(inner, str) and inner.startswith("/") else None
    ctx.topic = topic
    kind = data.get("messageType")
    if kind is None:
        kind = data.get("messageTypeName")
    kind_str = kind if kind.__class__ is str else as_str(kind)
    try:
        handled = _dispatch(ctx, data, kind_str)
    except Exception as exc:  # a bug must not lose the message: report it as unrecognized
        logger.exception("normalizer failed", extra={"agent": ctx.agent, "channel": topic})
        ctx.unrecognized(message, kind_str, f"normalizer error: {type(exc).__name__}")
        return
    if not handled:
        reason = f"unknown message type {kind_str!r}" if kind_str else "unknown message shape"
        if kind_str and kind_str.lower() in _FAMILIES:
            reason = f"{kind_str} without the fields the normalizer needs"
        ctx.unrecognized(message, kind_str, reason)


def _dispatch(ctx: Context, data: dict[str, Any], kind: str | None) -> bool:
    if kind is not None:
        handler = _FAMILIES.get(kind.lower())
        if handler is None:
            return False
        if handler is normalize_call and not isinstance(data.get("call"), dict):
            return False  # e.g. a mobile push payload {callId, messageType} (quirk B11)
        return handler(ctx, data)
    if channel_items(data) is not None:
        return normalize_channels(ctx, data)
    if as_str(data.get("notificationType")) in PASSWORD_NOTIFICATIONS:
        return normalize_user(ctx, data)
    if isinstance(data.get("interaction"), dict) and (ctx.topic or "").rstrip("/").endswith("interactions"):
        return normalize_interaction(ctx, data)
    return False


def retire_finished(ctx: Context) -> None:
    """Remember the subjects finished in this run; prune the oldest beyond :data:`KEEP_FINISHED`."""
    if not ctx.retired:
        return
    subject = "meta/finished"
    record = ctx.state.get(subject) or {}
    # A copy (the record may be shared with a snapshot), checked one entry at a time: a released
    # call rebuilt a set and a filtered list of up to KEEP_FINISHED names (~23 µs per call).
    queue = list(as_list(record.get("q")))
    for finished in ctx.retired:
        if finished not in queue:
            queue.append(finished)
    excess = len(queue) - KEEP_FINISHED
    if excess > 0:
        for oldest in queue[:excess]:
            if isinstance(oldest, str):
                ctx.state.delete(oldest)
        del queue[:excess]
    ctx.state.set(subject, {"q": queue})
    ctx.retired.clear()
