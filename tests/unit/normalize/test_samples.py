"""Every CometD sample, fed to a fresh state: the expected event types and key fields."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.events import Event, EventType
from bridge.normalize import MemoryState, normalize

from .conftest import AGENT, FIXTURES, fixture_bytes

E = EventType

# sample -> (expected event types in order, {event type: {data field: expected value}})
SAMPLES: dict[str, tuple[list[EventType], dict[EventType, dict[str, Any]]]] = {
    "cometd_call_AttachedDataChanged_Established_AttachUserData.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED],
        {E.CALL_DATA_CHANGED: {"data_changes": {"added": {"Colors": "Blue"}, "changed": {}, "removed": []}}},
    ),
    "cometd_call_AttachedDataChanged_Established_DeleteUserDataPair.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED],
        {E.CALL_DATA_CHANGED: {"call_id": "0071023821aec01e", "duration": 181}},
    ),
    "cometd_call_AttachedDataChanged_Established_SetCallDisposition.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED, E.CALL_DISPOSITION_SET],
        {E.CALL_DISPOSITION_SET: {"disposition": "IssueResolved", "disposition_key": "DispositionCode"}},
    ),
    "cometd_call_AttachedDataChanged_Established_UpdateUserData_sample2.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED],
        {E.CALL_ESTABLISHED: {"dnis": "5005", "call_type": "Internal"}},
    ),
    "cometd_call_CallRecordingStateChange_Paused_Pause.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED, E.CALL_RECORDING_CHANGED],
        {E.CALL_RECORDING_CHANGED: {"recording_state": "Paused", "ani": "5000"}},
    ),
    "cometd_call_CallRecordingStateChange_Recording_Resume.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED, E.CALL_RECORDING_CHANGED],
        {E.CALL_RECORDING_CHANGED: {"recording_state": "Recording", "duration": 588}},
    ),
    "cometd_call_CallRecordingStateChange_Recording_Start.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED, E.CALL_RECORDING_CHANGED],
        {
            E.CALL_RECORDING_CHANGED: {
                "recording_state": "Recording",
                "participants": [{"number": "5000", "e164": "5000", "formatted": "5000"}],
            }
        },
    ),
    "cometd_call_CallRecordingStateChange_Stopped_Stop.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED, E.CALL_RECORDING_CHANGED],
        {E.CALL_RECORDING_CHANGED: {"recording_state": "Stopped"}},
    ),
    "cometd_call_DtmfSent_Established_SendDtmf.json": (
        [E.CALL_ESTABLISHED, E.CALL_DTMF_SENT],
        {E.CALL_DTMF_SENT: {"call_id": "0071023821aec014", "digits": None}},
    ),
    "cometd_call_MonitoredUserMutedStateChange_Mute.json": (
        [E.CALL_ESTABLISHED, E.CALL_MONITORING_CHANGED],
        {E.CALL_MONITORING_CHANGED: {"monitored_user_muted": True, "supervisor_listening_in": False}},
    ),
    "cometd_call_MonitoredUserMutedStateChange_Unmute.json": (
        [E.CALL_ESTABLISHED, E.CALL_MONITORING_CHANGED],
        {E.CALL_MONITORING_CHANGED: {"monitored_user_muted": False}},
    ),
    "cometd_call_ParticipantsUpdated_Established_CompleteConference.json": (
        [E.CALL_ESTABLISHED, E.CALL_PARTICIPANTS_CHANGED],
        {E.CALL_PARTICIPANTS_CHANGED: {"joined": ["5000", "5001"], "left": []}},
    ),
    "cometd_call_ParticipantsUpdated_Established_SingleStepConference_sample1.json": (
        [E.CALL_ESTABLISHED, E.CALL_PARTICIPANTS_CHANGED, E.CALL_DATA_CHANGED],
        {E.CALL_PARTICIPANTS_CHANGED: {"duration": 1568}},
    ),
    "cometd_call_ParticipantsUpdated_Established_SingleStepConference_sample2.json": (
        [E.CALL_ESTABLISHED, E.CALL_PARTICIPANTS_CHANGED, E.CALL_DATA_CHANGED],
        {E.CALL_PARTICIPANTS_CHANGED: {"call_id": "0071023821aec017"}},
    ),
    "cometd_call_StatusChange_Dialing_003.json": (
        [E.CALL_DIALING],
        {
            E.CALL_DIALING: {
                "ani": "1",
                "dnis": "2",
                "direction": "outbound",
                "call_type": None,
                "participants": [{"number": "2", "e164": "2", "formatted": "2"}],
            }
        },
    ),
    "cometd_call_StatusChange_Dialing_Dial_sample2_userData.json": (
        [E.CALL_DIALING],
        {E.CALL_DIALING: {"user_data": {"CustomerSegment": "Gold"}, "ani": "5005", "dnis": "5001"}},
    ),
    "cometd_call_StatusChange_Dialing_InitiateConference_consult.json": (
        [E.CALL_DIALING],
        {E.CALL_DIALING: {"call_type": "Consult", "parent_call_id": "007102385535e001"}},
    ),
    "cometd_call_StatusChange_Dialing_transferScenarioA_4.json": (
        [E.CALL_DIALING],
        {E.CALL_DIALING: {"parent_call_id": "007102385535e005"}},
    ),
    "cometd_call_StatusChange_Dialing_transferScenarioB_4.json": (
        [E.CALL_DIALING],
        {E.CALL_DIALING: {"parent_call_id": "007102385535e005"}},
    ),
    "cometd_call_StatusChange_Established_Answer.json": (
        [E.CALL_ESTABLISHED],
        {E.CALL_ESTABLISHED: {"duration": 14, "previous_state": None, "muted": False}},
    ),
    "cometd_call_StatusChange_Established_SwapCalls_retrieved.json": ([E.CALL_ESTABLISHED], {}),
    "cometd_call_StatusChange_Established_SwitchToBargeIn.json": ([E.CALL_ESTABLISHED], {}),
    "cometd_call_StatusChange_Established_capabilities.json": (
        [E.CALL_ESTABLISHED],
        {E.CALL_ESTABLISHED: {"call_uuid": "011DJV5JI898NB2L04000VTAES00000B"}},
    ),
    "cometd_call_StatusChange_Established_case.json": (
        [E.CALL_ESTABLISHED, E.CALL_DATA_CHANGED],
        {
            E.CALL_ESTABLISHED: {
                "case": {"CustomerName": "Chris", "POC": "New Service"},
                "case_display_names": {"CustomerName": "Customer", "POC": "Purpose of Call"},
            }
        },
    ),
    "cometd_call_StatusChange_Established_transferScenarioA_2.json": ([E.CALL_ESTABLISHED], {}),
    "cometd_call_StatusChange_Established_transferScenarioB_2.json": ([E.CALL_ESTABLISHED], {}),
    "cometd_call_StatusChange_Held_Hold.json": ([E.CALL_HELD], {E.CALL_HELD: {"duration": 48}}),
    "cometd_call_StatusChange_Held_InitiateTransfer.json": ([E.CALL_HELD], {}),
    "cometd_call_StatusChange_Held_SwapCalls_held.json": ([E.CALL_HELD], {}),
    "cometd_call_StatusChange_Held_transferScenarioA_3.json": ([E.CALL_HELD], {}),
    "cometd_call_StatusChange_Held_transferScenarioB_3.json": ([E.CALL_HELD], {}),
    "cometd_call_StatusChange_Released_CompleteConference_consult.json": ([E.CALL_RELEASED], {}),
    "cometd_call_StatusChange_Released_CompleteTransfer_original.json": ([E.CALL_RELEASED], {}),
    "cometd_call_StatusChange_Released_Hangup.json": (
        [E.CALL_RELEASED],
        {E.CALL_RELEASED: {"duration": 599, "capabilities": []}},
    ),
    "cometd_call_StatusChange_Released_SingleStepTransfer_sample1.json": (
        [E.CALL_RELEASED],
        {E.CALL_RELEASED: {"duration": 2745}},
    ),
    "cometd_call_StatusChange_Released_SingleStepTransfer_sample2.json": (
        [E.CALL_DATA_CHANGED, E.CALL_RELEASED],
        {E.CALL_RELEASED: {"user_data": {"TransferReason": "Escalation", "TransferAgent": "JSmith"}}},
    ),
    "cometd_call_StatusChange_Released_transferScenarioA_5.json": ([E.CALL_RELEASED], {}),
    "cometd_call_StatusChange_Released_transferScenarioA_6.json": (
        [E.CALL_RELEASED],
        {E.CALL_RELEASED: {"parent_call_id": "007102385535e005", "call_type": "Consult"}},
    ),
    "cometd_call_StatusChange_Released_transferScenarioB_5.json": ([E.CALL_RELEASED], {}),
    "cometd_call_StatusChange_Released_transferScenarioB_6.json": ([E.CALL_RELEASED], {}),
    "cometd_call_StatusChange_Ringing_capabilities.json": (
        [E.CALL_RINGING],
        {
            E.CALL_RINGING: {
                "capabilities": [
                    "Answer",
                    "AttachUserData",
                    "DeleteUserData",
                    "DeleteUserDataPair",
                    "UpdateUserData",
                ]
            }
        },
    ),
    "cometd_call_StatusChange_Ringing_toast.json": (
        [E.CALL_RINGING],
        {
            E.CALL_RINGING: {
                "agent": AGENT,
                "call_id": "0071023c62a4a02a",
                "call_uuid": "01A4HVK9AG9CP40B04000VTAES00001A",
                "ani": "5005",
                "dnis": "5000",
                "direction": "inbound",
                "call_type": "Internal",
                "state": "Ringing",
                "previous_state": None,
                "toast": {"CustomerName": "Chris"},
                "toast_display_names": {"CustomerName": "Customer"},
                "user_data": {"POC": "New Service", "CustomerName": "Chris"},
                "duration": 0,
                "participants": [{"number": "5005", "e164": "5005", "formatted": "5005"}],
            }
        },
    ),
    "cometd_call_StatusChange_Ringing_transferScenarioA_1.json": (
        [E.CALL_RINGING],
        {E.CALL_RINGING: {"ani": "5000", "dnis": "5005"}},
    ),
    "cometd_call_StatusChange_Ringing_transferScenarioB_1.json": ([E.CALL_RINGING], {}),
    "cometd_channels_chat_Ready.json": (
        [E.CHANNEL_STATE_CHANGED],
        {E.CHANNEL_STATE_CHANGED: {"channel": "chat", "state": "Ready", "display_name": "Ready"}},
    ),
    "cometd_channels_dnd_On.json": (
        [E.CHANNEL_STATE_CHANGED, E.AGENT_DND_CHANGED],
        {
            E.CHANNEL_STATE_CHANGED: {"channel": "all", "state": "NotReady"},
            E.AGENT_DND_CHANGED: {"dnd": True, "scope": "channel"},
        },
    ),
    "cometd_device_DeviceStateChange_003.json": (
        [E.AGENT_STATE_CHANGED],
        {E.AGENT_STATE_CHANGED: {"state": "Ready", "device_id": "5aceae61-0b5c-4578-9477-cd352d43cb17"}},
    ),
    "cometd_device_DeviceStateChange_AuxWork.json": (
        [E.AGENT_STATE_CHANGED],
        {E.AGENT_STATE_CHANGED: {"state": "NotReady", "work_mode": "AuxWork"}},
    ),
    "cometd_device_DeviceStateChange_CancelSupervisorMonitoring.json": (
        [E.AGENT_STATE_CHANGED, E.AGENT_DND_CHANGED],
        {},
    ),
    "cometd_device_DeviceStateChange_DoNotDisturbOn.json": (
        [E.AGENT_STATE_CHANGED, E.AGENT_DND_CHANGED],
        {E.AGENT_DND_CHANGED: {"dnd": True, "scope": "device"}},
    ),
    "cometd_device_DeviceStateChange_ForwardCallsOff.json": (
        [E.AGENT_STATE_CHANGED, E.AGENT_FORWARDING_CHANGED],
        {E.AGENT_FORWARDING_CHANGED: {"forwarding": True, "forward_to": "5001"}},
    ),
    "cometd_device_DeviceStateChange_NotReady.json": (
        [E.AGENT_STATE_CHANGED],
        {E.AGENT_STATE_CHANGED: {"state": "NotReady", "display_name": "Not Ready"}},
    ),
    "cometd_device_DeviceStateChange_Offline.json": (
        [E.AGENT_STATE_CHANGED],
        {E.AGENT_STATE_CHANGED: {"state": "LoggedOut", "display_name": "Offline"}},
    ),
    "cometd_device_DeviceStateChange_capabilities_after_dnd.json": (
        [E.AGENT_STATE_CHANGED, E.AGENT_DND_CHANGED],
        {},
    ),
    "cometd_device_DeviceStateChange_capabilities_before_dnd.json": ([E.AGENT_STATE_CHANGED], {}),
    "cometd_device_DeviceStateChange_supervisor_BargeIn.json": (
        [E.AGENT_STATE_CHANGED, E.AGENT_DND_CHANGED, E.AGENT_MONITORING_CHANGED],
        {E.AGENT_MONITORING_CHANGED: {"monitoring_state": "BargeIn"}},
    ),
    "cometd_device_DeviceStateChange_supervisor_Coach.json": (
        [E.AGENT_STATE_CHANGED, E.AGENT_DND_CHANGED, E.AGENT_MONITORING_CHANGED],
        {
            E.AGENT_MONITORING_CHANGED: {
                "monitoring_state": "Coach",
                "monitoring_mode": "AllCalls",
                "monitoring_scope": "Call",
                "target_device_id": "9c14cad7-17c4-48d0-8492-7cf0ff92c224",
            }
        },
    ),
    "cometd_device_state_Training.json": (
        [E.AGENT_STATE_CHANGED],
        {
            E.AGENT_STATE_CHANGED: {
                "state": "NotReady",
                "work_mode": "AuxWork",
                "reason": "Training.detroit",
                "display_name": "Training",
                "agent_state_id": "90b2b0c6-8395-4d7b-b94a-ed634ac612b3",
            }
        },
    ),
    "cometd_error_call_IncorrectObjectState.json": (
        [E.CALL_ERROR],
        {E.CALL_ERROR: {"call_id": "0071023821aec021", "error_message": "Incorrect object state"}},
    ),
    "cometd_error_device_InvalidCalledDn.json": (
        [E.DEVICE_ERROR],
        {
            E.DEVICE_ERROR: {
                "device_id": "efelab32-53f9-43ce-b65e-5768c61f7d4a",
                "error_message": "Invalid Called Dn",
            }
        },
    ),
    "cometd_interaction_chat_PropertiesChanged.json": (
        [E.INTERACTION_UPDATED] + [E.CHAT_MESSAGE] * 5,
        {
            E.INTERACTION_UPDATED: {
                "channel": "chat",
                "interaction_type": "Inbound",
                "subject": "Customersupport",
            }
        },
    ),
    "cometd_interaction_chat_invited.json": (
        [E.INTERACTION_INVITED],
        {
            E.INTERACTION_INVITED: {
                "interaction_id": "0000Ja8V814907KS",
                "channel": "chat",
                "interaction_type": "Inbound",
                "interaction_subtype": "InboundNew",
                "capabilities": ["Accept", "Reject"],
                "queue": "SimpleChatInQueue",
            }
        },
    ),
    "cometd_interaction_chat_revoked.json": (
        [E.INTERACTION_REVOKED],
        {E.INTERACTION_REVOKED: {"capabilities": [], "state": "Revoked"}},
    ),
    "cometd_interaction_email_ReplyCreated_Reply.json": (
        [E.INTERACTION_REPLY_CREATED],
        {
            E.INTERACTION_REPLY_CREATED: {
                "channel": "email",
                "subject": "subject-of-the-email-in-string-representation",
                "from_address": "from-address",
                "interaction_type": "Email",
                "interaction_subtype": "OutboundReply",
            }
        },
    ),
    "cometd_interaction_email_invited.json": (
        [E.INTERACTION_INVITED],
        {
            E.INTERACTION_INVITED: {
                "channel": "email",
                "subject": "Rendering_response_category",
                "from_address": "Customer1@ci-vm106",
                "interaction_subtype": "InboundNew",
            }
        },
    ),
    "cometd_service_active.json": (
        [E.SERVICE_STATE_CHANGED],
        {E.SERVICE_STATE_CHANGED: {"service_type": "Voice", "service_name": "SIPS", "state": "Active"}},
    ),
    "cometd_service_inactive.json": (
        [E.SERVICE_STATE_CHANGED],
        {E.SERVICE_STATE_CHANGED: {"state": "Inactive", "available": False}},
    ),
    "cometd_workbin_placed_in.json": (
        [E.WORKBIN_INTERACTION_ADDED],
        {
            E.WORKBIN_INTERACTION_ADDED: {
                "workbin": "TestWorkbin",
                "interaction_id": "0000Ba8Y08X9001E",
                "interaction_subtype": "InboundNew",
                "content_operation": "PlacedIn",
            }
        },
    ),
}


def test_every_cometd_fixture_is_in_the_table() -> None:
    on_disk = {p.name for p in FIXTURES.glob("cometd_*.json")}
    assert on_disk == set(SAMPLES)


def _first(events: list[Event], event_type: EventType) -> Event:
    return next(e for e in events if e.type == event_type.value)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_gives_expected_events(name: str) -> None:
    expected_types, fields = SAMPLES[name]
    events = normalize(fixture_bytes(name), agent=AGENT, state=MemoryState())
    assert [e.type for e in events] == [t.value for t in expected_types]
    for event_type, expected in fields.items():
        data = _first(events, event_type).data
        for key, value in expected.items():
            assert data[key] == value, (name, event_type, key)
    for event in events:
        assert event.partitionkey == AGENT
        assert event.source == f"gws-bridge/{AGENT}"
        assert event.data["agent"] == AGENT
        assert "raw" not in event.data


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_replayed_gives_nothing_new(name: str) -> None:
    state = MemoryState()
    blob = fixture_bytes(name)
    first = normalize(blob, agent=AGENT, state=state)
    assert first
    assert normalize(blob, agent=AGENT, state=state) == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_events_round_trip_as_json(name: str) -> None:
    for event in normalize(fixture_bytes(name), agent=AGENT, state=MemoryState(), include_raw=True):
        assert Event.from_json(event.to_json()) == event
        assert event.data["raw"]["channel"]


def test_every_event_of_a_type_has_the_same_data_keys() -> None:
    keys: dict[str, set[frozenset[str]]] = {}
    state = MemoryState()
    names = sorted(p.name for p in FIXTURES.glob("*.json") if p.name.startswith(("cometd_", "synthetic_")))
    for name in names:
        for fresh in (MemoryState(), state):  # first sight and in sequence
            for event in normalize(fixture_bytes(name), agent=AGENT, state=fresh):
                keys.setdefault(event.type, set()).add(frozenset(event.data) - {"recovered", "raw"})
    uneven = {t: k for t, k in keys.items() if len(k) > 1}
    assert uneven == {}
