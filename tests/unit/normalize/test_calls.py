"""Call scenarios: transfers, conferences, hold/retrieve, data, recording, monitoring, errors."""

from __future__ import annotations

import copy

import orjson
import pytest

from bridge.normalize import MemoryState, normalize

from .conftest import AGENT, feed, fixture_bytes

TRANSFER_A = [
    "cometd_call_StatusChange_Ringing_transferScenarioA_1.json",
    "cometd_call_StatusChange_Established_transferScenarioA_2.json",
    "cometd_call_StatusChange_Held_transferScenarioA_3.json",
    "cometd_call_StatusChange_Dialing_transferScenarioA_4.json",
    "cometd_call_StatusChange_Released_transferScenarioA_5.json",
    "cometd_call_StatusChange_Released_transferScenarioA_6.json",
]
ORIGINAL, CONSULT = "call/007102385535e005", "call/007102385535e006"


def _message(name: str) -> dict:
    return orjson.loads(fixture_bytes(name))


def test_two_step_transfer_scenario_in_order(state: MemoryState) -> None:
    events = feed(state, *TRANSFER_A)
    summary = [(e.type, e.subject, e.sequence, e.data["previous_state"]) for e in events]
    assert summary == [
        ("call.ringing", ORIGINAL, 1, None),
        ("call.established", ORIGINAL, 2, "Ringing"),
        ("call.held", ORIGINAL, 3, "Established"),
        ("call.dialing", CONSULT, 1, None),
        ("call.released", ORIGINAL, 4, "Held"),
        ("call.released", CONSULT, 2, "Dialing"),
    ]
    consult = [e for e in events if e.subject == CONSULT]
    assert all(e.data["parent_call_id"] == "007102385535e005" for e in consult)
    assert all(e.data["call_type"] == "Consult" for e in consult)
    original = [e for e in events if e.subject == ORIGINAL]
    assert {e.data["ani"] for e in original} == {"5000"}
    assert {e.data["direction"] for e in original} == {"inbound"}
    assert len({e.id for e in events}) == len(events)


def test_transfer_scenario_b_gives_the_same_ids_as_scenario_a() -> None:
    scenario_b = [name.replace("transferScenarioA", "transferScenarioB") for name in TRANSFER_A]
    a = feed(MemoryState(), *TRANSFER_A)
    b = feed(MemoryState(), *scenario_b)
    assert [e.id for e in a] == [e.id for e in b]


def test_replaying_the_whole_scenario_gives_nothing(state: MemoryState) -> None:
    feed(state, *TRANSFER_A)
    assert feed(state, *TRANSFER_A) == []
    assert feed(state, "cometd_call_StatusChange_Released_CompleteTransfer_original.json") == []


def test_ids_do_not_depend_on_arrival_time_or_state_object() -> None:
    first = feed(MemoryState(), "cometd_call_StatusChange_Ringing_toast.json")
    second = feed(MemoryState(), "cometd_call_StatusChange_Ringing_toast.json")
    assert [e.id for e in first] == [e.id for e in second]
    other_agent = feed(MemoryState(), "cometd_call_StatusChange_Ringing_toast.json", agent="other")
    assert other_agent[0].id != first[0].id


def test_held_call_retrieved_emits_call_retrieved(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_call_StatusChange_Held_Hold.json",
        "synthetic_call_StatusChange_Established_Retrieve.json",
    )
    assert [e.type for e in events] == ["call.held", "call.retrieved"]
    assert events[1].data["previous_state"] == "Held"
    assert events[1].data["state"] == "Established"


def test_second_hold_and_retrieve_get_new_ids(state: MemoryState) -> None:
    hold = _message("cometd_call_StatusChange_Held_Hold.json")
    retrieve = _message("synthetic_call_StatusChange_Established_Retrieve.json")
    events = []
    for duration, message in [(48, hold), (57, retrieve), (70, hold), (80, retrieve)]:
        message["data"]["call"]["duration"] = str(duration)
        events += normalize(message, agent=AGENT, state=state)
    assert [e.type for e in events] == ["call.held", "call.retrieved", "call.held", "call.retrieved"]
    assert len({e.id for e in events}) == 4
    assert [e.sequence for e in events] == [1, 2, 3, 4]


def test_older_message_replayed_after_newer_ones_changes_nothing(state: MemoryState) -> None:
    feed(
        state,
        "cometd_call_StatusChange_Held_Hold.json",
        "synthetic_call_StatusChange_Established_Retrieve.json",
    )
    assert feed(state, "cometd_call_StatusChange_Held_Hold.json") == []  # duration 48 < 57: stale
    assert feed(state, "cometd_call_StatusChange_Released_Hangup.json")[0].type == "call.released"
    assert feed(state, "synthetic_call_StatusChange_Established_Retrieve.json") == []


