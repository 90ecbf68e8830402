"""Dispositions: reported once, from GWS's notification or, when GWS sends none, from the command.

GWS confirms a ``SetCallDisposition`` on an active call with ``AttachedDataChanged``
(``userData[dispositionKey] = disposition``); on a call already released it sends only an
``EventUserEvent`` to reporting and no notification (002:5504-5623) — the usual wrap-up case.
So when the receiver's command succeeds it files a *note* for the agent's subscriber
(:func:`disposition_note`, delivered by ``bridge.gws.notes``), and the subscriber's
normalizer, which owns the agent's state, ids and sequences, applies it
(:func:`normalize_disposition_note`):

* the call is released, or unknown to the state: the disposition is reported now, as GWS
  would have notified it (``call.data_changed`` when it changes the call's data, then
  ``call.disposition_set``);
* the call is still up: it waits for GWS's ``AttachedDataChanged`` (``pd`` below); if the call
  is released first, it is reported then; an error GWS reports on the call drops it.

A disposition is one event whichever path sees it first: a call's record keeps, besides its
fields (``d``), ``disp`` (the dispositions reported so far, ``{key: digest of the value}``),
``dk`` (the keys other than ``DispositionCode`` a command attached one under, so that GWS's
notification of such a key is a disposition too: the command's ``key`` is honoured) and ``pd``
(dispositions waiting for GWS, ``{key: value}``). Both paths use the subject's occurrence
counter and the value's digest, so they give the same event id.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.call_fields import call_fields
from bridge.normalize.context import Context, as_dict, data_changes, digest, text

__all__ = [
    "DEFAULT_DISPOSITION_KEY",
    "NOTES_CHANNEL",
    "NOTE_TYPE",
    "disposition_keys",
    "disposition_note",
    "emit_disposition",
    "forget_dispositions",
    "normalize_disposition_note",
    "report_disposition",
    "report_pending_dispositions",
]

#: the userData key GWS attaches a disposition under unless told another (``dispositionKey``)
DEFAULT_DISPOSITION_KEY = "DispositionCode"
#: the pseudo-topic and message type of the bridge's own notes (never a GWS channel)
NOTES_CHANNEL = "/gws-bridge/notes"
NOTE_TYPE = "GwsBridgeNote"
_MISSING = object()


def disposition_note(
    *, call_id: str | None, call_uuid: str | None, disposition: Any, key: str | None = None
) -> dict[str, Any]:
    """The note a successful ``SetCallDisposition`` files: a Bayeux-shaped message that only the
    bridge sends (``NOTES_CHANNEL``), naming the call by id or UUID."""
    return {
        "channel": NOTES_CHANNEL,
        "data": {
            "messageType": NOTE_TYPE,
            "note": "DispositionSet",
            "callId": call_id,
            "callUuid": call_uuid,
            "dispositionKey": key or DEFAULT_DISPOSITION_KEY,
            "disposition": disposition,
        },
    }


def disposition_keys(record: dict[str, Any]) -> list[str]:
    """The userData keys that hold a disposition on this call: the default one, and any a
    command named (``dispositionKey``)."""
    extra = [k for k in record.get("dk") or () if isinstance(k, str) and k != DEFAULT_DISPOSITION_KEY]
    return [DEFAULT_DISPOSITION_KEY, *extra]


def forget_dispositions(record: dict[str, Any], removed: list[str]) -> None:
    """The userData keys in ``removed`` were deleted: a disposition set under one again is new."""
    reported = as_dict(record.get("disp"))
    if any(key in reported for key in removed):
        record["disp"] = {k: v for k, v in reported.items() if k not in removed}


def emit_disposition(
    ctx: Context, subject: str, record: dict[str, Any], base: dict[str, Any], key: str, value: Any
) -> None:
    """``call.disposition_set`` for ``key`` = ``value``, unless that very disposition was reported
    already; it is then no longer waiting for GWS's confirmation."""
    pending = as_dict(record.get("pd"))
    if key in pending:
        rest = {k: v for k, v in pending.items() if k != key}
        if rest:
            record["pd"] = rest
        else:
            record.pop("pd", None)
    mark = digest(value)
    reported = as_dict(record.get("disp"))
    if reported.get(key) == mark:
        return
    record["disp"] = {**reported, key: mark}
    ctx.emit(
        EventType.CALL_DISPOSITION_SET,
        subject,
        {**base, "disposition": value, "disposition_key": key},
        change=mark,
        record=record,
    )


