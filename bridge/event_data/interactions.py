"""``interaction.*``, ``chat.message`` and ``workbin.*``: e-mail, chat and the workbins they wait in.

Interaction events carry the whole interaction (:class:`InteractionFields`),
whichever of the GWS forms (nested or flat, four spellings of the type keys)
it came in.
"""

from __future__ import annotations

from typing import Any

from bridge.event_data.base import DataPart, GwsEventData
from bridge.event_data.calls import DataChanges

__all__ = [
    "ChatMessage",
    "InteractionData",
    "InteractionFields",
    "InteractionLifecycle",
    "InteractionUpdated",
    "WorkbinActor",
    "WorkbinData",
    "WorkbinReason",
]

_INTERACTION_SUBJECT = r"^interaction/.+$"


class InteractionFields(GwsEventData):
    """The interaction as it is now; a field the message did not carry keeps its last-known value."""

    subject_pattern = _INTERACTION_SUBJECT

    interaction_id: str
    """The GWS interaction id (``interaction/<interaction_id>`` is the subject)."""
    channel: str | None
    """The media, lower case: ``email``, ``chat``, …"""
    state: str | None
    """The state as GWS spells it: ``Invited``, ``Accepted``, ``Revoked``, ``Completed``,
    ``PropertiesChanged``, …"""
    previous_state: str | None
    """The last lifecycle state before this event; ``null`` on the first sight."""
    interaction_type: str | None
    """``Inbound``, ``Outbound``, ``Email``, …"""
    interaction_subtype: str | None
    """``InboundNew``, ``OutboundReply``, …"""
    subject: str | None
    """The e-mail subject or chat topic."""
    from_address: str | None
    """The sender's address."""
    to_address: str | None
    """The recipient's address."""
    text: str | None
    """The body, when the message carried it (it is not kept between messages)."""
    queue: str | None
    """The interaction queue it is in."""
    parent_id: str | None
    """The interaction this one replies to."""
    thread_id: str | None
    """The thread it belongs to."""
    start_date: int | None
    """When it started, as GWS sends it (milliseconds since the epoch)."""
    received_at: str | None
    """When it was received, as GWS sends it."""
    capabilities: list[str]
    """What the agent can do with it now, sorted; empty once it ended."""
    user_data: dict[str, Any]
    """The attached data (``userData``)."""


class InteractionData(InteractionFields):
    recovered: bool = False
    """Present, and ``true``, when the event was derived by state recovery after a reconnect."""


class InteractionLifecycle(InteractionData):
    state: str
    """The lifecycle state, as GWS spells it (``Invited``; ``Queued`` for ``interaction.queued``;
    ``Completed``, ``Closed``, ``Stopped`` or ``Done`` for ``interaction.completed``)."""


class InteractionUpdated(InteractionData):
    data_changes: DataChanges
    """What changed in ``user_data``."""


class ChatMessage(GwsEventData):
    """One new entry of a chat transcript; each entry is reported once, in entry-id order."""

    subject_pattern = _INTERACTION_SUBJECT

    interaction_id: str
    """The chat's interaction id."""
    channel: str
    """The media (``chat`` unless GWS names another)."""
    entry_id: str
    """The transcript entry's id."""
    entry_type: str
    """The entry's kind, lower case: ``message``, ``notice``, ``participantjoined``, …"""
    text: str | None
    """What was written."""
    nick_name: str | None
    """Who wrote it, as shown."""
    user_id: str | None
    """Who wrote it."""
    user_type: str | None
    """``Agent``, ``Client``, ``External``, …"""
    notice_type: str | None
    """For notices: which."""
    visibility: str | None
    """``All``, ``Int``, …"""
    timestamp: int | None
    """When, as GWS sends it."""


class WorkbinReason(DataPart):
    """Why an interaction was placed in or taken out of a workbin (``reasonInfo``)."""

    code: str | None
    """The reason code (``reason``)."""
    name: str | None
    """``reasonName``."""
    description: str | None
    """``reasonDescription``."""


class WorkbinActor(DataPart):
    """Who did it (``actorInfo``)."""

    type: str | None
    """``Agent``, ``Strategy``, … (``actorType``)."""
    agent_id: str | None
    """``agentId``."""
    media_server_id: str | None
    """``actorMediaServerId``."""
    place_id: str | None
    """``actorPlaceId``."""


class WorkbinData(InteractionFields):
    """An interaction entering, leaving or changing in one of the agent's workbins."""

    subject_pattern = r"^workbin/.+/.+$"

    workbin: str
    """The workbin type id (``workbin/<agent>/<workbin>`` is the subject)."""
    workbin_agent_id: str | None
    """The agent whose workbin it is."""
    workbin_place_id: str | None
    """The place whose workbin it is."""
    workbin_group_id: str | None
    """The agent group whose workbin it is."""
    operation: str | None
    """The GWS ``operation`` (``Add``, ``Delete``, ``Update``)."""
    content_operation: str | None
    """The GWS ``workbinContentOperation`` (``PlacedIn``, ``TakenOut``, ``Changed``)."""
    reason: WorkbinReason
    """Why it happened (``reasonInfo``); every key ``null`` when GWS did not say."""
    actor: WorkbinActor
    """Who did it (``actorInfo``); every key ``null`` when GWS did not say."""
    recovered: bool = False
    """Present, and ``true``, when state recovery derived the event from the workbin's content
    after a reconnect (the interaction fields are then what the content lists)."""
