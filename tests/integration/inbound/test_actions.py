"""Each action against the simulator: the exact GWS request (through /sim/log) and the settled status."""

from __future__ import annotations

from typing import Any

from tests.integration.inbound.conftest import ReceiverHandle, reason_state
from tests.plugins.simulator import SimulatorHandle


async def _posts(simulator: SimulatorHandle) -> list[tuple[str, str, Any]]:
    """The operations (not the reads) GWS received since the last call, then forget them."""
    entries = await simulator.log(clear=True)
    return [(e["method"], e["path"], e["body"]) for e in entries if e["method"] != "GET"]


async def _run(
    receiver: ReceiverHandle, simulator: SimulatorHandle, action: str, agent: str = "agent0001", **params: Any
) -> tuple[list[tuple[str, str, Any]], dict[str, Any]]:
    status, body, _ = await receiver.command(action, agent=agent, **params)
    assert status in (200, 202), (action, status, body)
    record = await receiver.status_of(body["id"], until="settled")
    return await _posts(simulator), record


async def test_agent_state_actions_send_the_voice_operations(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    voice = "/api/v2/me/channels/voice"
    with_reason = await reason_state(simulator)
    await simulator.log(clear=True)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("agent.ready", {}, "Ready"),
        ("agent.not_ready", {}, "NotReady"),
        ("agent.not_ready", {"reason": with_reason["reason"]}, with_reason["operationName"]),
        ("agent.after_call_work", {}, "AfterCallWork"),
        ("agent.aux_work", {}, "AuxWork"),
        ("agent.state", {"operation": "Training"}, "Training"),
        ("agent.ready", {}, "Ready"),
        ("agent.offline", {}, "Offline"),
    ]
    for action, params, operation in cases:
        posts, record = await _run(receiver, simulator, action, **params)
        assert posts == [("POST", voice, {"operationName": operation})], action
        assert record["status"] == "succeeded", (action, record)