def test_conference_links_consult_call_and_reports_who_joined(state: MemoryState) -> None:
    original = _message("cometd_call_ParticipantsUpdated_Established_CompleteConference.json")
    before = copy.deepcopy(original)
    before["data"]["notificationType"] = "StatusChange"
    before["data"]["call"]["participants"] = ["5000"]
    before["data"]["call"]["participantsInfo"] = before["data"]["call"]["participantsInfo"][:1]
    events = normalize(before, agent=AGENT, state=state)
    events += feed(
        state,
        "cometd_call_StatusChange_Dialing_InitiateConference_consult.json",
        "cometd_call_StatusChange_Released_CompleteConference_consult.json",
        "cometd_call_ParticipantsUpdated_Established_CompleteConference.json",
    )
    assert [e.type for e in events] == [
        "call.established",
        "call.dialing",
        "call.released",
        "call.participants_changed",
    ]
    assert events[1].data["parent_call_id"] == "007102385535e001"
    assert events[3].data["joined"] == ["5001"]
    assert events[3].data["left"] == []


def test_participant_left_is_reported(state: MemoryState) -> None:
    conference = _message("cometd_call_ParticipantsUpdated_Established_SingleStepConference_sample1.json")
    normalize(conference, agent=AGENT, state=state)
    conference["data"]["call"]["participants"] = ["5000"]
    conference["data"]["call"]["participantsInfo"] = conference["data"]["call"]["participantsInfo"][:1]
    events = normalize(conference, agent=AGENT, state=state)
    assert [e.type for e in events] == ["call.participants_changed"]
    assert events[0].data["left"] == ["5001"]
    assert events[0].data["joined"] == []


def test_attached_data_changes_list_added_changed_removed(state: MemoryState) -> None:
    feed(state, "cometd_call_AttachedDataChanged_Established_UpdateUserData_sample2.json")
    events = feed(state, "cometd_call_AttachedDataChanged_Established_DeleteUserDataPair.json")
    assert [e.type for e in events] == ["call.data_changed"]
    assert events[0].data["data_changes"] == {"added": {}, "changed": {}, "removed": ["CustomerSegment"]}
    message = _message("cometd_call_AttachedDataChanged_Established_DeleteUserDataPair.json")
    message["data"]["call"]["userData"]["CustomerName"] = "Chris"
    message["data"]["call"]["userData"]["Colors"] = "Blue"
    (event,) = normalize(message, agent=AGENT, state=state)
    assert event.data["data_changes"]["added"] == {"Colors": "Blue"}
    assert event.data["data_changes"]["changed"] == {"CustomerName": "Chris"}


def test_delete_user_data_absent_key_means_all_removed(state: MemoryState) -> None:
    feed(state, "cometd_call_AttachedDataChanged_Established_DeleteUserDataPair.json")
    message = _message("cometd_call_AttachedDataChanged_Established_DeleteUserDataPair.json")
    del message["data"]["call"]["userData"]
    (event,) = normalize(message, agent=AGENT, state=state)
    assert event.type == "call.data_changed"
    assert sorted(event.data["data_changes"]["removed"]) == ["CustomerName", "CustomerNumber"]
    assert event.data["user_data"] == {}


def test_status_change_without_user_data_keeps_the_known_data(state: MemoryState) -> None:
    feed(state, "cometd_call_StatusChange_Ringing_toast.json")
    message = _message("cometd_call_StatusChange_Established_case.json")
    del message["data"]["call"]["userData"]
    (event,) = normalize(message, agent=AGENT, state=state)
    assert event.type == "call.established"
    assert event.data["user_data"] == {"POC": "New Service", "CustomerName": "Chris"}
    assert event.data["toast"] == {"CustomerName": "Chris"}


def test_recording_lifecycle(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_call_CallRecordingStateChange_Recording_Start.json",
        "cometd_call_CallRecordingStateChange_Paused_Pause.json",
        "cometd_call_CallRecordingStateChange_Recording_Resume.json",
        "cometd_call_CallRecordingStateChange_Stopped_Stop.json",
    )
    recording = [e for e in events if e.type == "call.recording_changed"]
    assert [(e.data["previous_recording_state"], e.data["recording_state"]) for e in recording] == [
        (None, "Recording"),
        ("Recording", "Paused"),
        ("Paused", "Recording"),
        ("Recording", "Stopped"),
    ]
    # Pause -> Resume changes only GSIP_RECORD: that is the recording event, not a data change
    # (the other steps also change IW_BundleUid: the seed's OCR damage, quirk D6)
    resume = [e for e in events if e.data["duration"] == 588]
    assert [e.type for e in resume] == ["call.recording_changed"]
    assert len({e.id for e in recording}) == 4


def test_mute_then_unmute_monitored_user(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_call_StatusChange_Established_SwitchToBargeIn.json",
        "cometd_call_MonitoredUserMutedStateChange_Mute.json",
        "cometd_call_MonitoredUserMutedStateChange_Unmute.json",
    )
    assert [e.type for e in events] == [
        "call.established",
        "call.monitoring_changed",
        "call.monitoring_changed",
    ]
    assert [e.data["monitored_user_muted"] for e in events[1:]] == [True, False]


