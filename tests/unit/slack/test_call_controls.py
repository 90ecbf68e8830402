"""The call controls on a card (Hold, Retrieve, the transfer menu) and what their clicks ask for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from bridge.commands import ACTIONS
from bridge.events import Event
from bridge.inbound.slack_commands import SLACK_ACTIONS, parse_block_action
from connectors.slack_blocks import (
    ACTION_HOLD,
    ACTION_RETRIEVE,
    ACTION_TRANSFER,
    call_controls,
    render_call_card,
    render_event,
)

FIXTURES = json.loads((Path(__file__).parents[2] / "fixtures" / "slack" / "events.json").read_text())
TARGETS = (("Billing", "5002"), ("Second line", "+3120555"))


def event(kind: str, **data: Any) -> Event:
    document = dict(FIXTURES[kind])
    document["data"] = dict(document["data"], **data)
    return Event.model_validate(document)


def elements(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    rows = [b for b in blocks if b["type"] == "actions" and b["block_id"].startswith("call:")]
    return {e["action_id"].split(":")[0]: e for row in rows for e in row["elements"]}


def test_an_established_call_offers_hold_and_the_transfer_menu() -> None:
    controls = elements(render_call_card(event("call.established"), transfer_targets=TARGETS).blocks)
    assert set(controls) == {ACTION_HOLD, ACTION_TRANSFER}
    assert orjson.loads(controls[ACTION_HOLD]["value"]) == {"agent": "jsmith", "call_id": "0071023c62a4a02a"}
    menu = controls[ACTION_TRANSFER]
    assert menu["type"] == "static_select" and menu["confirm"]["confirm"]["text"] == "Transfer"
    assert [orjson.loads(o["value"])["number"] for o in menu["options"]] == ["5002", "+3120555"]


def test_a_held_call_offers_retrieve_and_an_ended_or_ringing_one_nothing() -> None:
    held = event("call.held")
    assert set(elements(render_event(held, transfer_targets=TARGETS).blocks)) == {ACTION_RETRIEVE}
    assert set(elements(render_call_card(held, transfer_targets=TARGETS).blocks)) == {ACTION_RETRIEVE}
    for kind in ("call.released", "call.ringing"):
        assert elements(render_event(event(kind), transfer_targets=TARGETS).blocks) == {}
    retrieved = event("call.held", state="Established", capabilities=["Hold", "Hangup"])
    retrieved = retrieved.model_copy(update={"type": "call.retrieved"})
    assert set(elements(render_event(retrieved, transfer_targets=TARGETS).blocks)) == {ACTION_HOLD}


def test_controls_follow_the_calls_capabilities_and_the_options() -> None:
    no_hold = event("call.established", capabilities=["Hangup", "SingleStepTransfer"])
    assert set(elements(render_call_card(no_hold, transfer_targets=TARGETS).blocks)) == {ACTION_TRANSFER}
    assert set(elements(render_call_card(event("call.established"), transfer_targets=()).blocks)) == {
        ACTION_HOLD
    }
    assert elements(render_call_card(event("call.established")).blocks) == {}  # call_buttons off
    long_agent = "a" * 120  # an option value over Slack's 150 characters would void the message
    data = dict(event("call.established").data, agent=long_agent)
    assert ACTION_TRANSFER not in elements(call_controls(data, TARGETS))


def click(action_id: str, value: dict[str, Any], *, menu: bool = False) -> dict[str, Any]:
    encoded = orjson.dumps(value).decode()
    action = {"action_id": f"{action_id}:0", "block_id": "call:x:0"}
    action.update({"selected_option": {"value": encoded}} if menu else {"value": encoded})
    return {"type": "block_actions", "user": {"id": "U0AGENT1"}, "actions": [action]}


def test_clicks_on_the_controls_become_call_intents_for_the_named_call() -> None:
    call = {"agent": "jsmith", "call_id": "0071023c62a4a02a"}
    hold = parse_block_action(click(ACTION_HOLD, call))
    assert hold is not None and (hold.action, hold.params, hold.for_agent, hold.call_id) == (
        "call.hold", {"call_id": "0071023c62a4a02a"}, "jsmith", "0071023c62a4a02a"
    )  # fmt: skip
    retrieve = parse_block_action(click(ACTION_RETRIEVE, call))
    assert retrieve is not None and retrieve.action == "call.retrieve"
    transfer = parse_block_action(click(ACTION_TRANSFER, dict(call, number="5002"), menu=True))
    assert transfer is not None and transfer.action == "call.transfer"
    assert transfer.params == {"call_id": "0071023c62a4a02a", "destination": "5002"}
    assert parse_block_action(click(ACTION_TRANSFER, call, menu=True)) is None  # no number
    assert parse_block_action(click(ACTION_HOLD, {"agent": "jsmith"})) is None  # no call


def test_every_slack_gesture_runs_an_action_of_the_action_table() -> None:
    assert set(SLACK_ACTIONS.values()) <= set(ACTIONS)
