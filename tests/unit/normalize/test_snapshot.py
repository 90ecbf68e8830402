"""State recovery after a reconnect: normalize_snapshot against the last-known state."""

from __future__ import annotations

import copy

import orjson

from bridge.normalize import MemoryState, Snapshot, normalize, normalize_snapshot

from .conftest import AGENT, feed, fixture_bytes


def _message(name: str) -> dict:
    return orjson.loads(fixture_bytes(name))


def _calls_body(*calls: dict) -> dict:
    return {"statusCode": 0, "calls": list(calls)}


def _call(name: str, **changes: object) -> dict:
    call = copy.deepcopy(_message(name)["data"]["call"])
    call.update(changes)
    return call


RINGING = "cometd_call_StatusChange_Ringing_toast.json"
ESTABLISHED = "cometd_call_StatusChange_Established_case.json"


def test_ringing_then_gap_then_released_gives_call_released(state: MemoryState) -> None:
    feed(state, RINGING)
    released = _call(RINGING, state="Released", duration="30", capabilities=[])
    events = normalize_snapshot(Snapshot(calls=_calls_body(released)), agent=AGENT, state=state)
    assert [(e.type, e.data["previous_state"]) for e in events] == [("call.released", "Ringing")]
    assert events[0].data["recovered"] is True
    assert events[0].data["user_data"] == {"POC": "New Service", "CustomerName": "Chris"}


def test_known_call_missing_from_the_listing_is_released(state: MemoryState) -> None:
    feed(state, RINGING, ESTABLISHED)
    events = normalize_snapshot(Snapshot(calls=_calls_body()), agent=AGENT, state=state)
    assert [(e.type, e.subject, e.data["previous_state"]) for e in events] == [
        ("call.released", "call/0071023c62a4a02a", "Established")
    ]
    assert events[0].data["ani"] == "5005"
    assert normalize_snapshot(Snapshot(calls=_calls_body()), agent=AGENT, state=state) == []


def test_never_seen_established_call_gives_established_with_the_live_id(state: MemoryState) -> None:
    live = feed(MemoryState(), RINGING, ESTABLISHED)
    events = normalize_snapshot(Snapshot(calls=_calls_body(_call(ESTABLISHED))), agent=AGENT, state=state)
    # the data it carries was attached while we were away: call.data_changed says so
    assert [e.type for e in events] == ["call.established", "call.data_changed"]
    assert events[0].id == live[1].id
    assert events[1].data["data_changes"]["added"] == {"POC": "New Service", "CustomerName": "Chris"}
    assert all(e.data["recovered"] for e in events)


def test_data_change_lost_in_a_gap_is_recovered_as_call_data_changed(state: MemoryState) -> None:
    """A known call whose AttachedDataChanged GWS published while we were away."""
    feed(state, RINGING, ESTABLISHED)
    data = {"POC": "New Service", "CustomerName": "Chris", "AccountNumber": "12345"}
    snapshot = Snapshot(calls=_calls_body(_call(ESTABLISHED, userData=data)))
    events = normalize_snapshot(snapshot, agent=AGENT, state=state)
    assert [(e.type, e.data["data_changes"]["added"]) for e in events] == [
        ("call.data_changed", {"AccountNumber": "12345"})
    ]


def test_call_that_ended_in_a_gap_is_released_last_with_its_new_data(state: MemoryState) -> None:
    """Ringing seen; established, data attached and released while we were away (GWS still lists it)."""
    feed(state, RINGING)
    data = {"POC": "New Service", "CustomerName": "Chris", "AccountNumber": "12345"}
    released = _call(RINGING, state="Released", duration="30", capabilities=[], userData=data)
    events = normalize_snapshot(Snapshot(calls=_calls_body(released)), agent=AGENT, state=state)
    assert [e.type for e in events] == ["call.data_changed", "call.released"]
    assert events[-1].data["user_data"] == data
    assert events[0].sequence < events[1].sequence


def test_call_that_rang_and_ended_in_a_gap_gives_its_data_then_released(state: MemoryState) -> None:
    call = _call(RINGING, state="Released", duration="30", capabilities=[])
    events = normalize_snapshot(Snapshot(calls=_calls_body(call)), agent=AGENT, state=state)
    assert [e.type for e in events] == ["call.data_changed", "call.released"]
    assert events[0].data["data_changes"]["added"] == {"POC": "New Service", "CustomerName": "Chris"}


