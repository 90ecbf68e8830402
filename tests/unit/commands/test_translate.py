"""The one translator: every action becomes the exact GWS request, and bad input is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.commands import (
    ACTIONS,
    AgentContext,
    AgentStateDefinition,
    Dialect,
    GwsRequest,
    Need,
    build_command,
    requirements,
    translate,
)
from bridge.errors import CommandError
from bridge.gws.operations.request import FileUpload

FIXTURES = Path(__file__).parents[2] / "fixtures" / "inbound"


def _agent_states() -> tuple[AgentStateDefinition, ...]:
    reply = json.loads((FIXTURES / "rest_get_settings_agent_states_response.json").read_text())
    return tuple(AgentStateDefinition.from_gws(item) for item in reply["settings"])


def _dispositions() -> frozenset[str]:
    reply = json.loads((FIXTURES / "rest_get_settings_dispositions_response.json").read_text())
    return frozenset(item["name"] for item in reply["settings"])


CONTEXT = AgentContext(
    base_url="http://gws:8080", device_id="dev-1", agent_states=_agent_states(), dispositions=_dispositions()
)

CASES: list[tuple[str, dict[str, Any], GwsRequest]] = [
    ("agent.ready", {}, GwsRequest("POST", "/me/channels/voice", {"operationName": "Ready"})),
    ("agent.not_ready", {}, GwsRequest("POST", "/me/channels/voice", {"operationName": "NotReady"})),
    (
        "agent.not_ready",
        {"reason": "Training"},
        GwsRequest("POST", "/me/channels/voice", {"operationName": "Training"}),
    ),
    (
        "agent.not_ready",
        {"work_mode": "AfterCallWork"},
        GwsRequest("POST", "/me/channels/voice", {"operationName": "AfterCallWork"}),
    ),
    (
        "agent.after_call_work",
        {},
        GwsRequest("POST", "/me/channels/voice", {"operationName": "AfterCallWork"}),
    ),
    ("agent.aux_work", {}, GwsRequest("POST", "/me/channels/voice", {"operationName": "AuxWork"})),
    ("agent.offline", {}, GwsRequest("POST", "/me/channels/voice", {"operationName": "Offline"})),
    (
        "agent.state",
        {"operation": "Training"},
        GwsRequest("POST", "/me/channels/voice", {"operationName": "Training"}),
    ),
    ("agent.dnd", {"on": True}, GwsRequest("POST", "/me", {"operationName": "DoNotDisturbOn"})),
    ("agent.dnd", {"on": False}, GwsRequest("POST", "/me", {"operationName": "DoNotDisturbOff"})),
    (
        "channel.state",
        {"channel": "email", "state": "NotReady"},
        GwsRequest("POST", "/me/channels/email", {"operationName": "NotReady"}),
    ),
    (
        "call.set_disposition",
        {"call_id": "c1", "disposition": "IssueResolved", "key": "DispositionCode"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {
                "operationName": "SetCallDisposition",
                "disposition": "IssueResolved",
                "dispositionKey": "DispositionCode",
                "callUri": "http://gws:8080/api/v2/me/calls/c1",
            },
        ),
    ),
    (
        "call.set_disposition",
        {"call_uuid": "UUID1", "disposition": "IssueResolved"},
        GwsRequest(
            "POST",
            "/me/devices/dev-1",
            {"operationName": "SetCallDisposition", "disposition": "IssueResolved", "callUuid": "UUID1"},
        ),
    ),
    ("call.answer", {"call_id": "c1"}, GwsRequest("POST", "/me/calls/c1", {"operationName": "Answer"})),
    ("call.reject", {"call_id": "c1"}, GwsRequest("POST", "/me/calls/c1", {"operationName": "Reject"})),
    ("call.hangup", {"call_id": "c1"}, GwsRequest("POST", "/me/calls/c1", {"operationName": "Hangup"})),
    ("call.hold", {"call_id": "c1"}, GwsRequest("POST", "/me/calls/c1", {"operationName": "Hold"})),
    ("call.retrieve", {"call_id": "c1"}, GwsRequest("POST", "/me/calls/c1", {"operationName": "Retrieve"})),
    (
        "call.dial",
        {"destination": "5551212", "user_data": {"case": "42"}},
        GwsRequest(
            "POST",
            "/me/devices/dev-1/calls",
            {"operationName": "Dial", "destination": {"phoneNumber": "5551212"}, "userData": {"case": "42"}},
        ),
    ),
    (
        "call.send_dtmf",
        {"call_id": "c1", "digits": "12#"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "SendDtmf", "digits": "12#"}),
    ),
    (
        "call.attach_data",
        {"call_id": "c1", "user_data": {"a": 1}},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "AttachUserData", "userData": {"a": 1}}),
    ),
    (
        "call.update_data",
        {"call_id": "c1", "user_data": {"a": 2}},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "UpdateUserData", "userData": {"a": 2}}),
    ),
    (
        "call.delete_data",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "DeleteUserData"}),
    ),
    (
        "call.delete_data",
        {"call_id": "c1", "key": "a"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "DeleteUserDataPair", "key": "a"}),
    ),
    (
        "call.transfer",
        {"call_id": "c1", "destination": "5002"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "SingleStepTransfer", "destination": {"phoneNumber": "5002"}},
        ),
    ),
    (
        "call.initiate_transfer",
        {"call_id": "c1", "destination": "5002"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "InitiateTransfer", "destination": {"phoneNumber": "5002"}},
        ),
    ),
    (
        "call.complete_transfer",
        {"call_id": "c2"},
        GwsRequest("POST", "/me/calls/c2", {"operationName": "CompleteTransfer"}),
    ),
    (
        "call.conference",
        {"call_id": "c1", "destination": "5003"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "SingleStepConference", "destination": {"phoneNumber": "5003"}},
        ),
    ),
    (
        "call.initiate_conference",
        {"call_id": "c1", "destination": "5003"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "InitiateConference", "destination": {"phoneNumber": "5003"}},
        ),
    ),
    (
        "call.complete_conference",
        {"call_id": "c1", "consult_call_id": "c2"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "CompleteConference", "consultCallUri": "http://gws:8080/api/v2/me/calls/c2"},
        ),
    ),
    (
        "call.start_recording",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "StartCallRecording"}),
    ),
    (
        "call.stop_recording",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "StopCallRecording"}),
    ),
    (
        "call.pause_recording",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "PauseCallRecording"}),
    ),
    (
        "call.resume_recording",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "ResumeCallRecording"}),
    ),
    (
        "interaction.accept",
        {"interaction_id": "i1", "nickname": "Ann"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "Accept", "nickname": "Ann"}),
    ),
    (
        "interaction.reject",
        {"interaction_id": "i1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "Reject"}),
    ),
    (
        "interaction.complete",
        {"interaction_id": "i1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "Complete"}),
    ),
    (
        "interaction.place_in_queue",
        {"interaction_id": "i1", "queue": "q1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "PlaceInQueue", "queueName": "q1"}),
    ),
    (
        "interaction.place_in_workbin",
        {"interaction_id": "i1", "workbin": "w1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "PlaceInWorkbin", "workbin": "w1"}),
    ),
    (
        "interaction.transfer",
        {"interaction_id": "i1", "user_id": "u2"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "Transfer", "userId": "u2"}),
    ),
    (
        "interaction.update_data",
        {"interaction_id": "i1", "user_data": {"k": "v"}},
        GwsRequest(
            "POST", "/me/interactions/i1", {"operationName": "UpdateUserData", "userData": {"k": "v"}}
        ),
    ),
    (
        "workbin.pull",
        {"workbin_id": "w1", "interaction_id": "i1"},
        GwsRequest(
            "POST",
            "/me/interactions",
            {
                "operationName": "PullInteractionFromWorkbin",
                "uri": "http://gws:8080/api/v2/me/workbins/w1/interactions/i1",
            },
        ),
    ),
    (
        "session.start",
        {"channels": ["voice"], "place": "SIP_5000"},
        GwsRequest(
            "POST",
            "/me",
            {"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "SIP_5000"},
        ),
    ),
    ("session.end", {}, GwsRequest("POST", "/me", {"operationName": "EndContactCenterSession"})),
    # voice: more call control and the supervisor
    ("call.mute", {"call_id": "c1"}, GwsRequest("POST", "/me/calls/c1", {"operationName": "MuteCall"})),
    ("call.unmute", {"call_id": "c1"}, GwsRequest("POST", "/me/calls/c1", {"operationName": "UnmuteCall"})),
    (
        "call.swap",
        {"call_id": "c1", "other_call_id": "c2"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "SwapCalls", "otherCallUri": "http://gws:8080/api/v2/me/calls/c2"},
        ),
    ),
    (
        "call.merge",
        {"call_id": "c1", "other_call_id": "c2"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "MergeWithOtherCall", "otherCallUri": "http://gws:8080/api/v2/me/calls/c2"},
        ),
    ),
    (
        "call.remove_participant",
        {"call_id": "c1", "participant": "5001"},
        GwsRequest(
            "POST",
            "/me/calls/c1",
            {"operationName": "RemoveParticipantFromConference", "participant": "5001"},
        ),
    ),
    (
        "supervisor.listen_in",
        {"target_device_id": "dev-9"},
        GwsRequest(
            "POST",
            "/me/devices/dev-1",
            {"operationName": "ListenIn", "targetDeviceUri": "http://gws:8080/api/v2/devices/dev-9"},
        ),
    ),
    (
        "supervisor.coach",
        {"target_device_id": "dev-9", "scope": "Agent", "mode": "NextCall"},
        GwsRequest(
            "POST",
            "/me/devices/dev-1",
            {
                "operationName": "Coach",
                "targetDeviceUri": "http://gws:8080/api/v2/devices/dev-9",
                "supervisorMonitoringScope": "Agent",
                "supervisorMonitoringMode": "NextCall",
            },
        ),
    ),
    (
        "supervisor.barge_in",
        {"target_device_id": "dev-9"},
        GwsRequest(
            "POST",
            "/me/devices/dev-1",
            {"operationName": "BargeIn", "targetDeviceUri": "http://gws:8080/api/v2/devices/dev-9"},
        ),
    ),
    (
        "supervisor.cancel",
        {},
        GwsRequest("POST", "/me/devices/dev-1", {"operationName": "CancelSupervisorMonitoring"}),
    ),
    (
        "supervisor.switch_to_barge_in",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "SwitchToBargeIn"}),
    ),
    (
        "supervisor.switch_to_listen_in",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "SwitchToListenIn"}),
    ),
    (
        "supervisor.mute_agent",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "MuteMonitoredUser"}),
    ),
    (
        "supervisor.unmute_agent",
        {"call_id": "c1"},
        GwsRequest("POST", "/me/calls/c1", {"operationName": "UnmuteMonitoredUser"}),
    ),
    # agent
    ("agent.all_channels", {"state": "NotReady"}, GwsRequest("POST", "/me", {"operationName": "NotReady"})),
    (
        "channel.dnd",
        {"channel": "chat", "on": True},
        GwsRequest("POST", "/me/channels/chat", {"operationName": "DoNotDisturbOn"}),
    ),
    (
        "device.dnd",
        {"on": False},
        GwsRequest("POST", "/me/devices/dev-1", {"operationName": "DoNotDisturbOff"}),
    ),
    (
        "device.forward_on",
        {"destination": "5009"},
        GwsRequest("POST", "/me/devices/dev-1", {"operationName": "ForwardCallsOn", "destination": "5009"}),
    ),
    ("device.forward_off", {}, GwsRequest("POST", "/me/devices/dev-1", {"operationName": "ForwardCallsOff"})),
    (
        "agent.change_password",
        {"old_password": "1", "new_password": "2"},
        GwsRequest(
            "POST", "/me", {"operationName": "ChangePassword", "oldPassword": "MQ==", "newPassword": "Mg=="}
        ),
    ),
    # chat
    (
        "chat.send_message",
        {"interaction_id": "i1", "text": "Hello"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "SendMessage", "text": "Hello"}),
    ),
    (
        "chat.typing_started",
        {"interaction_id": "i1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "SendStartTypingNotification"}),
    ),
    (
        "chat.typing_stopped",
        {"interaction_id": "i1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "SendStopTypingNotification"}),
    ),
    (
        "chat.invite",
        {"interaction_id": "i1", "agent_id": "agent0002"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "InviteUser", "agentId": "agent0002"}),
    ),
    (
        "chat.leave",
        {"interaction_id": "i1", "agent_id": "agent0001"},
        GwsRequest(
            "POST", "/me/interactions/i1", {"operationName": "LeaveConference", "agentId": "agent0001"}
        ),
    ),
    (
        "chat.end",
        {"interaction_id": "i1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "EndChatSession"}),
    ),
    (
        "chat.history",
        {"interaction_id": "i1", "event_id": "e7"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "RequestChatHistory", "eventId": "e7"}),
    ),
    (
        "interaction.attach_data",
        {"interaction_id": "i1", "user_data": {"k": "v"}},
        GwsRequest(
            "POST", "/me/interactions/i1", {"operationName": "AttachUserData", "userData": {"k": "v"}}
        ),
    ),
    (
        "interaction.delete_data",
        {"interaction_id": "i1", "keys": ["k"]},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "DeleteUserData", "userData": {"k": ""}}),
    ),
    (
        "interaction.cancel",
        {"interaction_id": "i1"},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "Cancel"}),
    ),
    # e-mail
    (
        "email.reply",
        {"interaction_id": "i1", "queue": "q1", "quote_original": True},
        GwsRequest(
            "POST",
            "/me/interactions/i1",
            {"operationName": "Reply", "queueName": "q1", "quoteOriginal": "true"},
        ),
    ),
    (
        "email.reply_all",
        {"interaction_id": "i1", "subject_prefix": "Re: "},
        GwsRequest("POST", "/me/interactions/i1", {"operationName": "ReplyAll", "subjectPrefix": "Re:"}),
    ),
    (
        "email.send",
        {"interaction_id": "i1", "to": "ann@example.com", "subject": "Hi", "text": "Body", "queue": "q1"},
        GwsRequest(
            "POST",
            "/me/interactions/i1",
            {
                "operationName": "Send",
                "queueName": "q1",
                "email_object": {"toAddress": "ann@example.com", "subject": "Hi", "text": "Body"},
            },
        ),
    ),
    (
        "email.attach_file",
        {
            "interaction_id": "i1",
            "file_name": "case 42.txt",
            "content": "Y2FzZSA0Mg==",
            "mime_type": "text/plain",
        },
        GwsRequest(
            "POST",
            "/me/interactions/i1/attachments",
            upload=FileUpload("attachment", "case 42.txt", "text/plain", b"case 42"),
        ),
    ),
    (
        "email.delete_attachment",
        {"interaction_id": "i1", "attachment_id": "00009a8T8Y13002S"},
        GwsRequest("DELETE", "/me/interactions/i1/attachments/00009a8T8Y13002S"),
    ),
    (
        "email.create",
        {"queue": "q1"},
        GwsRequest(
            "POST",
            "/me/interactions",
            {
                "operationName": "Create",
                "queueName": "q1",
                "interactionType": "Outbound",
                "interactionSubType": "OutboundNew",
            },
        ),
    ),
    # workbins
    ("workbin.list", {}, GwsRequest("GET", "/me/workbins")),
    (
        "workbin.content",
        {"workbin_id": "w1"},
        GwsRequest("GET", "/me/workbins/w1/interactions", params={"fields": "*"}),
    ),
    (
        "workbin.add",
        {"workbin_id": "w1", "interaction_id": "i1"},
        GwsRequest("POST", "/me/workbins/w1/interactions", {"interactionId": "i1"}),
    ),
]


@pytest.mark.parametrize(
    ("action", "params", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_action_becomes_the_exact_gws_request(
    action: str, params: dict[str, Any], expected: GwsRequest
) -> None:
    command = build_command(agent="agent0001", action=action, params=params)
    request, _rule = translate(command, CONTEXT)
    assert request == expected


def test_every_action_has_a_translation_case() -> None:
    assert {case[0] for case in CASES} == set(ACTIONS)


def test_unknown_action_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(CommandError) as info:
        build_command(agent="a", action="call.explode")
    assert info.value.status == 422
    assert "call.hold" in info.value.errors[0]["valid"]


def test_invalid_params_give_one_error_per_field() -> None:
    with pytest.raises(CommandError) as info:
        build_command(
            agent="a", action="call.send_dtmf", params={"call_id": "../etc", "digits": "abc", "x": 1}
        )
    locations = {tuple(error["loc"]) for error in info.value.errors}
    assert locations == {("params", "call_id"), ("params", "digits"), ("params", "x")}


def test_disposition_needs_a_call_reference() -> None:
    with pytest.raises(CommandError) as info:
        build_command(agent="a", action="call.set_disposition", params={"disposition": "IssueResolved"})
    assert "call_id or call_uuid" in str(info.value.errors)


def test_unknown_custom_agent_state_lists_the_valid_operations() -> None:
    command = build_command(agent="a", action="agent.state", params={"operation": "Napping"})
    with pytest.raises(CommandError) as info:
        translate(command, CONTEXT)
    assert info.value.status == 422
    assert info.value.errors[0]["valid"] == [
        "AfterCallWork",
        "AuxWork",
        "NotReady",
        "Offline",
        "Ready",
        "Training",
    ]
    assert "Training" in str(info.value)


def test_unknown_disposition_is_refused_listing_the_valid_ones() -> None:
    command = build_command(
        agent="a", action="call.set_disposition", params={"call_id": "c1", "disposition": "Nope"}
    )
    with pytest.raises(CommandError) as info:
        translate(command, CONTEXT)
    assert "IssueResolved" in info.value.errors[0]["valid"]


def test_disposition_is_not_checked_when_gws_defines_none() -> None:
    command = build_command(
        agent="a", action="call.set_disposition", params={"call_id": "c1", "disposition": "Any"}
    )
    request, _ = translate(command, AgentContext(base_url="http://g"))
    assert request.body is not None and request.body["disposition"] == "Any"


def test_a_disposition_files_a_note_naming_the_call_and_the_key() -> None:
    # GWS sends no notification for a disposition on a released call: the subscriber reports it
    command = build_command(
        agent="a",
        action="call.set_disposition",
        params={"call_uuid": "UUID1", "disposition": "IssueResolved"},
    )
    _, rule = translate(command, CONTEXT)
    assert rule.note is not None
    assert rule.note["data"] == {
        "messageType": "GwsBridgeNote",
        "note": "DispositionSet",
        "callId": None,
        "callUuid": "UUID1",
        "dispositionKey": "DispositionCode",
        "disposition": "IssueResolved",
    }
    keyed = build_command(
        agent="a",
        action="call.set_disposition",
        params={"call_id": "c1", "disposition": "Any", "key": "WrapUp"},
    )
    _, rule = translate(keyed, AgentContext(base_url="http://g"))
    assert rule.note is not None and rule.note["data"]["dispositionKey"] == "WrapUp"
    assert rule.note["data"]["callId"] == "c1"


def test_not_ready_with_an_unknown_reason_is_refused() -> None:
    command = build_command(agent="a", action="agent.not_ready", params={"reason": "Coffee"})
    with pytest.raises(CommandError, match="Coffee"):
        translate(command, CONTEXT)


def test_dial_without_a_device_is_a_conflict() -> None:
    command = build_command(agent="a", action="call.dial", params={"destination": "5001"})
    with pytest.raises(CommandError) as info:
        translate(command, AgentContext())
    assert info.value.status == 409


def test_requirements_name_what_gws_must_tell_first() -> None:
    assert requirements(build_command(agent="a", action="agent.state", params={"operation": "X"})) == {
        Need.AGENT_STATES
    }
    assert Need.DEVICE in requirements(
        build_command(agent="a", action="call.dial", params={"destination": "1"})
    )
    assert requirements(build_command(agent="a", action="call.hold", params={"call_id": "c"})) == frozenset()


def test_command_records_dialect_and_idempotency_key() -> None:
    command = build_command(agent="a", action="agent.ready", idempotency_key="k1", dialect=Dialect.CTI)
    assert (command.idempotency_key, command.dialect, len(command.id)) == ("k1", Dialect.CTI, 32)


def test_voice_operations_wait_for_cometd_and_interactions_do_not() -> None:
    _, hold = translate(build_command(agent="a", action="call.hold", params={"call_id": "c1"}), CONTEXT)
    _, accept = translate(
        build_command(agent="a", action="interaction.accept", params={"interaction_id": "i"}), CONTEXT
    )
    assert (hold.synchronous, hold.call_id, hold.call_states) == (False, "c1", frozenset({"Held"}))
    assert accept.synchronous


def test_a_custom_agent_state_may_be_named_by_display_name_or_reason_code() -> None:
    def sent(**params: object) -> object:
        request, _ = translate(build_command(agent="a", action="agent.state", params=params), CONTEXT)
        return request.body

    assert sent(operation="not ready") == {"operationName": "NotReady"}  # display name, any case
    assert sent(operation="training", not_ready=True) == {"operationName": "Training"}  # reason code
    with pytest.raises(CommandError):  # Offline is not a Not Ready state
        sent(operation="Offline", not_ready=True)


def test_a_password_never_shows_in_the_command_repr_nor_in_a_validation_error() -> None:
    command = build_command(
        agent="a",
        action="agent.change_password",
        params={"old_password": "s3cret-old", "new_password": "s3cret-new"},
    )
    request, rule = translate(command, CONTEXT)
    # settled by GWS's /v2/me PasswordChangeSuccessful / PasswordChangeError, not the reply
    assert rule.password_change and not rule.synchronous and request.body is not None
    assert "s3cret" not in repr(rule)
    assert "s3cret" not in repr(ACTIONS["agent.change_password"].params.model_validate(command.params))
    with pytest.raises(CommandError) as info:
        build_command(
            agent="a",
            action="agent.change_password",
            params={"old_password": "s3cret-old", "new_password": 7},
        )
    assert "s3cret" not in str(info.value.errors) and info.value.errors[0]["loc"] == [
        "params",
        "new_password",
    ]


def test_new_voice_and_supervisor_actions_wait_for_what_the_seeds_say() -> None:
    def rule(action: str, **params: object) -> object:
        return translate(build_command(agent="a", action=action, params=params), CONTEXT)[1]

    swap = rule("call.swap", call_id="c1", other_call_id="c2")
    assert (swap.call_id, swap.call_states) == ("c1", frozenset({"Held"}))
    assert rule("call.mute", call_id="c1").call_attribute == ("mute", "On")
    assert rule("supervisor.coach", target_device_id="d9").device_attribute == (
        "supervisorMonitoringState.state",
        "Coach",
    )
    assert rule("device.forward_off").device_attribute == ("forwardTo", None)
    assert rule("chat.send_message", interaction_id="i1", text="x").synchronous


def examples_by_action() -> dict[str, list[dict[str, Any]]]:
    """Every action's params from :data:`CASES` (each action has at least one)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for action, params, _ in CASES:
        found.setdefault(action, []).append(params)
    return found


def test_every_operation_of_the_seeds_is_an_action_or_says_why_not() -> None:
    from bridge.commands.actions import WITHOUT_ACTION
    from bridge.gws.operations.builders import OPERATIONS
    from tests.unit.commands.operations_doc import actions_by_operation

    by_operation = actions_by_operation(examples_by_action())
    missing = set(OPERATIONS) - set(by_operation) - set(WITHOUT_ACTION)
    assert not missing, f"operations with neither an action nor a reason: {sorted(missing)}"
    assert not set(by_operation) & set(WITHOUT_ACTION)


def test_the_operation_table_in_docs_commands_md_is_generated_from_the_code() -> None:
    from tests.unit.commands.operations_doc import DOC, rendered

    doc = DOC.read_text(encoding="utf-8")
    assert doc == rendered(doc, examples_by_action()), (
        "docs/commands.md is stale: .venv/bin/python -m tests.unit.commands.operations_doc"
    )


def test_the_cti_mapping_table_is_what_the_dialect_does() -> None:
    from bridge.inbound.cti import CTI_ACTIONS

    assert {action for actions in CTI_ACTIONS.values() for action in actions} <= set(ACTIONS)
