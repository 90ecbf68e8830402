"""E-mail and chat interactions, nested and flat, and chat transcripts."""

from __future__ import annotations

import copy
import random

import orjson

from bridge.normalize import MemoryState, Snapshot, normalize, normalize_snapshot

from .conftest import AGENT, feed, fixture_bytes

CHAT = "cometd_interaction_chat_PropertiesChanged.json"


def _message(name: str) -> list | dict:
    return orjson.loads(fixture_bytes(name))


def test_chat_transcript_entries_become_messages_once_in_id_order(state: MemoryState) -> None:
    events = feed(state, CHAT)
    messages = [e for e in events if e.type == "chat.message"]
    assert [e.data["entry_id"] for e in messages] == ["1", "2", "3", "4", "5"]
    assert [e.data["entry_type"] for e in messages] == [
        "party_joined",
        "party_joined",
        "notice",
        "notice",
        "party_left",
    ]
    assert messages[0].data["nick_name"] == "test_agent_notificationL"
    assert messages[0].data["user_type"] == "Client"
    assert messages[3].data["notice_type"] == "TypingStopped"
    assert feed(state, CHAT) == []


def test_resent_transcript_with_one_new_entry_out_of_order(state: MemoryState) -> None:
    feed(state, CHAT)
    message = _message(CHAT)
    entries = message[0]["data"]["interaction"]["content"]["events"]
    entries.append({"messageType": "MESSAGE", "userId": "0091526EACE5E036", "text": "hello", "id": 6})
    random.Random(7).shuffle(entries)
    events = normalize(message, agent=AGENT, state=state)
    assert [(e.type, e.data["entry_id"], e.data["text"]) for e in events] == [("chat.message", "6", "hello")]


def test_chat_message_ids_survive_a_lost_state() -> None:
    first = [e.id for e in feed(MemoryState(), CHAT) if e.type == "chat.message"]
    again = [e.id for e in feed(MemoryState(), CHAT) if e.type == "chat.message"]
    assert first == again


def test_chat_invited_then_revoked_flat_form(state: MemoryState) -> None:
    events = feed(state, "cometd_interaction_chat_invited.json", "cometd_interaction_chat_revoked.json")
    assert [(e.type, e.data["previous_state"]) for e in events] == [
        ("interaction.invited", None),
        ("interaction.revoked", "Invited"),
    ]
    assert {e.subject for e in events} == {"interaction/0000Ja8V814907KS"}


def test_email_invited_then_accepted_nested_form(state: MemoryState) -> None:
    events = feed(state, "cometd_interaction_email_invited.json", "synthetic_interaction_email_accepted.json")
    assert [e.type for e in events] == ["interaction.invited", "interaction.accepted"]
    accepted = events[1].data
    assert accepted["thread_id"] == "0000Ka8WP8G94H9A"
    assert accepted["start_date"] == 1382994529967
    assert "Reply" in accepted["capabilities"]
    assert accepted["from_address"] == "Customer1@ci-vm106"


def test_properties_changed_reports_user_data_changes(state: MemoryState) -> None:
    feed(state, CHAT)
    message = _message(CHAT)
    interaction = message[0]["data"]["interaction"]
    interaction["userData"]["CustomerSegment"] = "gold"
    del interaction["userData"]["RVQID"]
    (event,) = normalize(message, agent=AGENT, state=state)
    assert event.type == "interaction.updated"
    assert event.data["data_changes"] == {
        "added": {},
        "changed": {"CustomerSegment": "gold"},
        "removed": ["RVQID"],
    }


def test_flat_and_nested_forms_give_the_same_fields() -> None:
    flat = _message("cometd_interaction_chat_invited.json")
    nested = copy.deepcopy(flat)
    data = nested[0]["data"]
    interaction = {k: v for k, v in data.items() if k != "messageType"}
    nested[0]["data"] = {"messageType": "InteractionStateMessage", "interaction": interaction}
    (a,) = normalize(flat, agent=AGENT, state=MemoryState())
    (b,) = normalize(nested, agent=AGENT, state=MemoryState())
    assert a.data == b.data
    assert a.id == b.id


def test_properties_changed_without_capabilities_is_not_a_change(state: MemoryState) -> None:
    invited = _message("cometd_interaction_chat_invited.json")
    feed(state, "cometd_interaction_chat_invited.json")
    data = copy.deepcopy(invited[0]["data"])
    del data["capabilities"]
    data["state"] = "PropertiesChanged"
    message = {"channel": "/v2/me/interactions", "data": data}
    assert normalize(message, agent=AGENT, state=state) == []
    data["userData"]["Subject"] = "Billing"
    (event,) = normalize(message, agent=AGENT, state=state)
    assert event.type == "interaction.updated"
    assert event.data["capabilities"] == ["Accept", "Reject"]
    assert event.data["data_changes"]["changed"] == {"Subject": "Billing"}
    assert event.data["previous_state"] == "Invited"


def test_email_placed_in_a_queue_closes_its_record(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_interaction_email_invited.json",
        "synthetic_interaction_email_accepted.json",
        "synthetic_interaction_email_queued.json",
    )
    assert [e.type for e in events] == ["interaction.invited", "interaction.accepted", "interaction.queued"]
    queued = events[-1]
    assert (queued.data["previous_state"], queued.data["state"]) == ("Accepted", "Queued")
    assert queued.data["queue"] == "SimpleEmailSecondLineQueue"
    assert "interaction/0000Ka8WP8G94H9A" in state.get("meta/finished")["q"]  # retired
    assert feed(state, "synthetic_interaction_email_queued.json") == []  # a replay: nothing
    # a recovery that no longer finds it reports nothing more (it is not "completed" by the agent)
    assert normalize_snapshot(Snapshot(interactions={"interactions": []}), agent=AGENT, state=state) == []