def test_never_seen_released_call_is_reported_released(state: MemoryState) -> None:
    call = _call("cometd_call_StatusChange_Released_Hangup.json")
    events = normalize_snapshot(Snapshot(calls=_calls_body(call)), agent=AGENT, state=state)
    assert [(e.type, e.data["previous_state"], e.data["duration"]) for e in events] == [
        ("call.released", None, 599)
    ]


def test_nothing_is_reemitted_for_what_was_already_seen(state: MemoryState) -> None:
    feed(state, RINGING, ESTABLISHED, "cometd_device_DeviceStateChange_NotReady.json")
    me = orjson.loads(fixture_bytes("rest_get_me_subresources.json"))
    me["user"]["devices"][0]["id"] = "74152ed8-858f-4a33-9e96-36213a678d30"  # the NotReady sample's device
    me["user"]["calls"] = [_call(ESTABLISHED)]
    snapshot = Snapshot(me=me, calls=_calls_body(_call(ESTABLISHED)))
    assert normalize_snapshot(snapshot, agent=AGENT, state=state) == []


def test_recovered_change_has_the_same_id_as_the_live_path() -> None:
    live_state = MemoryState()
    live = feed(live_state, RINGING, ESTABLISHED)
    recovering = MemoryState()
    feed(recovering, RINGING)
    recovered = normalize_snapshot(
        Snapshot(calls=_calls_body(_call(ESTABLISHED))), agent=AGENT, state=recovering
    )
    assert [e.id for e in recovered] == [live[1].id]
    # and the live message arriving after recovery adds nothing
    assert feed(recovering, ESTABLISHED) == []


def test_agent_state_changed_while_disconnected(state: MemoryState) -> None:
    feed(state, "cometd_device_DeviceStateChange_003.json")  # Ready on 5aceae61-…
    me = orjson.loads(fixture_bytes("rest_get_me_subresources_schematic_003.json"))
    me["devices"][0]["id"] = "5aceae61-0b5c-4578-9477-cd352d43cb17"
    events = normalize_snapshot(Snapshot(me=orjson.dumps(me)), agent=AGENT, state=state)
    assert [(e.type, e.data.get("previous_state"), e.data.get("state")) for e in events] == [
        ("agent.state_changed", "Ready", "NotReady"),
        ("channel.state_changed", None, "NotReady"),
        ("channel.state_changed", None, "NotReady"),
    ]
    assert events[0].data["reason"] == "Lunch"
    assert events[2].data["reason"] == "Lunch"  # the 8.5.1 reasonCode spelling


def test_interactions_that_vanished_are_revoked_or_completed(state: MemoryState) -> None:
    feed(state, "cometd_interaction_chat_invited.json", "cometd_interaction_email_invited.json")
    feed(state, "synthetic_interaction_email_accepted.json")
    body = orjson.loads(fixture_bytes("rest_get_me_interactions_fields_response.json"))
    events = normalize_snapshot(Snapshot(interactions=body), agent=AGENT, state=state)
    assert sorted((e.type, e.subject) for e in events) == [
        ("interaction.completed", "interaction/0000Ka8WP8G94H9A"),
        ("interaction.revoked", "interaction/0000Ja8V814907KS"),
    ]


def test_listed_interaction_with_new_chat_entries(state: MemoryState) -> None:
    chat = _message("cometd_interaction_chat_PropertiesChanged.json")[0]["data"]["interaction"]
    events = normalize_snapshot(Snapshot(interactions={"interactions": [chat]}), agent=AGENT, state=state)
    assert [e.type for e in events].count("chat.message") == 5
    assert (
        normalize(fixture_bytes("cometd_interaction_chat_PropertiesChanged.json"), agent=AGENT, state=state)
        == []
    )