async def test_dnd_and_channel_state(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    posts, record = await _run(receiver, simulator, "agent.dnd", on=True)
    assert posts == [("POST", "/api/v2/me", {"operationName": "DoNotDisturbOn"})]
    assert record["status"] == "succeeded"
    posts, record = await _run(receiver, simulator, "agent.dnd", on=False)
    assert posts == [("POST", "/api/v2/me", {"operationName": "DoNotDisturbOff"})]
    posts, record = await _run(receiver, simulator, "channel.state", channel="email", state="Ready")
    assert posts == [("POST", "/api/v2/me/channels/email", {"operationName": "Ready"})]
    assert record["status"] == "succeeded", record


async def test_call_control_and_call_data(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    call_id = await simulator.start_call("agent0001", user_data={"CustomerName": "Ann"})
    path = f"/api/v2/me/calls/{call_id}"
    await simulator.log(clear=True)
    steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("call.answer", {}, {"operationName": "Answer"}),
        ("call.hold", {}, {"operationName": "Hold"}),
        ("call.retrieve", {}, {"operationName": "Retrieve"}),
        ("call.send_dtmf", {"digits": "12#"}, {"operationName": "SendDtmf", "digits": "12#"}),
        (
            "call.attach_data",
            {"user_data": {"case": "42"}},
            {"operationName": "AttachUserData", "userData": {"case": "42"}},
        ),
        (
            "call.update_data",
            {"user_data": {"case": "43"}},
            {"operationName": "UpdateUserData", "userData": {"case": "43"}},
        ),
        ("call.delete_data", {"key": "case"}, {"operationName": "DeleteUserDataPair", "key": "case"}),
        ("call.delete_data", {}, {"operationName": "DeleteUserData"}),
        ("call.start_recording", {}, {"operationName": "StartCallRecording"}),
        ("call.pause_recording", {}, {"operationName": "PauseCallRecording"}),
        ("call.resume_recording", {}, {"operationName": "ResumeCallRecording"}),
        ("call.stop_recording", {}, {"operationName": "StopCallRecording"}),
        (
            "call.conference",
            {"destination": "5003"},
            {"operationName": "SingleStepConference", "destination": {"phoneNumber": "5003"}},
        ),
        ("call.hangup", {}, {"operationName": "Hangup"}),
    ]
    for action, params, body in steps:
        posts, record = await _run(receiver, simulator, action, call_id=call_id, **params)
        assert posts == [("POST", path, body)], action
        assert record["status"] == "succeeded", (action, record)


async def test_dial_transfer_and_consultation(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    posts, record = await _run(receiver, simulator, "call.dial", destination="5002", user_data={"case": "7"})
    assert len(posts) == 1
    method, path, body = posts[0]
    assert (method, body) == (
        "POST",
        {"operationName": "Dial", "destination": {"phoneNumber": "5002"}, "userData": {"case": "7"}},
    )
    assert path.startswith("/api/v2/me/devices/") and path.endswith("/calls")
    assert record["status"] == "succeeded", record
    call_id = record["notification"]["call"]["id"]

    inbound = await simulator.start_call("agent0003")
    await _run(receiver, simulator, "call.answer", agent="agent0003", call_id=inbound)
    posts, record = await _run(
        receiver, simulator, "call.initiate_transfer", agent="agent0003", call_id=inbound, destination="5004"
    )
    assert posts == [
        (
            "POST",
            f"/api/v2/me/calls/{inbound}",
            {"operationName": "InitiateTransfer", "destination": {"phoneNumber": "5004"}},
        )
    ]
    assert record["status"] == "succeeded", record
    posts, record = await _run(receiver, simulator, "call.transfer", call_id=call_id, destination="5005")
    assert posts == [
        (
            "POST",
            f"/api/v2/me/calls/{call_id}",
            {"operationName": "SingleStepTransfer", "destination": {"phoneNumber": "5005"}},
        )
    ]


async def test_disposition_on_a_live_call_and_on_a_released_call(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    call_id = await simulator.start_call("agent0001")
    await _run(receiver, simulator, "call.answer", call_id=call_id)
    posts, record = await _run(
        receiver,
        simulator,
        "call.set_disposition",
        call_id=call_id,
        disposition="IssueResolved",
        key="DispositionCode",
    )
    expected_body = {
        "operationName": "SetCallDisposition",
        "disposition": "IssueResolved",
        "dispositionKey": "DispositionCode",
        "callUri": f"{simulator.base_url}/api/v2/me/calls/{call_id}",
    }
    assert posts == [("POST", f"/api/v2/me/calls/{call_id}", expected_body)]
    assert record["status"] == "succeeded", record

    await simulator.release_call(call_id)
    status, body, _ = await receiver.command(
        "call.set_disposition", call_id=call_id, disposition="UpdateProvided"
    )
    assert status == 202, body
    posts = await _posts(simulator)
    assert posts[0][2]["disposition"] == "UpdateProvided"
    # GWS sends no notification for a released call: the status never pretends.
    assert body["status"] == "accepted"

    status, body, _ = await receiver.command("call.set_disposition", call_id=call_id, disposition="Disp5")
    assert status == 422 and "IssueResolved" in body["errors"][0]["valid"]
    assert await _posts(simulator) == []


async def test_hierarchical_dispositions_are_accepted_when_their_group_is_configured(
    receiver_factory: Any, simulator: SimulatorHandle
) -> None:
    receiver = await receiver_factory(disposition_groups=["dispositions"])
    call_id = await simulator.start_call("agent0001")
    await simulator.log(clear=True)
    status, body, _ = await receiver.command("call.set_disposition", call_id=call_id, disposition="Disp5")
    assert status == 202, body
    assert [p[2]["disposition"] for p in await _posts(simulator)] == ["Disp5"]
    status, body, _ = await receiver.command("call.set_disposition", call_id=call_id, disposition="Nope")
    assert status == 422 and {"Disp1", "Disp6", "IssueResolved"} <= set(body["errors"][0]["valid"])


async def test_interactions_and_workbins(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    email = await simulator.send_interaction("agent0001", "email")
    chat = await simulator.send_interaction("agent0001", "chat")
    await simulator.log(clear=True)
    path = f"/api/v2/me/interactions/{email}"
    steps: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("interaction.accept", email, {}, {"operationName": "Accept"}),
        (
            "interaction.update_data",
            email,
            {"user_data": {"k": "v"}},
            {"operationName": "UpdateUserData", "userData": {"k": "v"}},
        ),
        (
            "interaction.place_in_workbin",
            email,
            {"workbin": "EmailWorkbinDraft"},
            {"operationName": "PlaceInWorkbin", "workbin": "EmailWorkbinDraft"},
        ),
    ]
    for action, interaction, params, body in steps:
        posts, record = await _run(receiver, simulator, action, interaction_id=interaction, **params)
        assert posts == [("POST", path, body)], (action, posts)
        assert record["status"] == "succeeded"
    posts, record = await _run(
        receiver, simulator, "workbin.pull", workbin_id="EmailWorkbinDraft", interaction_id=email
    )
    uri = f"{simulator.base_url}/api/v2/me/workbins/EmailWorkbinDraft/interactions/{email}"
    assert posts == [
        ("POST", "/api/v2/me/interactions", {"operationName": "PullInteractionFromWorkbin", "uri": uri})
    ]
    posts, _ = await _run(
        receiver, simulator, "interaction.place_in_queue", interaction_id=email, queue="support"
    )
    assert posts == [("POST", path, {"operationName": "PlaceInQueue", "queueName": "support"})]

    posts, record = await _run(receiver, simulator, "interaction.reject", interaction_id=chat)
    assert posts == [("POST", f"/api/v2/me/interactions/{chat}", {"operationName": "Reject"})]
    second = await simulator.send_interaction("agent0001", "chat")
    await simulator.log(clear=True)
    await _run(receiver, simulator, "interaction.accept", interaction_id=second, nickname="Ann")
    posts, _ = await _run(
        receiver, simulator, "interaction.transfer", interaction_id=second, user_id="agent0002"
    )
    assert posts == [
        ("POST", f"/api/v2/me/interactions/{second}", {"operationName": "Transfer", "userId": "agent0002"})
    ]
    third = await simulator.send_interaction("agent0001", "chat")
    await _run(receiver, simulator, "interaction.accept", interaction_id=third)
    await simulator.log(clear=True)
    posts, _ = await _run(receiver, simulator, "interaction.complete", interaction_id=third)
    assert posts == [("POST", f"/api/v2/me/interactions/{third}", {"operationName": "Complete"})]


async def test_session_end_and_start(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    posts, record = await _run(receiver, simulator, "session.end")
    assert posts == [("POST", "/api/v2/me", {"operationName": "EndContactCenterSession"})]
    assert record["status"] == "succeeded"
    posts, record = await _run(receiver, simulator, "session.start", channels=["voice"], place="SIP_5001")
    assert posts == [
        (
            "POST",
            "/api/v2/me",
            {"operationName": "StartContactCenterSession", "channels": ["voice"], "place": "SIP_5001"},
        )
    ]
    assert record["status"] == "succeeded"
