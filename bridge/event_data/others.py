"""GWS services and users, the ``gws.unrecognized`` fallback, and the bridge's own events."""

from __future__ import annotations

from typing import Any, Literal

from bridge.event_data.base import EventData, GwsEventData

__all__ = [
    "DeliveryDeadLettered",
    "DestinationDisabled",
    "DestinationTest",
    "MobileTokenInvalidated",
    "PasswordChanged",
    "ServiceStateChanged",
    "Unrecognized",
]


class ServiceStateChanged(GwsEventData):
    """A GWS service (``/notifications/services``) changed state; its first sight is reported too."""

    subject_pattern = r"^service/.+$"

    service_id: str | None
    """The service's id (the subject uses the type or name when there is none)."""
    service_name: str | None
    """``SIPS``, …"""
    service_type: str | None
    """``Voice``, ``Email``, ``Chat``, …"""
    state: str
    """``Active``, ``ReadOnly``, ``Inactive``, … as GWS spells it."""
    previous_state: str | None
    """The state before; ``null`` on the first sight."""
    available: bool
    """``state`` is ``Active`` or ``ReadOnly``."""


class PasswordChanged(GwsEventData):
    """The outcome of a password change."""

    subject_pattern = r"^user/.+$"

    user_id: str | None
    """The user, when GWS names one (``/v2/users``); the subject falls back to the agent."""
    user_uri: str | None
    """The user's resource URI, when GWS gives it."""
    successful: bool
    """``PasswordChangeSuccessful`` (else ``PasswordChangeError``)."""
    error_code: str | None
    """GWS's error code: ``1``, ``2`` or ``3``."""
    error_reason: Literal["guidelines", "wrong_old_password", "internal"] | None
    """``error_code`` in words."""
    error_message: str | None
    """GWS's error text."""


class Unrecognized(GwsEventData):
    """A GWS message the normalizer could not turn into an event: nothing is dropped silently."""

    subject_pattern = r"^unrecognized/.+$"

    topic: str | None
    """The CometD channel it came on."""
    message_type: str | None
    """Its ``messageType``, if any."""
    reason: str
    """Why it was not understood."""
    raw: Any
    """The message itself (always present here)."""


class DestinationTest(EventData):
    """Sent by an operator (console or ``gws-bridge destinations test``) to check one destination."""

    subject_pattern = r"^destination/.+$"

    destination: str
    """The destination's name."""
    kind: str
    """Its kind: ``webhook``, ``slack``, ``apns``, ``fcm``, ``console``."""
    requested_by: str
    """Who sent it (the console key's name, or ``cli``)."""


class DestinationDisabled(EventData):
    """Emitted by the delivery layer, not from GWS: a destination was disabled after failures."""

    subject_pattern = r"^destination/.+$"

    destination: str
    """The destination's name."""
    kind: str
    """Its kind: ``webhook``, ``slack``, ``apns``, ``fcm``, ``console``."""
    reason: str
    """Why (``HTTP 410 Gone``, ``N failures in a row``)."""


class DeliveryDeadLettered(EventData):
    """Emitted by the delivery layer, not from GWS: an event ran out of attempts."""

    subject_pattern = r"^destination/.+$"

    destination: str
    """The destination it could not reach."""
    dead_letter_id: str
    """The dead letter's id (``gws-bridge dlq show ID``)."""
    event_id: str
    """The undelivered event's id."""
    subject: str
    """The undelivered event's subject."""
    reason: str
    """The last failure."""
    attempts: int
    """How many attempts were made."""


class MobileTokenInvalidated(EventData):
    """Emitted by the push connectors, not from GWS: APNs or FCM rejected a token for good."""

    subject_pattern = r"^mobile/.+$"

    agent: str
    """The agent whose device it was."""
    platform: Literal["ios", "android"]
    """The device's platform."""
    token: str
    """The rejected push token (already removed from the registry)."""
    token_fingerprint: str
    """A short digest of the token, as the logs show it."""
    sandbox: bool
    """The token was registered for Apple's development service."""
    reason: str
    """The push service's reason code (``Unregistered``, ``UNREGISTERED``, …)."""
    destination: str
    """The push destination that sent it."""
    event_id: str
    """The event whose push was rejected."""
    event_type: str
    """That event's type."""
