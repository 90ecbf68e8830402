"""E-mail and chat: ``InteractionStateMessage`` in the nested and the flat form.

Nested: ``data.interaction{…}``; flat: the interaction's fields straight in
``data`` (quirk C1). Type keys have four spellings (C2), the body is
``content`` or ``email_object`` (C3). Subject: ``interaction/<id>``.

Lifecycle states map to ``interaction.invited`` / ``accepted`` / ``revoked``
/ ``reply_created`` / ``queued`` / ``completed`` (the last three end the agent's
hold on it: the record is closed); ``PropertiesChanged`` and any other state
become ``interaction.updated`` when something actually changed. Chat transcript
entries (``content.events[]``, resent whole and out of order, C6) become
``chat.message`` once each, in entry-id order: the seen entry ids are kept in
the interaction's state.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import (
    Context,
    as_dict,
    as_int,
    as_list,
    as_str,
    data_changes,
    digest,
    str_list,
    user_data,
)

__all__ = ["interaction_fields", "normalize_interaction", "vanished_interaction"]

_LIFECYCLE: dict[str, EventType] = {
    "invited": EventType.INTERACTION_INVITED,
    "accepted": EventType.INTERACTION_ACCEPTED,
    "revoked": EventType.INTERACTION_REVOKED,
    "replycreated": EventType.INTERACTION_REPLY_CREATED,
    "queued": EventType.INTERACTION_QUEUED,  # PlaceInQueue ends the agent's ownership (003:2121)
    "completed": EventType.INTERACTION_COMPLETED,
    "closed": EventType.INTERACTION_COMPLETED,
    "stopped": EventType.INTERACTION_COMPLETED,
    "done": EventType.INTERACTION_COMPLETED,
}
_STICKY = ("channel", "subject", "from_address", "to_address", "interaction_type", "interaction_subtype")
TERMINAL = frozenset({"revoked", "queued", "completed", "closed", "stopped", "done"})


def _first_str(source: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = source.get(key)
        if value is None:
            continue
        if value.__class__ is str:
            if value:
                return value
            continue
        value = as_str(value)
        if value is not None:
            return value
    return None


def interaction_fields(agent: str, ix: dict[str, Any]) -> dict[str, Any] | None:
    """The normalized fields of one interaction object (either form); ``None`` without an id."""
    content = ix.get("content")
    content = content if isinstance(content, dict) else {}
    email = ix.get("email_object")
    email = email if isinstance(email, dict) else {}
    interaction_id = _first_str(ix, "id", "interactionId", "InteractionId") or _first_str(
        content, "interactionId"
    )
    if interaction_id is None:
        return None
    data = user_data(ix.get("userData")) or {}
    media = _first_str(ix, "channel", "MediaType", "mediaType")
    if media is not None and media.startswith("/"):
        media = None  # a CometD topic, not a media name (quirk B7)
    subject_line = _first_str(email, "Subject", "subject") or _first_str(content, "subject", "Subject")
    subject_line = subject_line or _first_str(ix, "subject", "Subject") or _first_str(data, "Subject")
    from_address = _first_str(email, "FromAddress", "fromAddress") or _first_str(content, "fromAddress")
    from_address = from_address or _first_str(data, "FromAddress", "EmailAddress")
    to_address = _first_str(email, "ToAddress", "toAddress") or _first_str(content, "toAddress")
    to_address = to_address or _first_str(data, "To")
    return {
        "agent": agent,
        "interaction_id": interaction_id,
        "channel": media.lower() if media else None,
        "state": _first_str(ix, "state", "State"),
        "previous_state": None,
        "interaction_type": _first_str(ix, "type", "interactionType", "InteractionType"),
        "interaction_subtype": _first_str(
            ix, "subType", "interactionSubType", "interactionSubtType", "InteractionSubtype"
        ),
        "subject": subject_line,
        "from_address": from_address,
        "to_address": to_address,
        "text": _first_str(email, "Text", "text") or _first_str(content, "text"),
        "queue": _first_str(ix, "currentQueue", "queue", "Queue"),
        "parent_id": _first_str(ix, "parentId", "parentInteractionId", "ParentId"),
        "thread_id": _first_str(ix, "threadId", "ThreadId"),
        "start_date": as_int(ix.get("startDate")),
        "received_at": as_str(ix.get("receivedAt")),
        "capabilities": str_list(ix.get("capabilities")),
        "user_data": data,
    }


def _entry_sort_key(entry_id: str) -> tuple[int, int, str]:
    number = as_int(entry_id)
    return (0, number, "") if number is not None else (1, 0, entry_id)


def _chat_entries(ix: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    content = ix.get("content")
    if not isinstance(content, dict):
        return []
    entries = []
    for entry in as_list(content.get("events")):
        if isinstance(entry, dict):
            entry_id = as_str(entry.get("id")) or as_str(entry.get("eventId")) or "h" + digest(entry)
            entries.append((entry_id, entry))
    entries.sort(key=lambda item: _entry_sort_key(item[0]))
    return entries


def normalize_interaction(ctx: Context, msg: dict[str, Any], *, recovered: bool = False) -> bool:
    """Emit the events for one ``InteractionStateMessage`` (``msg`` = its ``data``).

    ``False`` (nothing emitted) when no interaction with an id can be found.
    """
    nested = msg.get("interaction")
    ix = nested if isinstance(nested, dict) else msg
    fields = interaction_fields(ctx.agent, ix)
    if fields is None:
        return False
    subject = "interaction/" + fields["interaction_id"]
    record_old = ctx.state.get(subject) or {}
    old = as_dict(record_old.get("d"))
    record = dict(record_old)
    for key in _STICKY:
        if fields[key] is None:
            fields[key] = old.get(key)
    if old:  # absent means unchanged (PropertiesChanged omits capabilities; quirk C5)
        for key, wire_key in (
            ("capabilities", "capabilities"),
            ("user_data", "userData"),
            ("queue", "currentQueue"),
        ):
            if wire_key not in ix:
                fields[key] = old.get(key)
    state = fields["state"]
    lifecycle = old.get("state")  # the last lifecycle state (never PropertiesChanged)
    fields["previous_state"] = lifecycle
    if recovered:
        fields["recovered"] = True
    event_type = _LIFECYCLE.get(state.lower()) if state else None
    props = digest([fields["user_data"], fields["queue"], fields["capabilities"], fields["subject"]])

    if event_type is not None:
        if state != lifecycle:
            ctx.emit(event_type, subject, dict(fields), change=state or "", record=record)
            if state and state.lower() in TERMINAL:
                ctx.retire(subject)
        lifecycle = state
    elif state is not None or old:
        if props != record_old.get("props"):
            changes = data_changes(old.get("user_data") if old else None, fields["user_data"])
            ctx.emit(
                EventType.INTERACTION_UPDATED,
                subject,
                {**fields, "data_changes": changes},
                change=props,
                record=record,
            )
    record["props"] = props

    entries = _chat_entries(ix)
    if entries:
        seen = set(as_list(record_old.get("seen")))
        new = [(i, e) for i, e in entries if i not in seen]
        for entry_id, entry in new:
            ctx.emit(EventType.CHAT_MESSAGE, subject, _chat_data(fields, entry_id, entry), change=entry_id)
        if new:
            record["seen"] = sorted(seen | {i for i, _ in new}, key=_entry_sort_key)

    stored = {**fields, "state": lifecycle, "previous_state": None}
    stored.pop("recovered", None)
    stored.pop("text", None)
    record["d"] = stored
    if record != record_old:
        ctx.state.set(subject, record)
    return True


def _chat_data(fields: dict[str, Any], entry_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    kind = as_str(entry.get("messageType")) or as_str(entry.get("type")) or "message"
    return {
        "agent": fields["agent"],
        "interaction_id": fields["interaction_id"],
        "channel": fields["channel"] or "chat",
        "entry_id": entry_id,
        "entry_type": kind.lower(),
        "text": as_str(entry.get("text")) or as_str(entry.get("message")),
        "nick_name": as_str(entry.get("nickName")) or as_str(entry.get("nickname")),
        "user_id": as_str(entry.get("userId")),
        "user_type": as_str(entry.get("userType")),
        "notice_type": as_str(entry.get("noticeType")),
        "visibility": as_str(entry.get("visibility")),
        "timestamp": as_int(entry.get("timestamp")) or as_int(entry.get("timeShift")),
    }


def vanished_interaction(ctx: Context, subject: str, record: dict[str, Any]) -> None:
    """Recovery: an interaction we knew is gone from GWS → revoked (if only offered) or completed."""
    old = as_dict(record.get("d"))
    lifecycle = (old.get("state") or "").lower()
    if not old or lifecycle in TERMINAL:
        return
    event_type = EventType.INTERACTION_REVOKED if lifecycle == "invited" else EventType.INTERACTION_COMPLETED
    state = "Revoked" if event_type is EventType.INTERACTION_REVOKED else "Completed"
    new_record = dict(record)
    data = {**old, "state": state, "previous_state": old.get("state"), "capabilities": [], "recovered": True}
    data["text"] = None  # the body is not kept in the state
    ctx.emit(event_type, subject, data, change=state, record=new_record)
    ctx.retire(subject)
    new_record["d"] = {**old, "state": state}
    ctx.state.set(subject, new_record)
