"""Which CometD notification settles which accepted command (fixtures from the GWS documentation)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bridge.commands import AgentContext, AgentStateDefinition, build_command, translate
from bridge.inbound.outcomes import CommandStatus, OutcomeTracker, match_notification

FIXTURES = Path(__file__).parents[2] / "fixtures" / "inbound"
STATES = (
    AgentStateDefinition("Training", "Training", "NotReady", "AuxWork", "Training"),
    AgentStateDefinition("Offline", "Offline", "Logout"),
)


def _message(name: str) -> tuple[str, dict[str, Any]]:
    document = json.loads((FIXTURES / name).read_text())
    return document["channel"], document["data"]


def _rule(action: str, **params: Any):  # type: ignore[no-untyped-def]
    command = build_command(agent="a", action=action, params=params)
    return translate(command, AgentContext(base_url="http://g", device_id="d", agent_states=STATES))[1]


def test_held_notification_settles_hold_of_that_call() -> None:
    channel, data = _message("cometd_call_StatusChange_Held_Hold.json")
    outcome = match_notification(_rule("call.hold", call_id="0071023821aec013"), channel, data)
    assert outcome is not None and outcome.status is CommandStatus.SUCCEEDED
    assert match_notification(_rule("call.hold", call_id="other"), channel, data) is None
    assert match_notification(_rule("call.answer", call_id="0071023821aec013"), channel, data) is None


def test_error_message_with_call_uri_fails_the_command_on_that_call() -> None:
    channel, data = _message("cometd_error_call_IncorrectObjectState.json")
    outcome = match_notification(_rule("call.retrieve", call_id="0071023821aec021"), channel, data)
    assert outcome is not None and outcome.status is CommandStatus.FAILED
    assert outcome.error == "Incorrect object state"
    assert match_notification(_rule("call.retrieve", call_id="0071023821aec099"), channel, data) is None


def test_device_error_without_call_uri_fails_a_dial_but_not_a_call_operation() -> None:
    channel, data = _message("cometd_error_device_InvalidCalledDn.json")
    dial = match_notification(_rule("call.dial", destination="999"), channel, data)
    assert dial is not None and dial.status is CommandStatus.FAILED and dial.error == "Invalid Called Dn"
    assert match_notification(_rule("call.hold", call_id="c1"), channel, data) is None


def test_agent_state_notifications_settle_the_matching_state_only() -> None:
    channel, data = _message("cometd_device_DeviceStateChange_NotReady.json")
    assert match_notification(_rule("agent.not_ready"), channel, data) is not None
    assert match_notification(_rule("agent.ready"), channel, data) is None
    channel, aux = _message("cometd_device_DeviceStateChange_AuxWork.json")
    assert match_notification(_rule("agent.aux_work"), channel, aux) is not None
    assert match_notification(_rule("agent.after_call_work"), channel, aux) is None
    channel, training = _message("cometd_device_state_Training.json")
    assert match_notification(_rule("agent.state", operation="Training"), channel, training) is not None
    channel, offline = _message("cometd_device_DeviceStateChange_Offline.json")
    assert match_notification(_rule("agent.offline"), channel, offline) is not None


def test_dnd_is_confirmed_by_the_channel_message_nested_twice() -> None:
    channel, data = _message("cometd_channels_dnd_On.json")
    assert match_notification(_rule("agent.dnd", on=True), channel, data) is not None
    assert match_notification(_rule("agent.dnd", on=False), channel, data) is None


def test_channel_state_is_confirmed_by_that_channel() -> None:
    channel, data = _message("cometd_channels_chat_Ready.json")
    assert (
        match_notification(_rule("channel.state", channel="chat", state="Ready"), channel, data) is not None
    )
    assert match_notification(_rule("channel.state", channel="email", state="Ready"), channel, data) is None


def test_dtmf_recording_and_disposition_notifications() -> None:
    channel, dtmf = _message("cometd_call_DtmfSent_Established_SendDtmf.json")
    assert match_notification(_rule("call.send_dtmf", call_id="0071023821aec014", digits="1"), channel, dtmf)
    channel, paused = _message("cometd_call_CallRecordingStateChange_Paused_Pause.json")
    assert match_notification(_rule("call.pause_recording", call_id="0071022ec8ac8056"), channel, paused)
    assert (
        match_notification(_rule("call.resume_recording", call_id="0071022ec8ac8056"), channel, paused)
        is None
    )
    channel, disposition = _message("cometd_call_AttachedDataChanged_Established_SetCallDisposition.json")
    rule = _rule("call.set_disposition", call_id="007102385535e00e", disposition="IssueResolved")
    assert match_notification(rule, channel, disposition) is not None


def test_a_password_change_is_settled_by_the_v2_me_verdict_only() -> None:
    rule = _rule("agent.change_password", old_password="a-secret", new_password="b-secret")
    ok = match_notification(rule, "/v2/me", {"notificationType": "PasswordChangeSuccessful"})
    assert ok is not None and ok.status is CommandStatus.SUCCEEDED
    error = {
        "notificationType": "PasswordChangeError",
        "errorMessage": "Password does not meet security guidelines",
        "errorCode": 1,
    }
    refused = match_notification(rule, "/v2/me", error)
    assert refused is not None and refused.status is CommandStatus.FAILED
    assert refused.error == "Password does not meet security guidelines (errorCode 1)"
    assert match_notification(rule, *_message("cometd_call_StatusChange_Held_Hold.json")) is None
    assert match_notification(rule, "/v2/me", {"messageType": "ErrorMessage", "errorMessage": "x"}) is None


async def test_tracker_settles_the_oldest_matching_command_once() -> None:
    tracker = OutcomeTracker()
    channel, error = _message("cometd_error_device_InvalidCalledDn.json")
    first = tracker.register("a", "cmd1", _rule("call.dial", destination="1"))
    second = tracker.register("a", "cmd2", _rule("call.dial", destination="2"))
    assert tracker.feed("a", channel, error) is first
    assert (await tracker.wait(first, 1)).status is CommandStatus.FAILED
    assert tracker.has_pending("a")
    outcome = await tracker.wait(second, 0.05)
    assert outcome.status is CommandStatus.UNKNOWN
    assert not tracker.has_pending("a")


async def test_tracker_fail_all_makes_outcomes_unknown() -> None:
    tracker = OutcomeTracker()
    pending = tracker.register("a", "cmd1", _rule("call.hold", call_id="c"))
    tracker.fail_all("a", "listener died")
    outcome = await asyncio.wait_for(pending.future, 1)
    assert (outcome.status, outcome.error) == (CommandStatus.UNKNOWN, "listener died")
