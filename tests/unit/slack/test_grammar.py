"""Slash-command text and button payloads into intents."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from bridge.config.slack import SlackInboundSettings
from bridge.inbound.slack_commands import (
    SlackIntent,
    SlackUsageError,
    parse_agent_text,
    parse_block_action,
    parse_dispo_text,
)
from connectors.slack_blocks import ACTION_DISPOSITION, ACTION_NOT_READY, ACTION_READY


@pytest.mark.parametrize(
    ("text", "action", "params"),
    [
        ("ready", "agent.ready", {}),
        ("READY", "agent.ready", {}),
        ("notready", "agent.not_ready", {}),
        ("notready Lunch", "agent.not_ready", {"reason": "Lunch"}),
        ("not ready  Coffee break ", "agent.not_ready", {"reason": "Coffee break"}),
        ("nr Training", "agent.not_ready", {"reason": "Training"}),
        ("dnd on", "agent.dnd", {"on": True}),
        ("dnd OFF", "agent.dnd", {"on": False}),
        ("status", None, {}),
    ],
)
def test_agent_subcommands(text: str, action: str | None, params: dict[str, Any]) -> None:
    intent = parse_agent_text(text)
    assert (intent.action, intent.params) == (action, params)


@pytest.mark.parametrize("text", ["", "help", "dance", "dnd", "dnd maybe", "ready now", "status please"])
def test_agent_usage_errors_show_the_help(text: str) -> None:
    with pytest.raises(SlackUsageError, match="/agent ready"):
        parse_agent_text(text)


@pytest.mark.parametrize(
    ("text", "disposition", "call_id"),
    [
        ("IssueResolved", "IssueResolved", None),
        ("IssueResolved 0071023c62a4a02a", "IssueResolved", "0071023c62a4a02a"),
        ('"Sale made" 01A4HVK9AG9CP40B04000VTAES00001A', "Sale made", "01A4HVK9AG9CP40B04000VTAES00001A"),
        ("Sale made", "Sale made", None),
        ("Callback tomorrow", "Callback tomorrow", None),  # words are not call ids
    ],
)
def test_dispo_with_and_without_a_call(text: str, disposition: str, call_id: str | None) -> None:
    intent = parse_dispo_text(text)
    assert intent.action == "call.set_disposition" and intent.is_disposition
    assert (intent.params, intent.call_id) == ({"disposition": disposition}, call_id)


@pytest.mark.parametrize("text", ["", "help", '"unbalanced', "x" * 300])
def test_dispo_usage_errors(text: str) -> None:
    with pytest.raises(SlackUsageError, match="/dispo"):
        parse_dispo_text(text)


def click(action_id: str, value: Any) -> dict[str, Any]:
    raw = value if isinstance(value, str) else orjson.dumps(value).decode()
    return {
        "type": "block_actions",
        "user": {"id": "U1"},
        "actions": [{"action_id": action_id, "value": raw}],
    }


def test_our_buttons_become_intents_for_the_agent_they_name() -> None:
    assert parse_block_action(click(f"{ACTION_READY}:0", {"agent": "a1"})) == SlackIntent(
        "agent.ready", summary="Ready", for_agent="a1"
    )
    assert parse_block_action(click(f"{ACTION_NOT_READY}:1", {"agent": "a1"})).action == "agent.not_ready"  # type: ignore[union-attr]
    dispo = parse_block_action(
        click(f"{ACTION_DISPOSITION}:3", {"agent": "a1", "call_id": "c1", "disposition": "X"})
    )
    assert dispo is not None
    assert (dispo.action, dispo.params, dispo.call_id, dispo.for_agent) == (
        "call.set_disposition",
        {"disposition": "X"},
        "c1",
        "a1",
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "view_submission"},
        click("someone_elses_button", {"agent": "a1"}),
        click(f"{ACTION_READY}:0", "not json"),
        click(f"{ACTION_READY}:0", {"no_agent": 1}),
        click(f"{ACTION_DISPOSITION}:0", {"agent": "a1", "disposition": "X"}),
        {"type": "block_actions", "actions": []},
    ],
)
def test_other_payloads_are_ignored(payload: dict[str, Any]) -> None:
    assert parse_block_action(payload) is None


def test_settings_never_echo_the_signing_secret() -> None:
    settings = SlackInboundSettings(signing_secret="s3cret-value", users={"U1": "agent0001"})
    assert "s3cret-value" not in repr(settings)
    with pytest.raises(ValueError) as caught:
        SlackInboundSettings(signing_secret="   ")
    assert "empty" in str(caught.value)
    with pytest.raises(ValueError):
        SlackInboundSettings(signing_secret="x", users={"U 1": "agent"})
