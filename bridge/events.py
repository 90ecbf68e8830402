"""The one event type inside gws-bridge, and the catalogue of event types.

An :class:`Event` is a CloudEvents 1.0 event in structured form, plus two
extensions: ``sequence`` (the CloudEvents sequence extension: monotonic per
``subject``) and ``partitionkey`` (the agent); and, when tracing is on, a third:
``traceparent`` (the distributed-tracing extension: the W3C trace context of
the subscriber span that enqueued it; absent otherwise). ``id`` is deterministic: the
same underlying GWS change always produces the same id, so a message replayed
after a reconnect, or re-derived by state recovery, is recognised downstream
(it is sent as ``webhook-id``).

``sequence`` is an ``int`` inside the bridge (Redis sorts by it) and, on the
wire, what the sequence extension defines: a String, here the number as
:data:`SEQUENCE_DIGITS` zero-padded decimal digits, so that comparing two
values as strings and as integers gives the same order.

:class:`EventType` is the single source of truth for event type names; each
member carries a one-line meaning. The names have no reverse-DNS prefix
(``call.ringing``, not ``com.example.gws.call.ringing``): see docs/consumers.md.
``bridge.event_data`` holds each type's data model; ``docs/events.md`` and
``docs/schemas/`` are generated from both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal, Protocol

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    field_serializer,
    field_validator,
)

__all__ = [
    "SEQUENCE_DIGITS",
    "STRUCTURED_CONTENT_TYPE",
    "TIME_PATTERN",
    "TRACEPARENT_PATTERN",
    "Event",
    "EventSink",
    "EventType",
    "format_sequence",
]

#: the media type of an event sent whole over HTTP (CloudEvents structured content mode, JSON format)
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"

#: the width of ``sequence`` on the wire: every unsigned 64-bit number fits
SEQUENCE_DIGITS = 20
_SEQUENCE_LIMIT = 10**SEQUENCE_DIGITS


def format_sequence(number: int) -> str:
    """``sequence`` as it travels: ``42`` → ``"00000000000000000042"``."""
    return f"{number:020d}"


def _parse_sequence(value: object) -> object:
    # the wire form (a digit string); an int passes as it is (events enqueued before the wire
    # form was a string are still in queues and dead letters)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


_SequenceNumber = Annotated[
    int,
    Strict(),
    Field(ge=0, lt=_SEQUENCE_LIMIT),
    BeforeValidator(_parse_sequence),
    WithJsonSchema(
        {"type": "string", "pattern": f"^[0-9]{{{SEQUENCE_DIGITS}}}$"},
        mode="serialization",
    ),
]


class EventType(str, Enum):
    """Every event type gws-bridge emits, with its meaning (``EventType.X.meaning``)."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> EventType:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    # call
    CALL_DIALING = "call.dialing", "The agent's device is dialing an outbound or consult call"
    CALL_RINGING = "call.ringing", "A call is ringing on the agent's device (screen-pop moment)"
    CALL_ESTABLISHED = "call.established", "A call was answered and is connected"
    CALL_HELD = "call.held", "A call was put on hold"
    CALL_RETRIEVED = "call.retrieved", "A held call was taken off hold"
    CALL_RELEASED = "call.released", "A call ended on the agent's device"
    CALL_PARTICIPANTS_CHANGED = "call.participants_changed", "Parties joined or left a call"
    CALL_DATA_CHANGED = "call.data_changed", "Attached data (userData) on a call changed"
    CALL_DTMF_SENT = "call.dtmf_sent", "DTMF digits were sent on a call"
    CALL_RECORDING_CHANGED = "call.recording_changed", "Call recording started, paused, resumed or stopped"
    CALL_MUTE_CHANGED = "call.mute_changed", "The agent muted or unmuted their side of a call (MuteCall)"
    CALL_MONITORING_CHANGED = "call.monitoring_changed", "Supervisor monitoring of a call changed"
    CALL_DISPOSITION_SET = "call.disposition_set", "A disposition code was set on a call (SetCallDisposition)"
    CALL_ERROR = "call.error", "GWS reported an asynchronous error for a call operation"
    # agent, device, channel
    AGENT_STATE_CHANGED = "agent.state_changed", "The agent's voice state (and work mode, reason) changed"
    AGENT_DND_CHANGED = "agent.dnd_changed", "Do-not-disturb was switched on or off"
    AGENT_FORWARDING_CHANGED = "agent.forwarding_changed", "Call forwarding was switched on or off"
    AGENT_MONITORING_CHANGED = (
        "agent.monitoring_changed",
        "The agent (a supervisor) started, changed or stopped monitoring another device",
    )
    DEVICE_STATE_CHANGED = "device.state_changed", "A device became active or inactive"
    DEVICE_ERROR = "device.error", "GWS reported an asynchronous error for a device operation"
    CHANNEL_STATE_CHANGED = "channel.state_changed", "The agent's state on a media channel changed"
    # interactions
    INTERACTION_INVITED = "interaction.invited", "An e-mail or chat is offered to the agent"
    INTERACTION_ACCEPTED = "interaction.accepted", "The agent accepted an e-mail or chat"
    INTERACTION_REVOKED = "interaction.revoked", "An offered e-mail or chat was withdrawn"
    INTERACTION_REPLY_CREATED = (
        "interaction.reply_created",
        "An outbound e-mail (a reply, or a new e-mail) was created for the agent to compose",
    )
    INTERACTION_QUEUED = (
        "interaction.queued",
        "The agent placed an e-mail or chat in a queue (PlaceInQueue): it is no longer theirs",
    )
    INTERACTION_UPDATED = "interaction.updated", "Properties or data of an interaction changed"
    INTERACTION_COMPLETED = "interaction.completed", "An interaction was completed"
    CHAT_MESSAGE = "chat.message", "A new entry appeared in a chat transcript"
    # workbins
    WORKBIN_INTERACTION_ADDED = "workbin.interaction_added", "An interaction was placed in a workbin"
    WORKBIN_INTERACTION_REMOVED = "workbin.interaction_removed", "An interaction left a workbin"
    WORKBIN_INTERACTION_UPDATED = "workbin.interaction_updated", "An interaction in a workbin changed"
    # services and users
    SERVICE_STATE_CHANGED = "service.state_changed", "A GWS service (voice, …) went up or down"
    USER_PASSWORD_CHANGED = "user.password_changed", "A password change succeeded or failed"
    # statistics (the Statistics API, polled)
    STATS_UPDATED = (
        "stats.updated",
        "A statistics object's figures changed (a queue's calls waiting, service level, …)",
    )
    STATS_THRESHOLD_CROSSED = (
        "stats.threshold_crossed",
        "A statistic passed a configured threshold (breached), or came back past its hysteresis (cleared)",
    )
    # the bridge itself
    DESTINATION_DISABLED = "destination.disabled", "A delivery destination was disabled after failures"
    DESTINATION_TEST = "destination.test", "A test event an operator sent to one destination"
    DELIVERY_DEAD_LETTERED = "delivery.dead_lettered", "An event could not be delivered and was dead-lettered"
    MOBILE_TOKEN_INVALIDATED = "mobile.token_invalidated", "A push token was rejected and removed"
    # fallback
    GWS_UNRECOGNIZED = "gws.unrecognized", "A GWS message the normalizer does not understand (raw kept)"


