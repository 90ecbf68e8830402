"""Voice calls: ``CallStateChangeMessage`` (every notificationType) and call ``ErrorMessage``.

One call message can carry several changes at once; each becomes its own
event, in this order: the state transition (``call.dialing`` … ``call.released``,
Held → Established is ``call.retrieved``), participants, attached data (and a
disposition), recording, monitoring, DTMF, an error carried on the call.

A field absent from a message means "unchanged" (8.5.1 messages omit many),
except ``userData`` on ``AttachedDataChanged``, where absence means "all
deleted" (quirk D4).
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import (
    Context,
    as_dict,
    as_int,
    as_str,
    data_changes,
    digest,
    last_path_segment,
    str_list,
    user_data,
)

__all__ = ["CALL_STATES", "normalize_call", "normalize_call_error", "released_from_record"]

CALL_STATES: dict[str, EventType] = {
    "Dialing": EventType.CALL_DIALING,
    "Ringing": EventType.CALL_RINGING,
    "Established": EventType.CALL_ESTABLISHED,
    "Held": EventType.CALL_HELD,
    "Released": EventType.CALL_RELEASED,
}
_STATE_SPELLING = {s.lower(): s for s in CALL_STATES}
_DISPOSITION_KEYS = ("DispositionCode",)
_ON = {"on": True, "off": False, "true": True, "false": False}


def _participants(call: dict[str, Any]) -> list[dict[str, Any]] | None:
    """``[{number, e164, formatted}]`` from participantsInfo (either spelling) or participants."""
    info = call.get("participantsInfo")
    numbers = call.get("participants")
    if not isinstance(info, list) and not isinstance(numbers, list):
        return None
    plain = [as_str(n) for n in numbers] if isinstance(numbers, list) else []
    result: list[dict[str, Any]] = []
    if isinstance(info, list) and info:
        for i, item in enumerate(info):
            if not isinstance(item, dict):
                continue
            e164 = as_str(item.get("e164Number")) or as_str(item.get("E164digits"))
            e164 = e164 or as_str(item.get("e164number"))
            number = as_str(item.get("digits")) or as_str(item.get("localPhoneNumber"))
            if number is None and i < len(plain):
                number = plain[i]
            formatted = as_str(item.get("formattedPhoneNumber"))
            number = number or e164 or formatted
            result.append({"number": number, "e164": e164 or number, "formatted": formatted or number})
        return result
    return [{"number": n, "e164": n, "formatted": n} for n in plain if n is not None]


def _display_list(value: Any) -> tuple[dict[str, Any], dict[str, str]] | None:
    """Toast/case ``[{key, displayName, value}]`` → (``{key: value}``, ``{key: displayName}``)."""
    if not isinstance(value, list):
        return None
    values: dict[str, Any] = {}
    names: dict[str, str] = {}
    for item in value:
        if isinstance(item, dict):
            key = as_str(item.get("key"))
            if key is None:
                continue
            values[key] = item.get("value")
            name = as_str(item.get("displayName"))
            if name is not None:
                names[key] = name
    return values, names


def _flag(value: Any) -> bool | None:
    if value is True or value is False:
        return value
    if isinstance(value, str):
        return _ON.get(value.strip().lower())
    if isinstance(value, int):
        return bool(value)
    return None


def _call_data(
    ctx: Context, call: dict[str, Any], msg: dict[str, Any], old: dict[str, Any]
) -> dict[str, Any]:
    """The normalized fields of one call message, falling back to the last-known values."""
    state = as_str(call.get("state"))
    state = _STATE_SPELLING.get(state.lower(), state) if state else old.get("state")
    call_type = as_str(call.get("callType")) or old.get("call_type")
    direction = old.get("direction")
    if direction is None:
        if call_type in ("Inbound", "Outbound"):
            direction = call_type.lower()
        elif state == "Ringing":
            direction = "inbound"
        elif state == "Dialing":
            direction = "outbound"
    participants = _participants(call)
    if participants is None:
        participants = old.get("participants") or []
    phone_number = as_str(msg.get("phoneNumber")) or old.get("phone_number")
    first = participants[0]["number"] if participants else None
    ani = as_str(call.get("ani")) or old.get("ani")
    dnis = as_str(call.get("dnis")) or old.get("dnis")
    if direction == "inbound":
        ani = ani or first
        dnis = dnis or phone_number
    elif direction == "outbound":
        ani = ani or phone_number
        dnis = dnis or first
    notification = as_str(msg.get("notificationType"))
    if "userData" in call:
        data = user_data(call["userData"]) or {}
    elif notification == "AttachedDataChanged":
        data = {}
    else:
        data = old.get("user_data") or {}
    toast = _display_list(call.get("toast"))
    case = _display_list(call.get("case"))
    return {
        "agent": ctx.agent,
        "call_id": None,  # filled by the caller
        "call_uuid": as_str(call.get("callUuid")) or old.get("call_uuid"),
        "state": state,
        "previous_state": None,
        "call_type": call_type,
        "direction": direction,
        "ani": ani,
        "dnis": dnis,
        "phone_number": phone_number,
        "device_id": last_path_segment(call.get("deviceUri")) or old.get("device_id"),
        "parent_call_id": last_path_segment(call.get("parentCallUri")) or old.get("parent_call_id"),
        "participants": participants,
        "user_data": data,
        "toast": toast[0] if toast else old.get("toast", {}),
        "toast_display_names": toast[1] if toast else old.get("toast_display_names", {}),
        "case": case[0] if case else old.get("case", {}),
        "case_display_names": case[1] if case else old.get("case_display_names", {}),
        "capabilities": str_list(call.get("capabilities")),
        "duration": as_int(call.get("duration")),
        "muted": _flag(call["mute"]) if "mute" in call else old.get("muted"),
        "recording_state": as_str(call.get("recordingState")) or old.get("recording_state"),
        "supervisor_listening_in": (
            _flag(call["supervisorListeningIn"])
            if "supervisorListeningIn" in call
            else old.get("supervisor_listening_in")
        ),
        "monitored_user_muted": (
            _flag(call["monitoredUserMuted"])
            if "monitoredUserMuted" in call
            else old.get("monitored_user_muted")
        ),
        "monitoring": _flag(call["monitoring"]) if "monitoring" in call else old.get("monitoring"),
        "notification_type": notification,
    }


_EARLY = frozenset({"Dialing", "Ringing"})


def _stale(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A message older than what we know (a replay after a reconnect): it must change nothing.

    GWS call durations only grow; a released call never comes back; a call
    never goes back to Ringing/Dialing once connected.
    """
    old_duration, duration = old.get("duration"), new["duration"]
    if isinstance(old_duration, int) and isinstance(duration, int) and duration < old_duration:
        return True
    old_state, state = old.get("state"), new["state"]
    if old_state == "Released":
        return state != "Released" or new["notification_type"] == "StatusChange"
    return state in _EARLY and old_state in ("Established", "Held")


