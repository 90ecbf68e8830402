"""The actions added for every agent-facing operation in the seeds, against the simulator:
the exact GWS request (through /sim/log), the settled status, and refusals before GWS."""

from __future__ import annotations

import base64
import logging
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle


async def _sent(simulator: SimulatorHandle) -> list[tuple[str, str, Any]]:
    """What GWS received since the last call (reads included), then forget it."""
    entries = await simulator.log(clear=True)
    return [(e["method"], e["path"], e["body"]) for e in entries if e["path"] != "/api/v2/me/devices"]


async def _posts(simulator: SimulatorHandle) -> list[tuple[str, str, Any]]:
    return [entry for entry in await _sent(simulator) if entry[0] != "GET"]


async def _run(
    receiver: ReceiverHandle, simulator: SimulatorHandle, action: str, agent: str = "agent0001", **params: Any
) -> tuple[list[tuple[str, str, Any]], dict[str, Any]]:
    status, body, _ = await receiver.command(action, agent=agent, **params)
    assert status in (200, 202), (action, status, body)
    record = await receiver.status_of(body["id"], until="settled")
    return await _posts(simulator), record


async def test_mute_swap_merge_and_remove_participant(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    first = await simulator.start_call("agent0001")
    await _run(receiver, simulator, "call.answer", call_id=first)
    path = f"/api/v2/me/calls/{first}"
    posts, record = await _run(receiver, simulator, "call.mute", call_id=first)
    assert posts == [("POST", path, {"operationName": "MuteCall"})]
    assert record["status"] == "succeeded" and record["notification"]["call"]["mute"] == "On", record
    posts, record = await _run(receiver, simulator, "call.unmute", call_id=first)
    assert posts == [("POST", path, {"operationName": "UnmuteCall"})]
    assert record["status"] == "succeeded" and record["notification"]["call"]["mute"] == "Off", record

    posts, record = await _run(receiver, simulator, "call.conference", call_id=first, destination="5003")
    assert record["status"] == "succeeded", record
    posts, record = await _run(
        receiver, simulator, "call.remove_participant", call_id=first, participant="5003"
    )
    assert posts == [
        ("POST", path, {"operationName": "RemoveParticipantFromConference", "participant": "5003"})
    ]
    assert record["status"] == "succeeded" and "5003" not in record["notification"]["call"]["participants"]

    # a second call: hold the first, dial out, then swap back
    await _run(receiver, simulator, "call.hold", call_id=first)
    _, dialed = await _run(receiver, simulator, "call.dial", destination="5002")
    second = dialed["notification"]["call"]["id"]
    await _run(
        receiver,
        simulator,
        "call.answer",
        agent="agent0002",
        call_id=(await _peer_call(simulator, "agent0002")),
    )
    posts, record = await _run(receiver, simulator, "call.swap", call_id=second, other_call_id=first)
    other_uri = f"{simulator.base_url}{path}"
    assert posts == [
        ("POST", f"/api/v2/me/calls/{second}", {"operationName": "SwapCalls", "otherCallUri": other_uri})
    ]
    assert record["status"] == "succeeded" and record["notification"]["call"]["state"] == "Held", record

    posts, record = await _run(receiver, simulator, "call.merge", call_id=first, other_call_id=second)
    second_uri = f"{simulator.base_url}/api/v2/me/calls/{second}"
    assert posts == [("POST", path, {"operationName": "MergeWithOtherCall", "otherCallUri": second_uri})]
    # The seeds document no notification for MergeWithOtherCall: never guessed.
    assert record["status"] in ("accepted", "unknown"), record


async def _peer_call(simulator: SimulatorHandle, agent: str) -> str:
    calls = [c for c in simulator.sim.state.users[agent].calls.values() if c.state.value == "Ringing"]
    assert calls, f"no ringing call on {agent}"
    return str(calls[-1].id)


async def test_device_dnd_forwarding_channel_dnd_and_all_channels(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    device = simulator.sim.state.users["agent0001"].device.id
    on_device = f"/api/v2/me/devices/{device}"
    posts, record = await _run(receiver, simulator, "device.dnd", on=True)
    assert posts == [("POST", on_device, {"operationName": "DoNotDisturbOn"})]
    assert record["status"] == "succeeded", record
    posts, record = await _run(receiver, simulator, "device.dnd", on=False)
    assert record["status"] == "succeeded", record
    posts, record = await _run(receiver, simulator, "device.forward_on", destination="5009")
    assert posts == [("POST", on_device, {"operationName": "ForwardCallsOn", "destination": "5009"})]
    assert record["status"] == "succeeded" and record["notification"]["devices"][0]["forwardTo"] == "5009"
    posts, record = await _run(receiver, simulator, "device.forward_off")
    assert posts == [("POST", on_device, {"operationName": "ForwardCallsOff"})]
    assert record["status"] == "succeeded" and "forwardTo" not in record["notification"]["devices"][0]

    posts, record = await _run(receiver, simulator, "channel.dnd", channel="email", on=True)
    assert posts == [("POST", "/api/v2/me/channels/email", {"operationName": "DoNotDisturbOn"})]
    assert record["status"] == "succeeded", record
    posts, record = await _run(receiver, simulator, "agent.all_channels", state="Ready")
    assert posts == [("POST", "/api/v2/me", {"operationName": "Ready"})]
    assert record["status"] == "succeeded", record


async def test_change_password_ends_as_gws_says_on_v2_me_and_the_passwords_are_never_kept(
    receiver: ReceiverHandle, simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture, redis_url: str
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: nothing may carry a password
    posts, record = await _run(
        receiver, simulator, "agent.change_password", old_password="password", new_password="N3w-secret"
    )
    # The simulator's own log masks passwords; what GWS decoded is what was sent (base64).
    assert posts == [
        (
            "POST",
            "/api/v2/me",
            {"operationName": "ChangePassword", "oldPassword": "***", "newPassword": "***"},
        )
    ]
    assert simulator.sim.state.users["agent0001"].password == "N3w-secret"
    # The verdict is GWS's /v2/me notification (003:4676-4682), not the {statusCode: 0} reply.
    assert record["status"] == "succeeded", record
    assert record["notification"] == {"notificationType": "PasswordChangeSuccessful"}

    # A wrong old password: GWS takes the request, then says PasswordChangeError on /v2/me.
    _, refused = await _run(
        receiver, simulator, "agent.change_password", old_password="Wr0ng-old", new_password="Other-secret"
    )
    assert refused["status"] == "failed", refused
    assert refused["error"]["detail"] == "Did not enter old password correctly (errorCode 2)"
    assert simulator.sim.state.users["agent0001"].password == "N3w-secret"

    secrets = ["password", "N3w-secret", "Wr0ng-old", "Other-secret"]
    forms = {s.encode() for s in secrets[1:]} | {base64.b64encode(s.encode()) for s in secrets}
    for stored in (record, refused):
        assert not any(form in orjson.dumps(stored) for form in forms), stored
        assert "oldPassword" not in str(stored) and "newPassword" not in str(stored)
    assert not any(form.decode() in caplog.text for form in forms)
    kept = await _everything_in(redis_url)  # the command store, indexes, idempotency records
    assert kept and not any(form in value for value in kept for form in forms)


async def _everything_in(redis_url: str) -> list[bytes]:
    """Every value in Redis, read by its type (no compression hides a substring)."""
    client = Redis.from_url(redis_url)
    values: list[bytes] = []
    try:
        async for key in client.scan_iter(count=500):
            kind = (await client.type(key)).decode()
            if kind == "string":
                values.append(await client.get(key))
            elif kind == "hash":
                values.extend(b"%s=%s" % kv for kv in (await client.hgetall(key)).items())
            elif kind == "list":
                values.extend(await client.lrange(key, 0, -1))
            elif kind == "zset":
                values.extend(await client.zrange(key, 0, -1))
            elif kind == "set":
                values.extend(await client.smembers(key))
            elif kind == "stream":
                values.extend(
                    orjson.dumps({k.decode(): v.decode() for k, v in f.items()})
                    for _, f in await client.xrange(key)
                )
            else:
                raise AssertionError(f"{key!r}: a {kind} this test cannot read")
    finally:
        await client.aclose()
    return values


async def test_supervisor_monitoring_is_the_supervisors_and_gws_enforces_the_role(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    simulator.sim.state.users["agent0001"].roles.append("ROLE_SUPERVISOR")  # as a users file would
    target = simulator.sim.state.users["agent0002"].device.id
    device = simulator.sim.state.users["agent0001"].device.id
    target_uri = f"{simulator.base_url}/api/v2/devices/{target}"
    await simulator.log(clear=True)
    for action, mode in (
        ("supervisor.listen_in", "ListenIn"),
        ("supervisor.coach", "Coach"),
        ("supervisor.barge_in", "BargeIn"),
    ):
        posts, record = await _run(receiver, simulator, action, target_device_id=target, scope="Agent")
        expected = {
            "operationName": mode,
            "targetDeviceUri": target_uri,
            "supervisorMonitoringScope": "Agent",
        }
        assert posts == [("POST", f"/api/v2/me/devices/{device}", expected)], action
        assert record["status"] == "succeeded", record
        assert record["notification"]["devices"][0]["supervisorMonitoringState"]["state"] == mode
    posts, record = await _run(receiver, simulator, "supervisor.cancel")
    assert posts == [
        ("POST", f"/api/v2/me/devices/{device}", {"operationName": "CancelSupervisorMonitoring"})
    ]
    assert record["status"] == "succeeded", record

    status, body, _ = await receiver.command(
        "supervisor.listen_in", agent="agent0002", target_device_id=device
    )
    assert status >= 400 and body.get("gws_status_code") == 5, body


async def test_supervisor_call_operations(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    call_id = await simulator.start_call("agent0001")
    await _run(receiver, simulator, "call.answer", call_id=call_id)
    path = f"/api/v2/me/calls/{call_id}"
    for action, operation, check in (
        ("supervisor.switch_to_listen_in", "SwitchToListenIn", ("mute", "On")),
        ("supervisor.switch_to_barge_in", "SwitchToBargeIn", ("mute", "Off")),
        ("supervisor.mute_agent", "MuteMonitoredUser", ("monitoredUserMuted", True)),
        ("supervisor.unmute_agent", "UnmuteMonitoredUser", ("monitoredUserMuted", False)),
    ):
        posts, record = await _run(receiver, simulator, action, call_id=call_id)
        assert posts == [("POST", path, {"operationName": operation})], action
        assert record["status"] == "succeeded", (action, record)
        assert record["notification"]["call"][check[0]] == check[1], action


async def test_chat_from_a_crm(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    chat = await simulator.send_interaction("agent0001", "chat")
    await _run(receiver, simulator, "interaction.accept", interaction_id=chat, nickname="Ann")
    path = f"/api/v2/me/interactions/{chat}"
    steps: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("chat.typing_started", {}, {"operationName": "SendStartTypingNotification"}),
        ("chat.typing_stopped", {}, {"operationName": "SendStopTypingNotification"}),
        (
            "chat.send_message",
            {"text": "How can I help?"},
            {"operationName": "SendMessage", "text": "How can I help?"},
        ),
        ("chat.history", {}, {"operationName": "RequestChatHistory"}),
        (
            "interaction.attach_data",
            {"user_data": {"Case": "7"}},
            {"operationName": "AttachUserData", "userData": {"Case": "7"}},
        ),
        (
            "interaction.delete_data",
            {"keys": ["Case"]},
            {"operationName": "DeleteUserData", "userData": {"Case": ""}},
        ),
        ("chat.invite", {"agent_id": "agent0002"}, {"operationName": "InviteUser", "agentId": "agent0002"}),
        (
            "chat.leave",
            {"agent_id": "agent0001"},
            {"operationName": "LeaveConference", "agentId": "agent0001"},
        ),
        ("chat.end", {}, {"operationName": "EndChatSession"}),
    ]
    for action, params, body in steps:
        posts, record = await _run(receiver, simulator, action, interaction_id=chat, **params)
        assert posts == [("POST", path, body)], (action, posts)
        assert record["status"] == "succeeded", (action, record)
    transcript = simulator.sim.state.interactions[chat]
    assert "How can I help?" in [event.get("text") for event in transcript.events]


async def test_email_reply_send_create_and_cancel(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    email = await simulator.send_interaction("agent0001", "email")
    await _run(receiver, simulator, "interaction.accept", interaction_id=email)
    posts, record = await _run(
        receiver, simulator, "email.reply", interaction_id=email, queue="EmailOut", quote_original=True
    )
    assert posts == [
        (
            "POST",
            f"/api/v2/me/interactions/{email}",
            {"operationName": "Reply", "queueName": "EmailOut", "quoteOriginal": "true"},
        )
    ]
    assert record["status"] == "succeeded", record
    posts, record = await _run(receiver, simulator, "email.reply_all", interaction_id=email)
    reply_id = record["gws_reply"]["replyInteractionId"]
    posts, record = await _run(receiver, simulator, "interaction.cancel", interaction_id=reply_id)
    assert posts == [("POST", f"/api/v2/me/interactions/{reply_id}", {"operationName": "Cancel"})]
    assert record["status"] == "succeeded" and record["gws_reply"] == {"status": 0}, record

    posts, record = await _run(receiver, simulator, "email.create", queue="EmailOut")
    assert posts == [
        (
            "POST",
            "/api/v2/me/interactions",
            {
                "operationName": "Create",
                "queueName": "EmailOut",
                "interactionType": "Outbound",
                "interactionSubType": "OutboundNew",
            },
        )
    ]
    created = [
        i.id
        for i in simulator.sim.state.users["agent0001"].interactions.values()
        if i.state.value == "ReplyCreated" and i.id != reply_id
    ]
    assert created
    posts, record = await _run(
        receiver,
        simulator,
        "email.send",
        interaction_id=created[-1],
        to="ann@example.com",
        subject="Your case",
        text="Solved.",
    )
    assert posts == [
        (
            "POST",
            f"/api/v2/me/interactions/{created[-1]}",
            {
                "operationName": "Send",
                "email_object": {"toAddress": "ann@example.com", "subject": "Your case", "text": "Solved."},
            },
        )
    ]
    assert record["status"] == "succeeded", record


async def test_workbins_list_content_add(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    await simulator.log(clear=True)
    status, body, _ = await receiver.command("workbin.list")
    assert status == 200 and body["status"] == "succeeded", body
    workbins = body["gws_reply"]["workbins"]
    assert workbins and all("workbinId" in w for w in workbins)
    assert ("GET", "/api/v2/me/workbins", None) in await _sent(simulator)
    workbin = workbins[0]["workbinId"]

    email = await simulator.send_interaction("agent0001", "email")
    await _run(receiver, simulator, "interaction.accept", interaction_id=email)
    posts, record = await _run(receiver, simulator, "workbin.add", workbin_id=workbin, interaction_id=email)
    assert posts == [("POST", f"/api/v2/me/workbins/{workbin}/interactions", {"interactionId": email})]
    assert record["status"] == "succeeded" and record["gws_reply"]["status"] == 0, record

    status, body, _ = await receiver.command("workbin.content", workbin_id=workbin)
    assert status == 200, body
    assert email in str(body["gws_reply"]["interactions"])
    entries = await simulator.log(clear=True)
    assert [(e["method"], e["path"], e["query"]) for e in entries if "workbins" in e["path"]] == [
        ("GET", f"/api/v2/me/workbins/{workbin}/interactions", "fields=*")
    ]


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("call.swap", {"call_id": "c1"}, "other_call_id"),
        ("call.remove_participant", {"call_id": "c1", "participant": "not a number!"}, "participant"),
        ("supervisor.listen_in", {"target_device_id": "d1", "scope": "Everyone"}, "scope"),
        ("supervisor.coach", {"target_device_id": "../x"}, "target_device_id"),
        ("channel.dnd", {"channel": "email", "on": "yes"}, "on"),
        ("device.forward_on", {}, "destination"),
        ("agent.all_channels", {"state": "Lunch"}, "state"),
        ("agent.change_password", {"old_password": "x", "new_password": ""}, "new_password"),
        ("chat.send_message", {"interaction_id": "i1", "text": "x" * 4097}, "text"),
        ("chat.invite", {"interaction_id": "i1"}, "agent_id"),
        ("email.send", {"interaction_id": "i1", "subject": "s", "text": "t"}, "to"),
        ("email.reply", {"interaction_id": "i1", "quote_original": "true"}, "quote_original"),
        ("email.create", {}, "queue"),
        ("interaction.delete_data", {"interaction_id": "i1", "keys": []}, "keys"),
        ("workbin.content", {"workbin_id": "a b"}, "workbin_id"),
        ("workbin.add", {"workbin_id": "w1"}, "interaction_id"),
    ],
)
async def test_bad_params_are_refused_naming_the_field_before_gws(
    receiver: ReceiverHandle, simulator: SimulatorHandle, action: str, params: dict[str, Any], field: str
) -> None:
    await simulator.log(clear=True)
    status, body, _ = await receiver.command(action, **params)
    assert status == 422, body
    assert ["params", field] in [error["loc"] for error in body["errors"]], body
    assert "s3cret" not in str(body)
    assert await _posts(simulator) == []
