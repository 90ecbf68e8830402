"""Voice calls: ``CallStateChangeMessage`` (every notificationType) and call ``ErrorMessage``.

One call message can carry several changes at once; each becomes its own
event, in this order: the state transition (``call.dialing`` … ``call.held``,
Held → Established is ``call.retrieved``), participants, attached data (and a
disposition), recording, the agent's mute, monitoring, DTMF, an error carried on
the call — and ``call.released`` last, so that a call's final event is always its release.

A call first seen past its start (Established, Held or Released: its earlier
notifications never reached us, e.g. GWS published them while the CometD
session was being re-established) also gets ``call.data_changed`` for the
user data it carries: that data was attached while we were away.

A field absent from a message means "unchanged" (8.5.1 messages omit many),
except ``userData`` on ``AttachedDataChanged``, where absence means "all
deleted" (quirk D4).
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.call_fields import call_fields
from bridge.normalize.context import (
    Context,
    as_dict,
    as_str,
    data_changes,
    digest,
    last_path_segment,
    text,
)
from bridge.normalize.dispositions import (
    disposition_keys,
    emit_disposition,
    forget_dispositions,
    report_pending_dispositions,
)

__all__ = ["CALL_STATES", "normalize_call", "normalize_call_error", "released_from_record"]

CALL_STATES: dict[str, EventType] = {
    "Dialing": EventType.CALL_DIALING,
    "Ringing": EventType.CALL_RINGING,
    "Established": EventType.CALL_ESTABLISHED,
    "Held": EventType.CALL_HELD,
    "Released": EventType.CALL_RELEASED,
}
_EARLY = frozenset({"Dialing", "Ringing"})
_LATE = frozenset({"Established", "Held", "Released"})


def _stale(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A message older than what we know (a replay after a reconnect): it must change nothing.

    GWS call durations only grow; a released call never comes back; a call
    never goes back to Ringing/Dialing once connected. What a recovery reads of
    a call known as released tells nothing either: GWS notifies nothing after
    the release, and whether the wrap-up data it takes without a notification
    (a disposition, which the bridge reports from its command) shows in the
    released call is not documented.
    """
    old_duration, duration = old.get("duration"), new["duration"]
    if isinstance(old_duration, int) and isinstance(duration, int) and duration < old_duration:
        return True
    old_state, state = old.get("state"), new["state"]
    if old_state == "Released":
        return state != "Released" or new["notification_type"] in (None, "StatusChange")
    return state in _EARLY and old_state in ("Established", "Held")


# The agent's own mute (``mute``, MuteCall / UnmuteCall) is call.mute_changed, not monitoring.
_MONITORING_KEYS = ("supervisor_listening_in", "monitored_user_muted", "monitoring")


