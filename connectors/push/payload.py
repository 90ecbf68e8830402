"""The GWS push format (seed 002, "Mobile Push Notifications"), for APNs and FCM.

GWS pushes a minimal, flat payload (quirk B11) and expects the app to wake up
and GET the resource::

    {"callId": "0071023529204008", "messageType": "CallStateChangeMessage",
     "notificationType": "StatusChange"}
    {"deviceId": "7ac00e37-…", "messageType": "DeviceStateChangeMessage"}

The seed defines calls and devices; the bridge extends the same shape to the
other families it pushes (``interactionId`` + ``InteractionStateMessage``,
``workbinNotificationResource``, ``ServiceStateChangeMessage``,
``ChannelStateChangeMessage``).

Two modes:

- ``compact``: exactly those fields, a silent (background) push, and the whole
  APNs body within GWS's 256-byte budget;
- ``default``: the same fields plus ``eventType``/``eventId``, and for the
  events a person must see (a ringing call, an offered e-mail or chat, a GWS
  service going down) a human alert: who is calling, what the subject is.

What to push is decided here (:func:`push_content`); how it goes on the wire to APNs or FCM,
checked against their 4 KB limit (an oversized one is a
:class:`~bridge.errors.PermanentDeliveryError`), is :mod:`connectors.push.wire`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bridge.events import Event

__all__ = [
    "Alert",
    "PushContent",
    "PushMode",
    "gws_fields",
    "push_content",
]

MAX_COLLAPSE_ID = 64  # apns-collapse-id limit (bytes)
_TITLE_MAX = 64
_BODY_MAX = 178


class PushMode(str, Enum):
    """How much a push carries (see the module docstring)."""

    DEFAULT = "default"
    COMPACT = "compact"


@dataclass(frozen=True)
class Alert:
    """What the phone shows: ``title`` and ``body``, already shortened."""

    title: str
    body: str


@dataclass(frozen=True)
class PushContent:
    """One event, ready to be shaped for APNs or FCM.

    ``fields`` is the flat payload (string values only); ``alert`` is set in
    default mode for attention events; ``urgent`` asks for immediate delivery
    (APNs priority 10 with an alert, FCM ``HIGH``); ``ttl`` is how many seconds
    the push stays worth delivering; ``collapse_id`` makes a newer push for the
    same call or interaction replace an older one.
    """

    event_type: str
    fields: dict[str, str]
    collapse_id: str
    ttl: int
    urgent: bool
    mode: PushMode
    alert: Alert | None = None


_CALL_NOTIFICATION = {
    "call.participants_changed": "ParticipantsUpdated",
    "call.data_changed": "AttachedDataChanged",
    "call.disposition_set": "AttachedDataChanged",
    "call.dtmf_sent": "DtmfSent",
    "call.monitoring_changed": "MonitoredUserMutedStateChange",
    "call.recording_changed": "CallRecordingStateChange",
}
_INTERACTION_NOTIFICATION = {
    "interaction.invited": "Invited",
    "interaction.accepted": "Accepted",
    "interaction.revoked": "Revoked",
    "interaction.reply_created": "ReplyCreated",
    "interaction.queued": "Queued",
    "interaction.updated": "PropertiesChanged",
    "interaction.completed": "Completed",
    "chat.message": "NewMessage",
}
_WORKBIN_NOTIFICATION = {
    "workbin.interaction_added": "PlacedIn",
    "workbin.interaction_removed": "TakenOut",
    "workbin.interaction_updated": "Updated",
}
_NOT_PUSHED = frozenset({"call.error", "device.error"})


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value)
    return text or None


def gws_fields(event: Event) -> dict[str, str] | None:
    """The flat GWS push fields for ``event``; ``None`` when such events are not pushed."""
    kind, data = event.type, event.data
    if kind in _NOT_PUSHED:
        return None
    if kind.startswith("call."):
        call_id = _text(data.get("call_id"))
        if call_id is None:
            return None
        notification = _text(data.get("notification_type")) or _CALL_NOTIFICATION.get(kind, "StatusChange")
        return {"callId": call_id, "messageType": "CallStateChangeMessage", "notificationType": notification}
    if kind.startswith(("agent.", "device.")):
        device_id = _text(data.get("device_id"))
        if device_id is None:
            return None
        return {"deviceId": device_id, "messageType": "DeviceStateChangeMessage"}
    if kind.startswith(("interaction.", "chat.")):
        interaction_id = _text(data.get("interaction_id"))
        if interaction_id is None:
            return None
        return {
            "interactionId": interaction_id,
            "messageType": "InteractionStateMessage",
            "notificationType": _INTERACTION_NOTIFICATION.get(kind, "PropertiesChanged"),
        }
    if kind.startswith("workbin."):
        interaction_id, workbin = _text(data.get("interaction_id")), _text(data.get("workbin"))
        if interaction_id is None or workbin is None:
            return None
        return {
            "interactionId": interaction_id,
            "workbinId": workbin,
            "messageType": "workbinNotificationResource",
            "notificationType": _WORKBIN_NOTIFICATION.get(kind, "Updated"),
        }
    if kind.startswith("service."):
        service = (
            _text(data.get("service_type"))
            or _text(data.get("service_id"))
            or _text(data.get("service_name"))
        )
        if service is None:
            return None
        fields = {"serviceType": service, "messageType": "ServiceStateChangeMessage"}
        state = _text(data.get("state"))
        if state is not None:
            fields["state"] = state
        return fields
    if kind.startswith("channel."):
        channel = _text(data.get("channel"))
        if channel is None:
            return None
        return {"channel": channel, "messageType": "ChannelStateChangeMessage"}
    return None


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _caller(data: dict[str, Any]) -> str:
    for key in ("ani", "phone_number"):
        if value := _text(data.get(key)):
            return value
    participants = data.get("participants")
    if isinstance(participants, list) and participants and isinstance(participants[0], dict):
        first = participants[0]
        if value := _text(first.get("formatted")) or _text(first.get("number")):
            return value
    return "an unknown number"


def _call_subject(data: dict[str, Any]) -> str | None:
    # The toast (the screen-pop fields configured in GWS) and userData are where a call's "subject"
    # lives; without an explicit one, the toast's first field is what the agent desktop shows first.
    toast = data.get("toast")
    for source in (toast, data.get("user_data")):
        if isinstance(source, dict):
            for key in ("Subject", "subject", "Reason", "reason"):
                if value := _text(source.get(key)):
                    return value
    if isinstance(toast, dict):
        return next((v for v in map(_text, toast.values()) if v), None)
    return None


def _alert(event: Event) -> Alert | None:
    kind, data = event.type, event.data
    if kind == "call.ringing":
        body = f"From {_caller(data)}"
        if subject := _call_subject(data):
            body += f" · {subject}"
        return Alert("Incoming call", _shorten(body, _BODY_MAX))
    if kind == "interaction.invited":
        channel = (_text(data.get("channel")) or "").lower()
        title = {"email": "New e-mail", "chat": "New chat"}.get(channel, "New interaction")
        sender = _text(data.get("from_address"))
        subject = _text(data.get("subject")) or _text(data.get("text"))
        parts = [p for p in (sender, subject) if p]
        return Alert(title, _shorten(": ".join(parts) if parts else "Waiting for you", _BODY_MAX))
    if kind == "service.state_changed" and data.get("available") is False:
        service = _text(data.get("service_type")) or _text(data.get("service_name")) or "A GWS service"
        state = _text(data.get("state")) or "unavailable"
        return Alert(
            _shorten(f"{service} service down", _TITLE_MAX), _shorten(f"{service} is {state}", _BODY_MAX)
        )
    return None


def _collapse_id(value: str) -> str:
    if len(value.encode()) <= MAX_COLLAPSE_ID:
        return value
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def push_content(event: Event, *, mode: PushMode, ttl: int, call_alert_ttl: int) -> PushContent | None:
    """What to push for ``event``, or ``None`` when this event is not pushed.

    ``ttl`` is the lifetime of ordinary pushes, ``call_alert_ttl`` the (short)
    one of a ringing-call push: a call alert delivered a minute late is noise.
    """
    fields = gws_fields(event)
    if fields is None:
        return None
    resource = next(iter(fields.values()))
    alert = _alert(event)
    urgent = alert is not None
    if mode is PushMode.DEFAULT:
        fields = {**fields, "eventType": event.type, "eventId": event.id}
    else:
        alert = None
    lifetime = call_alert_ttl if event.type == "call.ringing" else ttl
    return PushContent(
        event_type=event.type,
        fields=fields,
        collapse_id=_collapse_id(resource),
        ttl=lifetime,
        urgent=urgent,
        mode=mode,
        alert=alert,
    )
