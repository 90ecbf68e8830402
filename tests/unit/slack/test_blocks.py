"""Block Kit rendering per event family: what a phone shows, and what buttons send back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from bridge.events import Event
from connectors.slack_blocks import (
    ACTION_DISPOSITION,
    ACTION_NOT_READY,
    ACTION_READY,
    escape,
    render_event,
    thread_subject,
)

FIXTURES = json.loads((Path(__file__).parents[2] / "fixtures" / "slack" / "events.json").read_text())


def event(kind: str, **data: Any) -> Event:
    document = dict(FIXTURES[kind])
    document["data"] = dict(document["data"], **data)
    return Event.model_validate(document)


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every visible text of ``blocks``, joined (headers, sections, fields, context, buttons)."""
    out: list[str] = []
    for block in blocks:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        for element in block.get("elements", []):
            out.append(element["text"]["text"] if isinstance(element.get("text"), dict) else element["text"])
    return "\n".join(out)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_ringing_call_shows_ani_dnis_and_toast_with_display_names() -> None:
    message = render_event(event("call.ringing"))
    assert message.blocks[0]["type"] == "header"
    assert "5005" in message.blocks[0]["text"]["text"]
    shown = texts(message.blocks)
    assert "*From*\n5005" in shown and "*To*\n5000" in shown and "*Agent*\njsmith" in shown
    assert "*Customer*\nChris" in shown  # toast field under its display name
    assert "0071023c62a4a02a" in shown
    assert message.text == "Incoming call from 5005 to jsmith"
    assert buttons(message.blocks) == []


def test_established_call_shows_case_data_and_disposition_buttons() -> None:
    dispositions = ["Resolved", "Callback", "Escalated", "Sale", "No sale", "Wrong number", "Spam"]
    message = render_event(event("call.established"), dispositions=dispositions)
    shown = texts(message.blocks)
    assert "*Purpose of Call*\nNew Service" in shown
    rows = [b for b in message.blocks if b["type"] == "actions"]
    assert [len(r["elements"]) for r in rows] == [5, 2]  # rows of five stay tappable on a phone
    found = buttons(message.blocks)
    assert [b["text"]["text"] for b in found] == dispositions
    assert all(b["action_id"].split(":")[0] == ACTION_DISPOSITION for b in found)
    assert len({b["action_id"] for b in found}) == len(found)
    assert orjson.loads(found[0]["value"]) == {
        "agent": "jsmith",
        "call_id": "0071023c62a4a02a",
        "disposition": "Resolved",
    }


def test_established_call_without_configured_dispositions_has_no_buttons() -> None:
    assert buttons(render_event(event("call.established")).blocks) == []


def test_agent_state_change_shows_state_reason_and_ready_buttons() -> None:
    message = render_event(event("agent.state_changed"))
    assert "*jsmith* is *Not Ready* — Training" in texts(message.blocks)
    found = buttons(message.blocks)
    assert [b["action_id"].split(":")[0] for b in found] == [ACTION_READY, ACTION_NOT_READY]
    assert all(orjson.loads(b["value"]) == {"agent": "jsmith"} for b in found)
    assert message.text == "jsmith is Not Ready (Training)"
    assert buttons(render_event(event("agent.state_changed"), buttons=False).blocks) == []


def test_service_outage_is_an_alert_with_a_red_bar() -> None:
    message = render_event(event("service.state_changed"))
    assert message.blocks == []
    (attachment,) = message.attachments
    assert attachment["color"] == "#E01E5A"
    assert "DOWN" in attachment["blocks"][0]["text"]["text"]
    assert message.text.startswith("ALERT:")
    back = render_event(
        event("service.state_changed", state="Active", previous_state="Inactive", available=True)
    )
    assert back.attachments[0]["color"] == "#2EB67D"


def test_interaction_invitation_names_sender_subject_and_queue() -> None:
    message = render_event(event("interaction.invited"))
    assert "New e-mail from Customer1@ci-vm106" in message.blocks[0]["text"]["text"]
    shown = texts(message.blocks)
    assert "*Subject*\nRendering_response_category" in shown and "*Queue*\nSimpleEmailInQueue" in shown


def test_disabled_destination_is_a_warning_alert() -> None:
    message = render_event(event("destination.disabled"))
    assert message.attachments[0]["color"] == "#ECB22E"
    assert "crm" in message.text and "410" in message.text


def test_user_data_is_escaped_and_cut_to_slack_limits() -> None:
    message = render_event(
        event("call.ringing", ani="<!channel> & " + "9" * 400, toast={"Note": "<b>" + "x" * 5000})
    )
    assert len(message.blocks[0]["text"]["text"]) <= 150
    shown = texts(message.blocks[1:])  # the header is plain_text: Slack renders no mention there
    assert "<!channel>" not in shown and "&lt;!channel&gt; &amp;" in shown
    assert all(len(f["text"]) <= 2000 for b in message.blocks for f in b.get("fields", []))
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


@pytest.mark.parametrize("kind", sorted(FIXTURES))
def test_every_family_renders_a_summary_and_well_formed_blocks(kind: str) -> None:
    message = render_event(event(kind), dispositions=["Resolved"])
    assert message.text.strip()
    payload = message.payload()
    assert payload["text"] == message.text
    blocks = message.blocks + [b for a in message.attachments for b in a["blocks"]]
    assert 0 < len(blocks) <= 50
    assert all(block["type"] in {"header", "section", "context", "actions"} for block in blocks)
    assert all(len(block.get("fields", [])) <= 10 for block in blocks)


def test_calls_and_interactions_have_threads_other_events_do_not() -> None:
    assert thread_subject(event("call.held")) == "call/" + FIXTURES["call.held"]["data"]["call_id"]
    assert thread_subject(event("interaction.accepted")) == "interaction/0000Ka8WP8G94H9A"
    assert thread_subject(event("chat.message")) == "interaction/00002a94345B0MXX"
    assert thread_subject(event("agent.state_changed")) is None
    assert thread_subject(event("service.state_changed")) is None


def test_a_call_card_follows_the_call_state() -> None:
    from connectors.slack_blocks import render_call_card

    ringing = render_call_card(event("call.ringing"), dispositions=["Resolved"])
    assert buttons(ringing.blocks) == []  # nothing to disposition before the call is answered
    released = render_call_card(
        event("call.established", state="Released", duration=125), dispositions=["Resolved"]
    )
    assert released.blocks[0]["text"]["text"] == ":end: Call with 5005 ended (2:05)"
    assert [b["text"]["text"] for b in buttons(released.blocks)] == ["Resolved"]
    assert "*Purpose of Call*\nNew Service" in texts(released.blocks)
    assert released.text == "jsmith: call with 5005, released"
