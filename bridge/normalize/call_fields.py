"""The normalized fields of a GWS call object, whichever GWS version spelled them.

``participants`` come from ``participantsInfo`` (``e164Number`` in 8.5.2,
``E164digits`` in 8.5.1; quirk D1) or the bare ``participants`` list;
``duration`` is an int although GWS sends a string (D2); toast and case
arrays become ``{key: value}`` plus display names (D12); ``mute`` and the
monitoring flags become booleans (D11). 8.5.2 sends no ANI: for an inbound
call it is the first other party, for an outbound call the agent's number.
"""

from __future__ import annotations

from typing import Any

from bridge.normalize.context import Context, as_int, as_str, last_path_segment, str_list, text, user_data

__all__ = ["STATE_SPELLING", "call_fields"]

_CALL_STATES = ("Dialing", "Ringing", "Established", "Held", "Released")
STATE_SPELLING = {s.lower(): s for s in _CALL_STATES}
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


def call_fields(
    ctx: Context, call: dict[str, Any], msg: dict[str, Any], old: dict[str, Any]
) -> dict[str, Any]:
    """The normalized fields of one call message (``call`` = ``data.call``, ``msg`` = ``data``).

    A field the message does not carry falls back to ``old``, the last-known
    fields of the call; ``call_id`` is left for the caller to fill.
    """
    get = call.get
    old_get = old.get
    state = text(get("state"))
    state = STATE_SPELLING.get(state.lower(), state) if state else old_get("state")
    call_type = text(get("callType")) or old_get("call_type")
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
    phone_number = text(msg.get("phoneNumber")) or old_get("phone_number")
    first = participants[0]["number"] if participants else None
    ani = text(get("ani")) or old_get("ani")
    dnis = text(get("dnis")) or old_get("dnis")
    if direction == "inbound":
        ani = ani or first
        dnis = dnis or phone_number
    elif direction == "outbound":
        ani = ani or phone_number
        dnis = dnis or first
    notification = text(msg.get("notificationType"))
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
        "call_uuid": text(get("callUuid")) or old_get("call_uuid"),
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
        "recording_state": text(get("recordingState")) or old_get("recording_state"),
        "supervisor_listening_in": _flag_of(call, "supervisorListeningIn", old, "supervisor_listening_in"),
        "monitored_user_muted": _flag_of(call, "monitoredUserMuted", old, "monitored_user_muted"),
        "monitoring": _flag_of(call, "monitoring", old, "monitoring"),
        "notification_type": notification,
    }