def test_agent_mute_is_call_mute_changed_not_monitoring(state: MemoryState) -> None:
    # the seeds document MuteCall without its notification: the call resource's "mute" flips
    answered = _message("cometd_call_StatusChange_Established_Answer.json")
    assert answered["data"]["call"]["mute"] == "Off"
    muted = copy.deepcopy(answered)
    muted["data"]["call"]["mute"] = "On"
    events = []
    for message in (answered, muted, muted, answered):
        events += normalize(message, agent=AGENT, state=state)
    assert [e.type for e in events] == ["call.established", "call.mute_changed", "call.mute_changed"]
    on, off = events[1:]
    assert (on.data["previous_muted"], on.data["muted"]) == (False, True)
    assert (off.data["previous_muted"], off.data["muted"]) == (True, False)
    assert on.id != off.id
    assert not normalize(muted, agent=AGENT, state=MemoryState())[1:]  # first sight: nothing changed


def test_monitored_user_mute_does_not_look_like_the_agents_own_mute(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_call_StatusChange_Established_SwitchToBargeIn.json",
        "cometd_call_MonitoredUserMutedStateChange_Mute.json",
    )
    assert "call.mute_changed" not in [e.type for e in events]


def test_8_5_1_participants_spell_e164_as_e164digits() -> None:
    (event,) = feed(MemoryState(), "cometd_call_StatusChange_Dialing_003.json")
    assert event.data["participants"] == [{"number": "2", "e164": "2", "formatted": "2"}]


def test_dtmf_sent_once_per_notification(state: MemoryState) -> None:
    events = feed(state, "cometd_call_DtmfSent_Established_SendDtmf.json")
    assert [e.type for e in events] == ["call.established", "call.dtmf_sent"]
    later = _message("cometd_call_DtmfSent_Established_SendDtmf.json")
    later["data"]["call"]["duration"] = "140"
    assert [e.type for e in normalize(later, agent=AGENT, state=state)] == ["call.dtmf_sent"]


def test_call_error_is_tied_to_the_call_and_not_repeated(state: MemoryState) -> None:
    feed(state, "cometd_call_StatusChange_Ringing_toast.json")
    error = _message("cometd_error_call_IncorrectObjectState.json")
    error["data"]["callUri"] = "http://127.0.0.1:8080/api/v2/calls/0071023c62a4a02a"
    events = normalize(error, agent=AGENT, state=state)
    assert [(e.type, e.subject) for e in events] == [("call.error", "call/0071023c62a4a02a")]
    assert events[0].data["state"] == "Ringing"
    assert events[0].sequence == 2
    assert normalize(error, agent=AGENT, state=state) == []


def test_error_attributes_on_a_call_notification_become_call_error(state: MemoryState) -> None:
    message = _message("cometd_call_StatusChange_Dialing_003.json")
    message["data"]["errorMessage"] = "Invalid Called Dn"
    events = normalize(message, agent=AGENT, state=state)
    assert [e.type for e in events] == ["call.dialing", "call.error"]
    assert events[1].data["error_message"] == "Invalid Called Dn"


def test_unknown_call_state_is_reported_unrecognized_not_dropped(state: MemoryState) -> None:
    message = _message("cometd_call_StatusChange_Ringing_toast.json")
    message["data"]["call"]["state"] = "Queued"
    events = normalize(message, agent=AGENT, state=state)
    assert [e.type for e in events] == ["gws.unrecognized"]
    assert events[0].data["raw"] == message
    assert events[0].data["reason"] == "unknown call state 'Queued'"
    assert state.get("call/0071023c62a4a02a")["d"]["state"] == "Queued"


@pytest.mark.parametrize("duration", ["363", 363, "363L", 363.0])
def test_duration_is_an_int_whatever_the_spelling(duration: object) -> None:
    message = _message("cometd_call_StatusChange_Established_Answer.json")
    message["data"]["call"]["duration"] = duration
    (event,) = normalize(message, agent=AGENT, state=MemoryState())
    assert event.data["duration"] == 363


def test_include_raw_carries_the_gws_message() -> None:
    message = _message("cometd_call_StatusChange_Ringing_toast.json")
    (event,) = normalize(message, agent=AGENT, state=MemoryState(), include_raw=True)
    assert event.data["raw"] == message


def test_finished_calls_are_pruned_beyond_the_limit_without_sequences_going_back(state: MemoryState) -> None:
    from bridge.normalize.dispatch import KEEP_FINISHED

    ringing = _message("cometd_call_StatusChange_Ringing_toast.json")
    released = _message("cometd_call_StatusChange_Released_Hangup.json")
    last_sequence = 0
    for i in range(KEEP_FINISHED + 20):
        call_id = f"call{i:05d}"
        for message in (ringing, released):
            message["data"]["call"]["id"] = call_id
            for event in normalize(message, agent=AGENT, state=state):
                last_sequence = max(last_sequence, event.sequence)
    calls = state.subjects("call/")
    assert len(calls) == KEEP_FINISHED
    assert "call/call00000" not in calls and f"call/call{KEEP_FINISHED + 19:05d}" in calls
    ringing["data"]["call"]["id"] = "call00000"  # a pruned call seen again starts above every number used
    (again,) = normalize(ringing, agent=AGENT, state=state)
    assert again.sequence > 2
