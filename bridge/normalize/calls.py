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
    if info.__class__ is list and info:
        result: list[dict[str, Any]] = []
        for i, item in enumerate(info):
            if item.__class__ is not dict:
                continue
            get = item.get
            e164 = get("e164Number") or get("E164digits") or get("e164number")
            number = get("digits") or get("localPhoneNumber")
            formatted = get("formattedPhoneNumber")
            if not (e164.__class__ is str and number.__class__ is str and formatted.__class__ is str):
                e164 = as_str(get("e164Number")) or as_str(get("E164digits")) or as_str(get("e164number"))
                number = as_str(get("digits")) or as_str(get("localPhoneNumber"))
                if number is None and numbers.__class__ is list and i < len(numbers):
                    number = as_str(numbers[i])
                formatted = as_str(get("formattedPhoneNumber"))
                number = number or e164 or formatted
            result.append({"number": number, "e164": e164 or number, "formatted": formatted or number})
        return result
    if numbers.__class__ is list:
        plain = [as_str(n) for n in numbers]
        return [{"number": n, "e164": n, "formatted": n} for n in plain if n is not None]
    return [] if info.__class__ is list else None


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


def _text(value: Any) -> str | None:
    if value.__class__ is str:
        return value or None
    return None if value is None else as_str(value)


def _flag_of(call: dict[str, Any], key: str, old: dict[str, Any], old_key: str) -> bool | None:
    value = call.get(key, _MISSING)
    if value is _MISSING:
        return old.get(old_key)  # absent: unchanged
    try:
        return _FLAGS[value]
    except (KeyError, TypeError):  # unusual spelling, or unhashable junk
        return _flag(value)


_MISSING = object()
_FLAGS: dict[Any, bool] = {True: True, False: False, "On": True, "Off": False}


def _call_data(
    ctx: Context, call: dict[str, Any], msg: dict[str, Any], old: dict[str, Any]
) -> dict[str, Any]:
    """The normalized fields of one call message, falling back to the last-known values."""
    get = call.get
    old_get = old.get
    state = _text(get("state"))
    state = _STATE_SPELLING.get(state.lower(), state) if state else old_get("state")
    call_type = _text(get("callType")) or old_get("call_type")
    direction = old_get("direction")
    if direction is None:
        if call_type in ("Inbound", "Outbound"):
            direction = call_type.lower()
        elif state == "Ringing":
            direction = "inbound"
        elif state == "Dialing":
            direction = "outbound"
    participants = _participants(call)
    if participants is None:
        participants = old_get("participants") or []
    phone_number = _text(msg.get("phoneNumber")) or old_get("phone_number")
    first = participants[0]["number"] if participants else None
    ani = _text(get("ani")) or old_get("ani")
    dnis = _text(get("dnis")) or old_get("dnis")
    if direction == "inbound":
        ani = ani or first
        dnis = dnis or phone_number
    elif direction == "outbound":
        ani = ani or phone_number
        dnis = dnis or first
    notification = _text(msg.get("notificationType"))
    if "userData" in call:
        data = user_data(call["userData"]) or {}
    elif notification == "AttachedDataChanged":
        data = {}
    else:
        data = old_get("user_data") or {}
    toast = _display_list(get("toast"))
    case = _display_list(get("case"))
    duration = get("duration")
    if duration.__class__ is str and duration.isascii() and duration.isdigit() and len(duration) < 19:
        duration = int(duration)
    else:
        duration = as_int(duration)
    return {
        "agent": ctx.agent,
        "call_id": None,  # filled by the caller
        "call_uuid": _text(get("callUuid")) or old_get("call_uuid"),
        "state": state,
        "previous_state": None,
        "call_type": call_type,
        "direction": direction,
        "ani": ani,
        "dnis": dnis,
        "phone_number": phone_number,
        "device_id": last_path_segment(get("deviceUri")) or old_get("device_id"),
        "parent_call_id": last_path_segment(get("parentCallUri")) or old_get("parent_call_id"),
        "participants": participants,
        "user_data": data,
        "toast": toast[0] if toast else old_get("toast", {}),
        "toast_display_names": toast[1] if toast else old_get("toast_display_names", {}),
        "case": case[0] if case else old_get("case", {}),
        "case_display_names": case[1] if case else old_get("case_display_names", {}),
        "capabilities": str_list(get("capabilities")),
        "duration": duration,
        "muted": _flag_of(call, "mute", old, "muted"),
        "recording_state": _text(get("recordingState")) or old_get("recording_state"),
        "supervisor_listening_in": _flag_of(call, "supervisorListeningIn", old, "supervisor_listening_in"),
        "monitored_user_muted": _flag_of(call, "monitoredUserMuted", old, "monitored_user_muted"),
        "monitoring": _flag_of(call, "monitoring", old, "monitoring"),
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
            ctx.emit(event_type, subject, base, change=state, record=record)  # base is not changed after
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
    for transient in ("recovered", "notification_type", "raw"):
        stored.pop(transient, None)
    record["d"] = stored
    ctx.state.set(subject, record)  # (nearly) every call message changes something, if only duration
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
