"""Voice devices: ``DeviceStateChangeMessage`` and device ``ErrorMessage``.

Each device's last-known state is kept under ``device/<deviceId>``. Agent-level
changes (voice agent state, DND, forwarding, supervisor monitoring) are
emitted on the subject ``agent/<agent>`` so that they are ordered together;
``device.state_changed`` and ``device.error`` are emitted on ``device/<id>``.

On the first sight of a device only what is worth telling is emitted: the
agent state always, DND only when on, forwarding only when on, the device
state only when not ``Active``, monitoring only when active.
"""

from __future__ import annotations

from typing import Any

from bridge.events import EventType
from bridge.normalize.context import Context, as_dict, as_list, digest, last_path_segment, str_list, text

__all__ = ["agent_state", "normalize_device_error", "normalize_devices"]

_LOGGED_OUT = {"loggedout", "logout", "logged out", "logged_out"}


def agent_state(user_state: Any) -> dict[str, Any] | None:
    """GWS ``userState`` → ``{state, work_mode, reason, agent_state_id, display_name}``.

    Logged-out spellings (``LoggedOut``, ``Logout``, ``Logged Out``) become
    ``LoggedOut``; ``reasonCode`` is accepted for ``reason`` (quirks E1, E4).
    """
    if not isinstance(user_state, dict):
        return None
    state = text(user_state.get("state"))
    if state is not None and state.lower() in _LOGGED_OUT:
        state = "LoggedOut"
    reason = user_state.get("reason")
    if reason is None:
        reason = user_state.get("reasonCode")
    if isinstance(reason, dict):  # Amazon-style reasonCode {id}
        reason = reason.get("id")
    return {
        "state": state,
        "work_mode": text(user_state.get("workMode")),
        "reason": text(reason),
        "agent_state_id": text(user_state.get("id")),
        "display_name": text(user_state.get("displayName")),
    }


def _on_off(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"on": True, "off": False}.get(value.strip().lower())
    return None


def _monitoring(device: dict[str, Any]) -> dict[str, Any] | None:
    value = device.get("supervisorMonitoringState")
    if isinstance(value, str):  # 8.5.1 attribute table: a string plus separate mode/scope keys
        value = {
            "state": value,
            "mode": device.get("supervisorMonitoringMode"),
            "scope": device.get("supervisorMonitoringScope"),
        }
    if not isinstance(value, dict) or not text(value.get("state")):
        return None
    return {
        "state": text(value.get("state")),
        "mode": text(value.get("mode")),
        "scope": text(value.get("scope")),
        "target_device_id": last_path_segment(value.get("targetDeviceUri")),
    }


def normalize_devices(ctx: Context, msg: dict[str, Any]) -> bool:
    """Emit the events for one ``DeviceStateChangeMessage``; ``False`` if it lists no device."""
    devices = [d for d in as_list(msg.get("devices")) if isinstance(d, dict)]
    if not devices and isinstance(msg.get("device"), dict):
        devices = [msg["device"]]
    handled = False
    for device in devices:
        device_id = text(device.get("id"))
        if device_id is None:
            continue
        handled = True
        _normalize_device(ctx, device_id, device)
    return handled


def _normalize_device(ctx: Context, device_id: str, device: dict[str, Any]) -> None:
    subject = "device/" + device_id
    record_old = ctx.state.get(subject) or {}
    known = bool(record_old)
    record = dict(record_old)
    agent_subject = "agent/" + ctx.agent
    agent_old = ctx.state.get(agent_subject) or {}
    agent_record = dict(agent_old)
    capabilities = str_list(device.get("capabilities"))
    base = {
        "agent": ctx.agent,
        "device_id": device_id,
        "phone_number": text(device.get("phoneNumber")) or record_old.get("phone_number"),
        "e164": text(device.get("e164Number")) or text(device.get("e164number")),
        "device_state": text(device.get("deviceState")) or record_old.get("device_state"),
        "capabilities": capabilities,
    }
    record["phone_number"] = base["phone_number"]

    state = agent_state(device.get("userState"))
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
            ctx.emit(
                EventType.AGENT_STATE_CHANGED, agent_subject, data, change=digest(key), record=agent_record
            )
        record["agent_state"] = state

    dnd = _on_off(device.get("doNotDisturb"))
    if dnd is not None:
        if dnd != record_old.get("dnd") and (known or dnd):
            data = {**base, "channel": None, "dnd": dnd, "scope": "device"}
            ctx.emit(
                EventType.AGENT_DND_CHANGED, agent_subject, data, change=f"device:{dnd}", record=agent_record
            )
        record["dnd"] = dnd

    forward_to = text(device.get("forwardTo"))
    if forward_to is not None or "ForwardCallsOn" in capabilities:
        forwarding = forward_to is not None
        if forwarding != bool(record_old.get("forwarding")) or forward_to != record_old.get("forward_to"):
            data = {**base, "forwarding": forwarding, "forward_to": forward_to}
            ctx.emit(
                EventType.AGENT_FORWARDING_CHANGED,
                agent_subject,
                data,
                change=digest([forwarding, forward_to]),
                record=agent_record,
            )
        record["forwarding"] = forwarding
        record["forward_to"] = forward_to

    monitoring = _monitoring(device)
    if monitoring != record_old.get("monitoring") and (known or monitoring is not None):
        previous = record_old.get("monitoring") or {}
        data = {
            **base,
            "monitoring_state": monitoring["state"] if monitoring else None,
            "monitoring_mode": monitoring["mode"] if monitoring else None,
            "monitoring_scope": monitoring["scope"] if monitoring else None,
            "target_device_id": monitoring["target_device_id"] if monitoring else None,
            "previous_monitoring_state": previous.get("state"),
        }
        ctx.emit(
            EventType.AGENT_MONITORING_CHANGED,
            agent_subject,
            data,
            change=digest(monitoring),
            record=agent_record,
        )
    record["monitoring"] = monitoring

    device_state = text(device.get("deviceState"))
    if device_state is not None:
        old_device_state = record_old.get("device_state")
        if device_state != old_device_state and (known or device_state != "Active"):
            data = {**base, "previous_device_state": old_device_state}
            ctx.emit(EventType.DEVICE_STATE_CHANGED, subject, data, change=device_state, record=record)
        record["device_state"] = device_state

    if record != record_old:
        ctx.state.set(subject, record)
    if agent_record != agent_old:
        ctx.state.set(agent_subject, agent_record)


def normalize_device_error(ctx: Context, msg: dict[str, Any]) -> bool:
    """``ErrorMessage`` without a call → ``device.error``; ``False`` without a ``deviceUri``."""
    device_id = last_path_segment(msg.get("deviceUri"))
    if not device_id:
        return False
    subject = "device/" + device_id
    record_old = ctx.state.get(subject) or {}
    record = dict(record_old)
    data = {
        "agent": ctx.agent,
        "device_id": device_id,
        "phone_number": record_old.get("phone_number"),
        "error_message": text(msg.get("errorMessage")),
        "error_code": text(msg.get("errorCode")),
    }
    error = digest([data["error_message"], data["error_code"]])
    if record_old.get("err") != error:
        record["err"] = error
        ctx.emit(EventType.DEVICE_ERROR, subject, data, change=error, record=record)
        ctx.state.set(subject, record)
    return True


def device_ids(msg: dict[str, Any]) -> list[str]:
    """The ids of the devices listed in a device message or a ``/me`` snapshot."""
    return [i for i in (text(as_dict(d).get("id")) for d in as_list(msg.get("devices"))) if i]
