"""Multimedia channels: the messages on ``/v2/me/channels`` (they have no messageType).

``data.channels[]`` items carry ``channel`` (the media: ``email``, ``chat``,
…), ``userState`` and/or ``dndState``. The ``/me`` DND message has no media
name at all (quirk E5); it is kept under the media ``all``.

``channel.state_changed`` is emitted on ``channel/<agent>/<media>``, channel
DND as ``agent.dnd_changed`` (scope ``channel``) on ``agent/<agent>``.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import Context, as_list, as_str, digest
from bridge.normalize.devices import agent_state

__all__ = ["channel_items", "normalize_channels"]


def channel_items(msg: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The ``channels`` list of a channel message (also one level deeper: ``data.data.channels``)."""
    items = msg.get("channels")
    if not isinstance(items, list):
        inner = msg.get("data")
        items = inner.get("channels") if isinstance(inner, dict) else None
    if not isinstance(items, list):
        return None
    return [i for i in items if isinstance(i, dict)]


def normalize_channels(ctx: Context, msg: dict[str, Any]) -> bool:
    """Emit the events for one channel-state message; ``False`` if it has no channel list."""
    items = channel_items(msg)
    if items is None:
        return False
    for item in items:
        _normalize_channel(ctx, item)
    return True


def _normalize_channel(ctx: Context, item: dict[str, Any]) -> None:
    media_value = item.get("channel")
    if isinstance(media_value, dict):  # GET /me/channels/{id} → {"channel": {"channel": "email", …}}
        item = media_value
        media_value = item.get("channel")
    media = as_str(media_value) or "all"
    subject = f"channel/{ctx.agent}/{media}"
    record_old = ctx.state.get(subject) or {}
    known = bool(record_old)
    record = dict(record_old)
    base = {"agent": ctx.agent, "channel": media}

    state = agent_state(item.get("userState"))
    if state is not None:
        old_state = record_old.get("agent_state") or {}
        key = [state["state"], state["work_mode"], state["reason"]]
        if key != [old_state.get("state"), old_state.get("work_mode"), old_state.get("reason")]:
            data = {
                **base,
                **state,
                "previous_state": old_state.get("state"),
                "previous_work_mode": old_state.get("work_mode"),
                "previous_reason": old_state.get("reason"),
            }
            ctx.emit(EventType.CHANNEL_STATE_CHANGED, subject, data, change=digest(key), record=record)
        record["agent_state"] = state

    dnd_value = as_str(item.get("dndState"))
    dnd = {"on": True, "off": False}.get(dnd_value.lower()) if dnd_value else None
    if dnd is not None:
        if dnd != record_old.get("dnd") and (known or dnd):
            agent_subject = "agent/" + ctx.agent
            agent_old = ctx.state.get(agent_subject) or {}
            agent_record = dict(agent_old)
            data = {
                **base,
                "device_id": None,
                "phone_number": None,
                "e164": None,
                "device_state": None,
                "capabilities": [],
                "dnd": dnd,
                "scope": "channel",
            }
            ctx.emit(
                EventType.AGENT_DND_CHANGED,
                agent_subject,
                data,
                change=f"channel:{media}:{dnd}",
                record=agent_record,
            )
            ctx.state.set(agent_subject, agent_record)
        record["dnd"] = dnd

    if record != record_old:
        ctx.state.set(subject, record)


def channel_list(value: Any) -> list[dict[str, Any]]:
    """Channel items from a ``/me`` snapshot body (``channels`` list)."""
    return [i for i in as_list(value) if isinstance(i, dict)]