def test_missing_or_garbage_bodies_compare_nothing(state: MemoryState) -> None:
    feed(state, RINGING)
    assert normalize_snapshot(Snapshot(), agent=AGENT, state=state) == []
    assert (
        normalize_snapshot(Snapshot(me=b"<html>", calls=b"oops", interactions=42), agent=AGENT, state=state)
        == []
    )
    assert state.get("call/0071023c62a4a02a")["d"]["state"] == "Ringing"


def test_recovered_events_have_the_live_keys(state: MemoryState) -> None:
    live = feed(MemoryState(), "cometd_interaction_email_invited.json", RINGING)
    feed(state, "cometd_interaction_email_invited.json", RINGING)
    recovered = normalize_snapshot(
        Snapshot(calls=_calls_body(), interactions={"interactions": []}), agent=AGENT, state=state
    )
    assert {e.type for e in recovered} == {"call.released", "interaction.revoked"}
    live_keys = {e.type.split(".")[0]: set(e.data) for e in live}
    for event in recovered:
        assert set(event.data) - {"recovered"} == live_keys[event.type.split(".")[0]]


PLACED = "cometd_workbin_placed_in.json"
CONTENT = "rest_get_workbin_content_response.json"  # the seed's GetWorkbinContent sample


def _workbin(name: str, body: object) -> Snapshot:
    return Snapshot(workbins={name: body})


def test_workbin_content_found_in_recovery_is_added_then_removed(state: MemoryState) -> None:
    content = _message(CONTENT)
    (added,) = normalize_snapshot(_workbin("FacebookWorkbinInProgress", content), agent=AGENT, state=state)
    assert added.type == "workbin.interaction_added"
    assert added.subject == f"workbin/{AGENT}/FacebookWorkbinInProgress"
    assert added.data["recovered"] is True
    assert added.data["interaction_id"] == "0000Aa8WRME43VG6"
    assert (added.data["channel"], added.data["interaction_type"]) == ("email", "Inbound")
    assert added.data["interaction_subtype"] == "InboundNew"
    assert added.data["queue"] == "Facebook Workbin InProgress/PrivateQueue"
    assert added.data["subject"] == "test_receive_invite_and_accept_updateproperites"
    assert added.data["from_address"] == "qwerty@mcr812trywe"
    assert added.data["workbin_agent_id"] == "MaratTest"
    assert "InteractionId" not in added.data["user_data"] and added.data["user_data"]["ContactId"]
    # the same content again: nothing; an empty workbin: the interaction left it
    assert normalize_snapshot(_workbin("FacebookWorkbinInProgress", content), agent=AGENT, state=state) == []
    empty = {"statusCode": 0, "interactions": []}
    (removed,) = normalize_snapshot(_workbin("FacebookWorkbinInProgress", empty), agent=AGENT, state=state)
    assert (removed.type, removed.data["interaction_id"]) == (
        "workbin.interaction_removed",
        "0000Aa8WRME43VG6",
    )
    assert removed.data["recovered"] is True


def test_workbin_change_seen_live_or_in_recovery_has_one_id() -> None:
    live, recovered = MemoryState(), MemoryState()
    (seen_live,) = feed(live, PLACED)
    item = {"InteractionId": "0000Ba8Y08X9001E", "MediaType": "email", "Queue": "TestWorkbin/PrivateQueue"}
    (seen_in_recovery,) = normalize_snapshot(
        _workbin("TestWorkbin", {"statusCode": 0, "interactions": [item]}), agent=AGENT, state=recovered
    )
    assert seen_live.id == seen_in_recovery.id
    assert seen_live.subject == seen_in_recovery.subject
    # live state: the recovery finds what it knows, and nothing is emitted twice
    body = {"statusCode": 0, "interactions": [item]}
    assert normalize_snapshot(_workbin("TestWorkbin", body), agent=AGENT, state=live) == []
    # recovered state: the notification it missed arrives late (a replay): no second event
    assert feed(recovered, PLACED) == []
    changed = feed(recovered, "synthetic_workbin_changed.json")
    assert [e.type for e in changed] == ["workbin.interaction_updated"]
    (taken_out,) = feed(recovered, "synthetic_workbin_taken_out.json")
    assert taken_out.type == "workbin.interaction_removed"
    assert (
        normalize_snapshot(_workbin("TestWorkbin", {"interactions": []}), agent=AGENT, state=recovered) == []
    )