_MONITORING_KEYS = ("muted", "supervisor_listening_in", "monitored_user_muted", "monitoring")


def normalize_call(ctx: Context, msg: dict[str, Any], *, recovered: bool = False) -> bool:
    """Emit the events for one ``CallStateChangeMessage`` (``msg`` = its ``data``).

    Returns ``False`` (nothing emitted, nothing stored) when the message has no
    call object with an id; the dispatcher then reports it as unrecognized.
    """
    call = msg.get("call")
    if not isinstance(call, dict):
        return False
    call_id = as_str(call.get("id")) or last_path_segment(call.get("uri"))
    if not call_id:
        return False
    subject = "call/" + call_id
    record_old = ctx.state.get(subject) or {}
    old = as_dict(record_old.get("d"))
    known = bool(old)
    base = _call_data(ctx, call, msg, old)
    base["call_id"] = call_id
    prev_state = old.get("state")
    if known and _stale(old, base):
        return True
    base["previous_state"] = prev_state
    if recovered:
        base["recovered"] = True
    record: dict[str, Any] = dict(record_old)
    notification = base["notification_type"]
    unknown_state = False

    state = base["state"]
    if state != prev_state and state is not None:
        event_type = CALL_STATES.get(state)
        if event_type is EventType.CALL_ESTABLISHED and prev_state == "Held":
            event_type = EventType.CALL_RETRIEVED
        if event_type is None:
            unknown_state = True
        else:
            ctx.emit(event_type, subject, dict(base), change=state, record=record)
            if state == "Released":
                ctx.retire(subject)

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

    if known or notification == "AttachedDataChanged":
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
            for key in _DISPOSITION_KEYS:
                if key in changes["added"] or key in changes["changed"]:
                    disposition = base["user_data"][key]
                    ctx.emit(
                        EventType.CALL_DISPOSITION_SET,
                        subject,
                        {**base, "disposition": disposition, "disposition_key": key},
                        change=digest(disposition),
                        record=record,
                    )

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

    error = as_str(msg.get("errorMessage"))
    if error is not None:  # 8.5.1: errors as extra attributes of a call notification
        _emit_call_error(ctx, subject, record, {**base, "error_message": error}, msg)

    stored = dict(base)
    stored["previous_state"] = None
    stored.pop("recovered", None)
    stored.pop("notification_type", None)
    record["d"] = stored
    if record != record_old:
        ctx.state.set(subject, record)
    if unknown_state:
        return False
    return True


def _emit_call_error(
    ctx: Context, subject: str, record: dict[str, Any], data: dict[str, Any], msg: dict[str, Any]
) -> None:
    error = digest([data.get("error_message"), as_str(msg.get("errorCode")), as_str(msg.get("connectionId"))])
    if record.get("err") == error:
        return
    record["err"] = error
    ctx.emit(EventType.CALL_ERROR, subject, data, change=error, record=record)


def normalize_call_error(ctx: Context, msg: dict[str, Any]) -> bool:
    """``ErrorMessage`` with a ``callUri`` → ``call.error`` on that call. ``False`` without one."""
    call_id = last_path_segment(msg.get("callUri"))
    if not call_id:
        return False
    subject = "call/" + call_id
    record_old = ctx.state.get(subject) or {}
    old = as_dict(record_old.get("d"))
    record = dict(record_old)
    data = {
        "agent": ctx.agent,
        "call_id": call_id,
        "call_uuid": as_str(msg.get("callUuid")) or old.get("call_uuid"),
        "state": old.get("state"),
        "device_id": last_path_segment(msg.get("deviceUri")),
        "error_message": as_str(msg.get("errorMessage")),
        "error_code": as_str(msg.get("errorCode")),
    }
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
    ctx.emit(EventType.CALL_RELEASED, subject, data, change="Released", record=new_record)
    ctx.retire(subject)
    stored = {**old, "state": "Released"}
    new_record["d"] = stored
    ctx.state.set(subject, new_record)
