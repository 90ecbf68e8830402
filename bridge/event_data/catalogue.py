"""The catalogue of contracts: each event type's data model and schema version."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.event_data.agents import (
    AgentDndChanged,
    AgentForwardingChanged,
    AgentMonitoringChanged,
    AgentStateChanged,
    ChannelStateChanged,
    DeviceError,
    DeviceStateChanged,
)
from bridge.event_data.base import EventData
from bridge.event_data.calls import (
    CallData,
    CallDataChanged,
    CallDialing,
    CallDispositionSet,
    CallDtmfSent,
    CallError,
    CallEstablished,
    CallHeld,
    CallMuteChanged,
    CallRecordingChanged,
    CallReleased,
    CallRetrieved,
    CallRinging,
    ParticipantsChanged,
)
from bridge.event_data.interactions import (
    ChatMessage,
    InteractionLifecycle,
    InteractionUpdated,
    WorkbinData,
)
from bridge.event_data.others import (
    DeliveryDeadLettered,
    DestinationDisabled,
    DestinationTest,
    MobileTokenInvalidated,
    PasswordChanged,
    ServiceStateChanged,
    Unrecognized,
)
from bridge.event_data.statistics import StatsThresholdCrossed, StatsUpdated
from bridge.events import EventType

__all__ = ["CONTRACTS", "Contract", "contract"]


@dataclass(frozen=True)
class Contract:
    """One event type's data model and schema version (bumped on every breaking change)."""

    model: type[EventData]
    version: int = 1


E = EventType
CONTRACTS: dict[EventType, Contract] = {
    E.CALL_DIALING: Contract(CallDialing),
    E.CALL_RINGING: Contract(CallRinging),
    E.CALL_ESTABLISHED: Contract(CallEstablished),
    E.CALL_HELD: Contract(CallHeld),
    E.CALL_RETRIEVED: Contract(CallRetrieved),
    E.CALL_RELEASED: Contract(CallReleased),
    E.CALL_PARTICIPANTS_CHANGED: Contract(ParticipantsChanged),
    E.CALL_DATA_CHANGED: Contract(CallDataChanged),
    E.CALL_DTMF_SENT: Contract(CallDtmfSent),
    E.CALL_RECORDING_CHANGED: Contract(CallRecordingChanged),
    E.CALL_MUTE_CHANGED: Contract(CallMuteChanged),
    E.CALL_MONITORING_CHANGED: Contract(CallData),
    E.CALL_DISPOSITION_SET: Contract(CallDispositionSet),
    E.CALL_ERROR: Contract(CallError),
    E.AGENT_STATE_CHANGED: Contract(AgentStateChanged),
    E.AGENT_DND_CHANGED: Contract(AgentDndChanged),
    E.AGENT_FORWARDING_CHANGED: Contract(AgentForwardingChanged),
    E.AGENT_MONITORING_CHANGED: Contract(AgentMonitoringChanged),
    E.DEVICE_STATE_CHANGED: Contract(DeviceStateChanged),
    E.DEVICE_ERROR: Contract(DeviceError),
    E.CHANNEL_STATE_CHANGED: Contract(ChannelStateChanged),
    E.INTERACTION_INVITED: Contract(InteractionLifecycle),
    E.INTERACTION_ACCEPTED: Contract(InteractionLifecycle),
    E.INTERACTION_REVOKED: Contract(InteractionLifecycle),
    E.INTERACTION_REPLY_CREATED: Contract(InteractionLifecycle),
    E.INTERACTION_QUEUED: Contract(InteractionLifecycle),
    E.INTERACTION_UPDATED: Contract(InteractionUpdated),
    E.INTERACTION_COMPLETED: Contract(InteractionLifecycle),
    E.CHAT_MESSAGE: Contract(ChatMessage),
    E.WORKBIN_INTERACTION_ADDED: Contract(WorkbinData),
    E.WORKBIN_INTERACTION_REMOVED: Contract(WorkbinData),
    E.WORKBIN_INTERACTION_UPDATED: Contract(WorkbinData),
    E.SERVICE_STATE_CHANGED: Contract(ServiceStateChanged),
    E.USER_PASSWORD_CHANGED: Contract(PasswordChanged),
    E.STATS_UPDATED: Contract(StatsUpdated),
    E.STATS_THRESHOLD_CROSSED: Contract(StatsThresholdCrossed),
    E.DESTINATION_DISABLED: Contract(DestinationDisabled),
    E.DESTINATION_TEST: Contract(DestinationTest),
    E.DELIVERY_DEAD_LETTERED: Contract(DeliveryDeadLettered),
    E.MOBILE_TOKEN_INVALIDATED: Contract(MobileTokenInvalidated),
    E.GWS_UNRECOGNIZED: Contract(Unrecognized),
}
_BY_NAME = {event_type.value: c for event_type, c in CONTRACTS.items()}


def contract(event_type: EventType | str) -> Contract:
    """The contract of ``event_type`` (a member or its name); ``KeyError`` for a name not in the catalogue."""
    return _BY_NAME[event_type.value if isinstance(event_type, EventType) else event_type]