def normalize_call(ctx: Context, msg: dict[str, Any], *, recovered: bool = False) -> bool:
    """Emit the events for one ``CallStateChangeMessage`` (``msg`` = its ``data``).

    Returns ``False`` (nothing emitted, nothing stored) when the message has no
    call object with an id; the dispatcher then reports it as unrecognized.
    """
    call = msg.get("call")
    if not isinstance(call, dict):
        return False
    call_id = text(call.get("id")) or last_path_segment(call.get("uri"))
    if not call_id:
        return False
    subject = "call/" + call_id
    record_old = ctx.state.get(subject) or {}
    old = as_dict(record_old.get("d"))
    known = bool(old)
    base = call_fields(ctx, call, msg, old)
    base["call_id"] = call_id
    prev_state = old.get("state")
    if known and _stale(old, base):
        return True
    base["previous_state"] = prev_state
    if recovered:
        base["recovered"] = True
    record: dict[str, Any] = dict(record_old)
    notification = base["notification_type"]

    state = base["state"]
    released = False
    if state != prev_state and state is not None:
        event_type = CALL_STATES.get(state)
        if event_type is EventType.CALL_ESTABLISHED and prev_state == "Held":
            event_type = EventType.CALL_RETRIEVED
        if event_type is None:  # kept in the state, and reported: nothing is dropped silently
            ctx.unrecognized(ctx.raw, "CallStateChangeMessage", f"unknown call state {state!r}")
        elif event_type is EventType.CALL_RELEASED:
            released = True  # emitted after the other changes of this message
        else:
            ctx.emit(event_type, subject, base, change=state, record=record)  # base is not changed after
    # seen for the first time past its start: the data it carries was attached while we were away
    joined_late = not known and state in _LATE

    if known or notification == "ParticipantsUpdated":
        before = {p["number"] for p in old.get("participants") or []}
        after = {p["number"] for p in base["participants"]}
        if before != after:
            joined = sorted(n for n in after - before if n is not None)
            left = sorted(n for n in before - after if n is not None)
            ctx.emit(
                EventType.CALL_PARTICIPANTS_CHANGED,
                subject,
                {**base, "joined": joined, "left": left},
                change=digest([joined, left]),
                record=record,
            )

    if known or notification == "AttachedDataChanged" or joined_late:
        old_data = old.get("user_data") or {}
        changes = data_changes(old_data, base["user_data"]) if base["user_data"] != old_data else None
        if changes is not None and notification == "CallRecordingStateChange":
            # GSIP_RECORD / GSIP_REC_FN follow the recording state: call.recording_changed says it
            keys = [*changes["added"], *changes["changed"], *changes["removed"]]
            if all(k.startswith("GSIP_REC") for k in keys):
                changes = None
        if changes is not None:
            ctx.emit(
                EventType.CALL_DATA_CHANGED,
                subject,
                {**base, "data_changes": changes},
                change=digest(base["user_data"]),
                record=record,
            )
            forget_dispositions(record, changes["removed"])
            for key in disposition_keys(record):
                if key in changes["added"] or key in changes["changed"]:
                    emit_disposition(ctx, subject, record, base, key, base["user_data"][key])

    if (known or notification == "CallRecordingStateChange") and base["recording_state"] != old.get(
        "recording_state"
    ):
        ctx.emit(
            EventType.CALL_RECORDING_CHANGED,
            subject,
            {**base, "previous_recording_state": old.get("recording_state")},
            change=str(base["recording_state"]),
            record=record,
        )

    old_muted, muted = old.get("muted"), base["muted"]
    if known and old_muted is not None and muted is not None and muted != old_muted and state != "Released":
        # a value learnt for the first time is not a change; a call's mute ends with the call
        ctx.emit(
            EventType.CALL_MUTE_CHANGED,
            subject,
            {**base, "previous_muted": old_muted},
            change=str(muted),
            record=record,
        )

    changed = False
    if known:  # a value learnt for the first time (8.5.1 messages omit these) is not a change
        for key in _MONITORING_KEYS:
            previous = old.get(key)
            if previous is not None and previous != base[key]:
                changed = True
                break
    if changed or (not known and notification == "MonitoredUserMutedStateChange"):
        ctx.emit(
            EventType.CALL_MONITORING_CHANGED,
            subject,
            dict(base),
            change=digest([base[k] for k in _MONITORING_KEYS]),
            record=record,
        )

    if notification == "DtmfSent":
        dtmf = digest([state, base["duration"], as_str(call.get("digits"))])
        if record.get("dtmf") != dtmf:
            record["dtmf"] = dtmf
            ctx.emit(
                EventType.CALL_DTMF_SENT,
                subject,
                {**base, "digits": as_str(call.get("digits")) or as_str(msg.get("digits"))},
                change=dtmf,
                record=record,
            )

    if text(msg.get("errorMessage")) is not None:  # 8.5.1: errors as extra attributes of a call notification
        _emit_call_error(ctx, subject, record, _error_fields(ctx, call_id, msg, base), msg)

    if state == "Released" and record.get("pd"):
        # dispositions GWS had not confirmed: it will not now; reported before the release
        base = report_pending_dispositions(ctx, subject, record, base)
    if released:
        ctx.emit(EventType.CALL_RELEASED, subject, base, change="Released", record=record)
        ctx.retire(subject)

    stored = dict(base)
    stored["previous_state"] = None
    for transient in ("recovered", "notification_type", "raw"):
        stored.pop(transient, None)
    record["d"] = stored
    ctx.state.set(subject, record)  # (nearly) every call message changes something, if only duration
    return True


def _error_fields(ctx: Context, call_id: str, msg: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """``call.error`` data: the error, and the call as far as ``known`` (its last-known fields) tells."""
    return {
        "agent": ctx.agent,
        "call_id": call_id,
        "call_uuid": as_str(msg.get("callUuid")) or known.get("call_uuid"),
        "state": known.get("state"),
        "device_id": last_path_segment(msg.get("deviceUri")) or known.get("device_id"),
        "error_message": as_str(msg.get("errorMessage")),
        "error_code": as_str(msg.get("errorCode")),
    }


def _emit_call_error(
    ctx: Context, subject: str, record: dict[str, Any], data: dict[str, Any], msg: dict[str, Any]
) -> None:
    error = digest([data["error_message"], data["error_code"], as_str(msg.get("connectionId"))])
    if record.get("err") == error:
        return
    record["err"] = error
    # A disposition waiting for GWS's confirmation is most likely what failed: it is not reported.
    record.pop("pd", None)
    ctx.emit(EventType.CALL_ERROR, subject, data, change=error, record=record)


def normalize_call_error(ctx: Context, msg: dict[str, Any]) -> bool:
    """``ErrorMessage`` with a ``callUri`` → ``call.error`` on that call. ``False`` without one."""
    call_id = last_path_segment(msg.get("callUri"))
    if not call_id:
        return False
    subject = "call/" + call_id
    record_old = ctx.state.get(subject) or {}
    record = dict(record_old)
    data = _error_fields(ctx, call_id, msg, as_dict(record_old.get("d")))
    _emit_call_error(ctx, subject, record, data, msg)
    if record != record_old:
        ctx.state.set(subject, record)
    return True


def released_from_record(ctx: Context, subject: str, record: dict[str, Any]) -> None:
    """Recovery: a call we knew as active is gone from GWS → ``call.released`` from what we knew."""
    old = as_dict(record.get("d"))
    if not old.get("state") or old.get("state") == "Released":
        return
    new_record = dict(record)
    data = {**old, "state": "Released", "previous_state": old.get("state"), "recovered": True}
    data["capabilities"] = []
    data["notification_type"] = None
    if new_record.get("pd"):
        data = report_pending_dispositions(ctx, subject, new_record, data)
    ctx.emit(EventType.CALL_RELEASED, subject, data, change="Released", record=new_record)
    ctx.retire(subject)
    stored = {**old, "state": "Released", "user_data": data["user_data"]}
    new_record["d"] = stored
    ctx.state.set(subject, new_record)
