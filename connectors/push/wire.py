"""The wire formats of a push: the APNs body and ``apns-*`` headers, the FCM HTTP v1 message.

Each is built from a :class:`~connectors.push.payload.PushContent` and checked against the
provider's 4 KB limit (and the 256 bytes of compact mode) before it is sent; an oversized one is
a :class:`~bridge.errors.PermanentDeliveryError` naming the event type and the size.
"""

from __future__ import annotations

from typing import Any

import orjson

from bridge.errors import PermanentDeliveryError
from connectors.push.payload import PushContent, PushMode

__all__ = ["APNS_MAX_BYTES", "COMPACT_MAX_BYTES", "FCM_MAX_BYTES", "apns_body", "apns_headers", "fcm_message"]

APNS_MAX_BYTES = 4096
FCM_MAX_BYTES = 4096
COMPACT_MAX_BYTES = 256


def _check_size(blob: bytes, limit: int, what: str, content: PushContent) -> bytes:
    if len(blob) > limit:
        raise PermanentDeliveryError(
            f"{what} for {content.event_type} is {len(blob)} bytes, over the {limit}-byte limit; not sent"
        )
    return blob


def apns_body(content: PushContent) -> bytes:
    """The APNs JSON body; raises ``PermanentDeliveryError`` over 4 KB (or over 256 bytes in compact mode)."""
    aps: dict[str, Any]
    if content.alert is not None:
        aps = {"alert": {"title": content.alert.title, "body": content.alert.body}, "sound": "default"}
        if content.event_type == "call.ringing":
            aps["interruption-level"] = "time-sensitive"
    else:
        aps = {"content-available": 1}
    blob = orjson.dumps({"aps": aps, **content.fields})
    if content.mode is PushMode.COMPACT:
        _check_size(blob, COMPACT_MAX_BYTES, "compact APNs payload", content)
    return _check_size(blob, APNS_MAX_BYTES, "APNs payload", content)


def apns_headers(content: PushContent, *, topic: str, now: float) -> dict[str, str]:
    """The ``apns-*`` headers (without ``authorization``) for ``content``, sent at Unix time ``now``."""
    alert = content.alert is not None
    return {
        "apns-topic": topic,
        "apns-push-type": "alert" if alert else "background",
        # Apple: background pushes must use priority 5; 10 means "deliver now, wake the screen".
        "apns-priority": "10" if alert else "5",
        "apns-expiration": str(int(now) + content.ttl),
        "apns-collapse-id": content.collapse_id,
    }


def fcm_message(content: PushContent, token: str) -> dict[str, Any]:
    """The FCM HTTP v1 request body ``{"message": …}``; raises ``PermanentDeliveryError`` when too large."""
    message: dict[str, Any] = {
        "token": token,
        "data": dict(content.fields),
        "android": {
            "collapse_key": content.collapse_id,
            "ttl": f"{content.ttl}s",
            "priority": "HIGH" if content.urgent else "NORMAL",
        },
    }
    if content.alert is not None:
        message["notification"] = {"title": content.alert.title, "body": content.alert.body}
    # FCM's limit counts the data (keys and values) and the notification, not the envelope.
    sized = orjson.dumps({"data": message["data"], "notification": message.get("notification")})
    if content.mode is PushMode.COMPACT:
        _check_size(orjson.dumps(message["data"]), COMPACT_MAX_BYTES, "compact FCM data", content)
    _check_size(sized, FCM_MAX_BYTES, "FCM payload", content)
    return {"message": message}
