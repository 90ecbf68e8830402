"""Voice calls over real HTTP: every call operation, its reply, and the notifications it publishes
compared with the seed samples."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.simulator.shapes import assert_same_shape, sample
from tests.plugins.simulator import AgentClient, SimulatorHandle

S0 = {"statusCode": 0}


def call_messages(simulator: SimulatorHandle, agent: str, call_id: str | None = None) -> list[dict[str, Any]]:
    return [
        n
        for n in simulator.notifications(agent, "/v2/me/calls")
        if call_id is None or n["data"].get("call", {}).get("id") == call_id
    ]


def last_call(simulator: SimulatorHandle, agent: str, call_id: str) -> dict[str, Any]:
    return call_messages(simulator, agent, call_id)[-1]


async def op(client: AgentClient, call_id: str, body: dict[str, Any]) -> None:
    status, reply = await client.post(f"/me/calls/{call_id}", body)
    assert (status, reply) == (200, S0), body


@pytest.fixture
async def agent(simulator: SimulatorHandle) -> Any:
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        yield client


async def test_inbound_call_rings_with_toast_then_answer_shows_case(simulator, agent):
    call_id = await simulator.start_call(
        "agent0001", user_data={"CustomerName": "Chris", "POC": "New Service"}
    )
    ringing = last_call(simulator, "agent0001", call_id)
    assert_same_shape(ringing, "cometd_call_StatusChange_Ringing_toast")
    call = ringing["data"]["call"]
    assert call["state"] == "Ringing"
    assert "Answer" in call["capabilities"] and "Hangup" not in call["capabilities"]
    assert call["toast"] == [{"key": "CustomerName", "displayName": "Customer", "value": "Chris"}]
    assert call["participantsInfo"] == [
        {"digits": "5551234", "e164Number": "5551234", "formattedPhoneNumber": "5551234"}
    ]
    assert len(call["id"]) == 32 and call["callUuid"]
    assert ringing["data"]["phoneNumber"] == "5001"

    await op(agent, call_id, {"operationName": "Answer"})
    established = last_call(simulator, "agent0001", call_id)
    assert_same_shape(established, "cometd_call_StatusChange_Established_case")
    assert established["data"]["call"]["state"] == "Established"
    assert [c["key"] for c in established["data"]["call"]["case"]] == ["CustomerName", "POC"]
    assert "toast" not in established["data"]["call"]


async def test_hold_retrieve_dtmf_hangup(simulator, agent):
    call_id = await simulator.start_call("agent0001")
    await op(agent, call_id, {"operationName": "Answer"})
    await op(agent, call_id, {"operationName": "Hold"})
    held = last_call(simulator, "agent0001", call_id)
    assert_same_shape(held, "cometd_call_StatusChange_Held_Hold")
    assert held["data"]["call"]["state"] == "Held" and "Retrieve" in held["data"]["call"]["capabilities"]
    await op(agent, call_id, {"operationName": "Retrieve"})
    assert last_call(simulator, "agent0001", call_id)["data"]["call"]["state"] == "Established"
    await op(agent, call_id, {"operationName": "SendDtmf", "digits": "7"})
    dtmf = last_call(simulator, "agent0001", call_id)
    assert_same_shape(dtmf, "cometd_call_DtmfSent_Established_SendDtmf")
    assert dtmf["data"]["notificationType"] == "DtmfSent"
    await op(agent, call_id, {"operationName": "Hangup"})
    released = last_call(simulator, "agent0001", call_id)
    assert_same_shape(released, "cometd_call_StatusChange_Released_Hangup")
    assert released["data"]["call"]["capabilities"] == []


async def test_operation_not_allowed_in_state_is_accepted_then_reported(simulator, agent):
    call_id = await simulator.start_call("agent0001")
    await op(agent, call_id, {"operationName": "Hold"})  # Hold on a Ringing call
    error = simulator.notifications("agent0001", "/v2/me/calls")[-1]
    assert_same_shape(error, "cometd_error_call_IncorrectObjectState")
    assert error["data"]["errorMessage"] == "Incorrect object state"
    assert error["data"]["callUri"].endswith(f"/api/v2/calls/{call_id}")
    await op(agent, call_id, {"operationName": "Answer"})
    await op(agent, call_id, {"operationName": "Answer"})  # Answer on an Established call
    assert simulator.notifications("agent0001", "/v2/me/calls")[-1]["data"]["messageType"] == "ErrorMessage"


async def test_synchronous_failures_use_status_code_envelope(simulator, agent):
    status, body = await agent.post("/me/calls/0123456789abcdef0123456789abcdef", {"operationName": "Answer"})
    assert status == 404 and body["statusCode"] == 6 and set(body) == {"statusCode", "statusMessage"}
    call_id = await simulator.start_call("agent0001")
    status, body = await agent.post(f"/me/calls/{call_id}", {"operationName": "SendDtmf"})
    assert (status, body["statusCode"]) == (400, 1)
    status, body = await agent.post(f"/me/calls/{call_id}", {"operationName": "Levitate"})
    assert (status, body["statusCode"]) == (400, 2)
    await simulator.set_service("Voice", "Inactive")
    status, body = await agent.post(f"/me/calls/{call_id}", {"operationName": "Answer"})
    assert (status, body) == (503, sample("rest_voice_error_http503"))


async def test_user_data_operations(simulator, agent):
    call_id = await simulator.start_call("agent0001", user_data={"CustomerName": "Willard"})
    await op(agent, call_id, {"operationName": "Answer"})
    await op(agent, call_id, {"operationName": "AttachUserData", "userData": {"Colors": "Blue"}})
    attached = last_call(simulator, "agent0001", call_id)
    assert_same_shape(attached, "cometd_call_AttachedDataChanged_Established_AttachUserData")
    assert attached["data"]["notificationType"] == "AttachedDataChanged"
    assert attached["data"]["call"]["userData"] == {"CustomerName": "Willard", "Colors": "Blue"}
    await op(agent, call_id, {"operationName": "UpdateUserData", "userData": {"CustomerSegment": "Platinum"}})
    await op(agent, call_id, {"operationName": "DeleteUserDataPair", "key": "Colors"})
    pair = last_call(simulator, "agent0001", call_id)
    assert_same_shape(pair, "cometd_call_AttachedDataChanged_Established_DeleteUserDataPair")
    assert pair["data"]["call"]["userData"] == {"CustomerName": "Willard", "CustomerSegment": "Platinum"}
    await op(agent, call_id, {"operationName": "DeleteUserData"})
    assert "userData" not in last_call(simulator, "agent0001", call_id)["data"]["call"]  # quirk D4


async def test_set_call_disposition_on_call_and_device_and_after_release(simulator, agent):
    call_id = await simulator.start_call("agent0001")
    await op(agent, call_id, {"operationName": "Answer"})
    await op(agent, call_id, {"operationName": "SetCallDisposition", "disposition": "IssueResolved"})
    disposed = last_call(simulator, "agent0001", call_id)
    assert_same_shape(disposed, "cometd_call_AttachedDataChanged_Established_SetCallDisposition")
    assert disposed["data"]["call"]["userData"] == {"DispositionCode": "IssueResolved"}

    await op(agent, call_id, {"operationName": "Hangup"})
    published = len(simulator.notifications("agent0001"))
    device_id = simulator.sim.state.users["agent0001"].device.id
    call = simulator.sim.state.calls[call_id]
    body = {
        "operationName": "SetCallDisposition",
        "callUri": f"{simulator.base_url}/api/v2/calls/{call_id}",
        "callUuid": call.call_uuid,
        "disposition": "UpdateProvided",
        "dispositionKey": "Outcome",
    }
    status, reply = await agent.post(f"/me/devices/{device_id}", body)
    assert (status, reply) == (200, sample("rest_SetCallDisposition_response"))
    assert len(simulator.notifications("agent0001")) == published  # released: no notification
    status, calls = await agent.get("/me/calls?fields=*")
    released = next(c for c in calls["calls"] if c["id"] == call_id)
    assert released["state"] == "Released"
    assert released["userData"] == {"DispositionCode": "IssueResolved", "Outcome": "UpdateProvided"}


async def test_released_calls_expire_after_retention(simulator_factory):
    handle = await simulator_factory(released_retention=0.2)
    async with handle.agent_client("agent0001") as client:
        await client.login()
        call_id = await handle.start_call("agent0001")
        await handle.release_call(call_id)
        _, calls = await client.get("/me/calls?fields=*")
        assert [c["state"] for c in calls["calls"]] == ["Released"]
        await asyncio.sleep(0.3)
        _, calls = await client.get("/me/calls")
        assert calls == {"statusCode": 0, "uris": []}


async def test_dial_internal_rings_other_agent_and_answer_connects_both(simulator, agent):
    device_id = simulator.sim.state.users["agent0001"].device.id
    status, reply = await agent.post(
        f"/me/devices/{device_id}/calls",
        {
            "operationName": "Dial",
            "destination": {"phoneNumber": "5002"},
            "userData": {"CustomerSegment": "Gold"},
        },
    )
    assert (status, reply) == (200, sample("rest_Dial_response_sample2"))
    dialing = simulator.notifications("agent0001", "/v2/me/calls")[-1]
    assert_same_shape(dialing, "cometd_call_StatusChange_Dialing_Dial_sample2_userData")
    assert dialing["data"]["call"]["state"] == "Dialing" and dialing["data"]["call"]["callType"] == "Internal"
    ringing = simulator.notifications("agent0002", "/v2/me/calls")[-1]["data"]["call"]
    assert ringing["state"] == "Ringing" and ringing["participants"] == ["5001"]
    assert ringing["userData"] == {"CustomerSegment": "Gold"}
    async with simulator.agent_client("agent0002") as other:
        await other.login()
        await op(other, ringing["id"], {"operationName": "Answer"})
        assert last_call(simulator, "agent0001", dialing["data"]["call"]["id"])["data"]["call"]["state"] == (
            "Established"
        )
        await op(other, ringing["id"], {"operationName": "Hangup"})
    assert (
        last_call(simulator, "agent0001", dialing["data"]["call"]["id"])["data"]["call"]["state"]
        == "Released"
    )


async def test_dial_external_is_answered_by_the_remote_party(simulator, agent):
    device_id = simulator.sim.state.users["agent0001"].device.id
    await agent.post(
        f"/me/devices/{device_id}/calls", {"operationName": "Dial", "destination": {"phoneNumber": "5550100"}}
    )
    call_id = simulator.notifications("agent0001", "/v2/me/calls")[-1]["data"]["call"]["id"]
    message = await simulator.wait_for_notification(
        lambda n: (
            n["data"].get("call", {}).get("id") == call_id and n["data"]["call"]["state"] == "Established"
        ),
        user="agent0001",
    )
    assert message["data"]["call"]["callType"] == "Outbound"


async def test_dial_own_number_reports_invalid_called_dn_on_devices(simulator, agent):
    device_id = simulator.sim.state.users["agent0001"].device.id
    status, _ = await agent.post(
        f"/me/devices/{device_id}/calls", {"operationName": "Dial", "destination": {"phoneNumber": "5001"}}
    )
    assert status == 200
    error = simulator.notifications("agent0001", "/v2/me/devices")[-1]
    assert_same_shape(error, "cometd_error_device_InvalidCalledDn")


async def test_two_step_transfer_to_another_agent(simulator, agent):
    call_id = await simulator.start_call("agent0001", from_="5550123")
    await op(agent, call_id, {"operationName": "Answer"})
    await op(agent, call_id, {"operationName": "InitiateTransfer", "destination": {"phoneNumber": "5002"}})
    held = last_call(simulator, "agent0001", call_id)
    assert_same_shape(held, "cometd_call_StatusChange_Held_InitiateTransfer")
    consult = simulator.notifications("agent0001", "/v2/me/calls")[-1]["data"]["call"]
    assert_same_shape(
        simulator.notifications("agent0001", "/v2/me/calls")[-1],
        "cometd_call_StatusChange_Dialing_transferScenarioA_4",
    )
    assert consult["callType"] == "Consult" and consult["parentCallUri"].endswith(call_id)
    assert {"SwapCalls", "CompleteTransfer"} <= set(consult["capabilities"])
    far = simulator.notifications("agent0002", "/v2/me/calls")[-1]["data"]["call"]
    async with simulator.agent_client("agent0002") as other:
        await other.login()
        await op(other, far["id"], {"operationName": "Answer"})
    await op(agent, consult["id"], {"operationName": "CompleteTransfer"})
    original = last_call(simulator, "agent0001", call_id)
    assert_same_shape(original, "cometd_call_StatusChange_Released_transferScenarioA_5")
    released_consult = last_call(simulator, "agent0001", consult["id"])
    assert_same_shape(released_consult, "cometd_call_StatusChange_Released_transferScenarioA_6")
    transferred = last_call(simulator, "agent0002", far["id"])
    assert transferred["data"]["notificationType"] == "ParticipantsUpdated"
    assert transferred["data"]["call"]["participants"] == ["5550123"]


async def test_two_step_conference_and_participants_updated(simulator, agent):
    call_id = await simulator.start_call("agent0001", from_="5550123")
    await op(agent, call_id, {"operationName": "Answer"})
    await op(
        agent, call_id, {"operationName": "InitiateConference", "destination": {"phoneNumber": "5550999"}}
    )
    consult = simulator.notifications("agent0001", "/v2/me/calls")[-1]["data"]["call"]
    assert_same_shape(
        simulator.notifications("agent0001", "/v2/me/calls")[-1],
        "cometd_call_StatusChange_Dialing_InitiateConference_consult",
    )
    await op(agent, call_id, {"operationName": "CompleteConference"})
    assert_same_shape(
        last_call(simulator, "agent0001", consult["id"]),
        "cometd_call_StatusChange_Released_CompleteConference_consult",
    )
    updated = last_call(simulator, "agent0001", call_id)
    assert_same_shape(updated, "cometd_call_ParticipantsUpdated_Established_CompleteConference")
    call = updated["data"]["call"]
    assert call["state"] == "Established" and call["participants"] == ["5550123", "5550999"]
    assert {"MuteCall", "RemoveParticipantFromConference"} <= set(call["capabilities"])
    await op(agent, call_id, {"operationName": "RemoveParticipantFromConference", "participant": "5550999"})
    assert last_call(simulator, "agent0001", call_id)["data"]["call"]["participants"] == ["5550123"]


async def test_single_step_conference_and_transfer(simulator, agent):
    call_id = await simulator.start_call("agent0001", from_="5550123")
    await op(agent, call_id, {"operationName": "Answer"})
    await op(
        agent,
        call_id,
        {
            "operationName": "SingleStepConference",
            "destination": {"phoneNumber": "5550999"},
            "userData": {"AccountNumber": "12345"},
        },
    )
    conf = last_call(simulator, "agent0001", call_id)
    assert_same_shape(conf, "cometd_call_ParticipantsUpdated_Established_SingleStepConference_sample2")
    assert conf["data"]["call"]["userData"] == {"AccountNumber": "12345", "FirstConferencePartyDN": "5001"}
    await op(
        agent,
        call_id,
        {
            "operationName": "SingleStepTransfer",
            "destination": {"phoneNumber": "5003"},
            "userData": {"TransferReason": "Escalation"},
        },
    )
    released = last_call(simulator, "agent0001", call_id)
    assert_same_shape(released, "cometd_call_StatusChange_Released_SingleStepTransfer_sample2")
    assert released["data"]["call"]["userData"]["TransferReason"] == "Escalation"
    ringing = simulator.notifications("agent0003", "/v2/me/calls")[-1]["data"]["call"]
    assert ringing["state"] == "Ringing" and ringing["userData"]["TransferReason"] == "Escalation"


async def test_swap_and_merge_calls(simulator, agent):
    first = await simulator.start_call("agent0001", from_="5550001")
    await op(agent, first, {"operationName": "Answer"})
    await op(agent, first, {"operationName": "Hold"})
    second = await simulator.start_call("agent0001", from_="5550002")
    await op(agent, second, {"operationName": "Answer"})
    await op(
        agent,
        second,
        {"operationName": "SwapCalls", "otherCallUri": f"{simulator.base_url}/api/v2/me/calls/{first}"},
    )
    assert last_call(simulator, "agent0001", second)["data"]["call"]["state"] == "Held"
    retrieved = last_call(simulator, "agent0001", first)
    assert retrieved["data"]["call"]["state"] == "Established"
    await op(agent, first, {"operationName": "MergeWithOtherCall", "otherCallUri": second})
    assert last_call(simulator, "agent0001", second)["data"]["call"]["state"] == "Released"
    assert last_call(simulator, "agent0001", first)["data"]["call"]["participants"] == ["5550001", "5550002"]


async def test_call_recording_states(simulator, agent):
    call_id = await simulator.start_call("agent0001")
    await op(agent, call_id, {"operationName": "Answer"})
    expected = [
        ("StartCallRecording", "Recording", "ON", {"PauseCallRecording", "StopCallRecording"}),
        ("PauseCallRecording", "Paused", "PAUSED", {"ResumeCallRecording", "StopCallRecording"}),
        ("ResumeCallRecording", "Recording", "ON", {"PauseCallRecording", "StopCallRecording"}),
        ("StopCallRecording", "Stopped", "OFF", {"StartCallRecording"}),
    ]
    for operation, state, flag, caps in expected:
        await op(agent, call_id, {"operationName": operation})
        message = last_call(simulator, "agent0001", call_id)["data"]
        assert set(message) == set(sample("cometd_call_CallRecordingStateChange_Paused_Pause")["data"])
        assert message["notificationType"] == "CallRecordingStateChange"
        assert (
            message["call"]["recordingState"] == state and message["call"]["userData"]["GSIP_RECORD"] == flag
        )
        assert caps <= set(message["call"]["capabilities"])
    await op(agent, call_id, {"operationName": "PauseCallRecording"})  # not recording any more
    assert simulator.notifications("agent0001", "/v2/me/calls")[-1]["data"]["messageType"] == "ErrorMessage"


async def test_mute_and_supervisor_call_operations(simulator, agent):
    call_id = await simulator.start_call("agent0001")
    await op(agent, call_id, {"operationName": "Answer"})
    await op(agent, call_id, {"operationName": "MuteCall"})
    assert last_call(simulator, "agent0001", call_id)["data"]["call"]["mute"] == "On"
    await op(agent, call_id, {"operationName": "UnmuteCall"})
    await op(agent, call_id, {"operationName": "SwitchToListenIn"})
    assert last_call(simulator, "agent0001", call_id)["data"]["call"]["mute"] == "On"
    await op(agent, call_id, {"operationName": "SwitchToBargeIn"})
    barge = last_call(simulator, "agent0001", call_id)
    assert (
        barge["data"]["call"]["mute"] == "Off" and "SwitchToListenIn" in barge["data"]["call"]["capabilities"]
    )
    await op(agent, call_id, {"operationName": "MuteMonitoredUser"})
    muted = last_call(simulator, "agent0001", call_id)
    assert_same_shape(muted, "cometd_call_MonitoredUserMutedStateChange_Mute")
    assert muted["data"]["call"]["monitoredUserMuted"] is True
    await op(agent, call_id, {"operationName": "UnmuteMonitoredUser"})
    assert last_call(simulator, "agent0001", call_id)["data"]["call"]["monitoredUserMuted"] is False


async def test_reject_releases_a_ringing_call(simulator, agent):
    call_id = await simulator.start_call("agent0001")
    await op(agent, call_id, {"operationName": "Reject"})
    assert last_call(simulator, "agent0001", call_id)["data"]["call"]["state"] == "Released"


async def test_calls_list_and_single_call_reads(simulator, agent):
    call_id = await simulator.start_call("agent0001")
    status, uris = await agent.get("/me/calls")
    assert status == 200 and uris["uris"] == [f"{simulator.base_url}/api/v2/me/calls/{call_id}"]
    status, calls = await agent.get("/me/calls?fields=*")
    assert set(calls) == set(sample("rest_get_me_calls_fields_response"))
    assert calls["calls"][0] == last_call(simulator, "agent0001", call_id)["data"]["call"] | {
        "duration": calls["calls"][0]["duration"]
    }
    status, single = await agent.get(f"/me/calls/{call_id}")
    assert status == 200 and single["call"]["id"] == call_id
    async with simulator.agent_client("agent0002") as other:
        await other.login()
        status, _ = await other.get(f"/me/calls/{call_id}")
        assert status == 404  # another agent's call