_EVENT_TYPES = frozenset(t.value for t in EventType)
_UNTRACED = {"traceparent"}


#: a W3C ``traceparent`` (version 00): version, trace id, parent span id, flags
TRACEPARENT_PATTERN = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


def _optional_traceparent(schema: dict[str, Any]) -> None:
    # Absent, never null, when tracing is off: not required, and a string when present.
    schema["required"] = [name for name in schema.get("required", []) if name != "traceparent"]
    prop = schema["properties"]["traceparent"]
    prop.pop("anyOf", None)
    prop.pop("default", None)
    prop.update(type="string", pattern=TRACEPARENT_PATTERN)


#: RFC 3339 in UTC, as ``Event.to_json`` writes ``time`` (fractional seconds only when non-zero)
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$"


class Event(BaseModel):
    """A normalized event, CloudEvents 1.0 structured mode (JSON)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
        json_schema_serialization_defaults_required=True,
        json_schema_extra=_optional_traceparent,
    )

    specversion: Literal["1.0"] = "1.0"
    """The CloudEvents version."""
    id: str = Field(min_length=1)
    """Deterministic: the same GWS change always has the same id; sent as ``webhook-id``."""
    source: str = Field(min_length=1)
    """``gws-bridge/<agent>`` for what comes from GWS; ``…/delivery`` and ``…/push/<destination>``
    for the bridge's own events."""
    type: str = Field(min_length=1)
    """The event type (docs/events.md)."""
    subject: str = Field(min_length=1)
    """What the event is about: ``call/<callId>``, ``agent/<agent>``, ``interaction/<id>``, …"""
    time: datetime = Field(json_schema_extra={"pattern": TIME_PATTERN})
    """When the bridge made the event (GWS sends no timestamp), RFC 3339 in UTC."""
    datacontenttype: Literal["application/json"] = "application/json"
    """``data`` is JSON."""
    data: dict[str, Any]
    """The type's fields (its schema in docs/schemas/)."""
    sequence: _SequenceNumber
    """CloudEvents sequence extension: 20 digits, growing within (``partitionkey``, ``subject``);
    compare as strings (or as integers: the same order)."""
    partitionkey: str = Field(min_length=1)
    """CloudEvents partitioning extension: the agent (the bridge's own events: the destination)."""
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)
    """CloudEvents distributed-tracing extension, only when tracing is on: the W3C trace context
    of the span that enqueued the event (the webhook request's own ``traceparent`` header names
    the delivery attempt, a child of it)."""

    @field_serializer("sequence", when_used="json")
    def _sequence_on_the_wire(self, number: int) -> str:
        return format_sequence(number)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in _EVENT_TYPES:
            raise ValueError(f"unknown event type {value!r}; see bridge.events.EventType")
        return value

    def to_json(self) -> bytes:
        """The CloudEvent as compact JSON bytes (``time`` in RFC 3339, ``sequence`` a digit string)."""
        if self.traceparent is None:
            return orjson.dumps(self.model_dump(mode="json", exclude=_UNTRACED))
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Parse :meth:`to_json` output; raises ``pydantic.ValidationError`` on bad input.

        ``sequence`` may also be a JSON integer (the wire form before it was a string).
        """
        return cls.model_validate_json(raw)


class EventSink(Protocol):
    """Where a subscriber hands events on (the delivery queue, or stdout for debugging).

    ``publish`` returns only once the events are durably handed on (enqueued);
    a GWS message counts as handled only after that. It raises on failure.
    """

    async def publish(self, events: Sequence[Event]) -> None: ...