def report_disposition(
    ctx: Context, subject: str, record: dict[str, Any], base: dict[str, Any], key: str, value: Any
) -> dict[str, Any]:
    """A disposition GWS does not notify (the call is released): attached to the call's data as
    GWS attaches it (``call.data_changed`` when that changes it), then ``call.disposition_set``.

    Returns the call fields with the new ``user_data`` (a new dict: ``base`` may be an event's
    data already).
    """
    old_data = base["user_data"]
    if key not in old_data or old_data[key] != value:
        new_data = {**old_data, key: value}
        base = {**base, "user_data": new_data}
        ctx.emit(
            EventType.CALL_DATA_CHANGED,
            subject,
            {**base, "data_changes": data_changes(old_data, new_data)},
            change=digest(new_data),
            record=record,
        )
    emit_disposition(ctx, subject, record, base, key, value)
    return base


def report_pending_dispositions(
    ctx: Context, subject: str, record: dict[str, Any], base: dict[str, Any]
) -> dict[str, Any]:
    """The call was released before GWS confirmed a disposition a command set: GWS will not
    notify it now (002:5504-5623), so it is reported from the command. Returns the new fields."""
    for key, value in as_dict(record.get("pd")).items():
        base = report_disposition(ctx, subject, record, base, key, value)
    record.pop("pd", None)
    return base


def _call_with_uuid(ctx: Context, call_uuid: str | None) -> str | None:
    if call_uuid is None:
        return None
    for subject in ctx.state.subjects("call/"):
        if as_dict(as_dict(ctx.state.get(subject)).get("d")).get("call_uuid") == call_uuid:
            return subject[len("call/") :]
    return None


def normalize_disposition_note(ctx: Context, msg: dict[str, Any]) -> bool:
    """Apply a note filed by :func:`disposition_note` (``msg`` = its ``data``); ``False`` when it
    names no call the state can find, or did not come on :data:`NOTES_CHANNEL` (reported as
    unrecognized)."""
    if ctx.topic != NOTES_CHANNEL or msg.get("note") != "DispositionSet":
        return False
    call_uuid = text(msg.get("callUuid"))
    call_id = text(msg.get("callId")) or _call_with_uuid(ctx, call_uuid)
    if call_id is None:
        return False
    key = text(msg.get("dispositionKey")) or DEFAULT_DISPOSITION_KEY
    value = msg.get("disposition")
    subject = "call/" + call_id
    record_old = ctx.state.get(subject) or {}
    record = dict(record_old)
    if key != DEFAULT_DISPOSITION_KEY and key not in (record.get("dk") or ()):
        record["dk"] = [*(record.get("dk") or ()), key]
    old = as_dict(record_old.get("d"))
    if old:
        base = {**old, "call_id": call_id, "previous_state": old.get("state"), "notification_type": None}
    else:  # a call this state never saw (or forgot long ago): nothing will tell more of it
        base = call_fields(ctx, {"id": call_id, "callUuid": call_uuid}, {}, {})
        base.update(call_id=call_id, previous_state=None)
    if base.get("user_data") is None:
        base["user_data"] = {}
    if old.get("state") not in (None, "Released") and base["user_data"].get(key, _MISSING) != value:
        record["pd"] = {**as_dict(record.get("pd")), key: value}  # GWS's notification will tell
    else:
        base = report_disposition(ctx, subject, record, base, key, value)
        stored = {k: v for k, v in base.items() if k not in ("notification_type", "recovered", "raw")}
        record["d"] = {**stored, "previous_state": None}
    if record != record_old:
        ctx.state.set(subject, record)
    return True
