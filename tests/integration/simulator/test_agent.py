"""Agent state, DND, forwarding, supervisor monitoring, channels, session and password, over HTTP."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.integration.simulator.shapes import assert_same_shape, sample
from tests.plugins.simulator import SimulatorHandle


@pytest.fixture
async def agent(simulator: SimulatorHandle) -> Any:
    async with simulator.agent_client("agent0001") as client:
        await client.login()
        yield client


def devices(simulator: SimulatorHandle, user: str = "agent0001") -> list[dict[str, Any]]:
    return simulator.notifications(user, "/v2/me/devices")


def channels(simulator: SimulatorHandle, user: str = "agent0001") -> list[dict[str, Any]]:
    return simulator.notifications(user, "/v2/me/channels")


@pytest.mark.parametrize(
    ("operation", "sample_name", "user_state"),
    [
        (
            "Ready",
            None,
            {"id": "9430250E-0A1B-421F-B372-F29E69366DED", "displayName": "Ready", "state": "Ready"},
        ),
        (
            "AuxWork",
            "cometd_device_DeviceStateChange_AuxWork",
            {
                "id": "2B36138D-C564-4562-A8CB-3C32D564F296",
                "displayName": "AuxWork",
                "state": "NotReady",
                "workMode": "AuxWork",
            },
        ),
        (
            "AfterCallWork",
            "cometd_device_DeviceStateChange_AuxWork",
            {
                "id": "D3663509-3D82-4DD3-A82E-2EA8EFA02AEF",
                "displayName": "AfterCallWork",
                "state": "NotReady",
                "workMode": "AfterCallWork",
            },
        ),
        (
            "Offline",
            "cometd_device_DeviceStateChange_Offline",
            {"id": "0F7F5003-EF26-4D13-A6Ef-D0C7EC819BEB", "displayName": "Offline", "state": "LoggedOut"},
        ),
        (
            "Training",
            "cometd_device_state_Training",
            {
                "id": "90b2b0c6-8395-4d7b-b94a-ed634ac612b3",
                "displayName": "Training",
                "state": "NotReady",
                "workMode": "AuxWork",
                "reason": "Training",
            },
        ),
    ],
)
async def test_voice_agent_state_operations(simulator, agent, operation, sample_name, user_state):
    status, reply = await agent.post("/me/channels/voice", {"operationName": operation})
    assert (status, reply) == (200, sample("rest_voice_Ready_response"))
    message = devices(simulator)[-1]
    assert_same_shape(message, sample_name or "cometd_device_DeviceStateChange_NotReady")
    assert message["data"]["devices"][0]["userState"] == user_state


async def test_duplicate_agent_state_is_ignored(simulator, agent):
    await agent.post("/me/channels/voice", {"operationName": "NotReady"})  # already NotReady
    assert devices(simulator) == []


async def test_ready_on_me_sets_every_channel_with_status_ok(simulator, agent):
    status, reply = await agent.post("/me", {"operationName": "Ready"})
    assert (status, reply) == (200, sample("rest_me_Ready_success_000"))
    assert devices(simulator)[-1]["data"]["devices"][0]["userState"]["state"] == "Ready"
    message = channels(simulator)[-1]
    assert [c["channel"] for c in message["data"]["data"]["channels"]] == ["email", "chat"]
    status, reply = await agent.post("/me", {"operationName": "NotReady"})
    assert (status, reply) == (200, sample("rest_me_NotReady_success_003"))
    status, body = await agent.get("/me/channels")
    assert set(body) == set(sample("rest_get_me_channels_schematic_003"))
    assert {c["userState"]["state"] for c in body["channels"]} == {"NotReady"}


async def test_channel_ready_and_not_ready(simulator, agent):
    status, reply = await agent.post("/me/channels/chat", {"operationName": "Ready"})
    assert (status, reply) == (200, sample("rest_channel_Ready_success"))
    message = channels(simulator)[-1]
    assert_same_shape(message, "cometd_channels_chat_Ready")
    assert message["data"]["data"]["channels"][0]["channel"] == "chat"
    status, reply = await agent.post("/me/channels/email", {"operationName": "OutToLunch"})
    assert (status, reply) == (200, sample("rest_channel_NotReady_success"))
    status, body = await agent.get("/me/channels/email")
    assert body["channel"]["userState"]["reason"] == "OutToLunch"
    status, reply = await agent.post("/me/channels/fax", {"operationName": "Ready"})
    assert status == 404 and set(reply) == set(sample("rest_channel_Ready_failure"))
    status, reply = await agent.post("/me/channels/chat", {"operationName": "Dance"})
    assert status == 400 and reply["status"] == "error"


async def test_dnd_on_me_publishes_device_and_channel_messages(simulator, agent):
    status, reply = await agent.post("/me", {"operationName": "DoNotDisturbOn"})
    assert (status, reply) == (200, sample("rest_me_DoNotDisturbOn_success_000"))
    device = devices(simulator)[-1]
    assert_same_shape(device, "cometd_device_DeviceStateChange_capabilities_after_dnd")
    assert device["data"]["devices"][0]["doNotDisturb"] == "On"
    assert "DoNotDisturbOff" in device["data"]["devices"][0]["capabilities"]
    assert_same_shape(channels(simulator)[-1], "cometd_channels_dnd_On")
    status, reply = await agent.post("/me", {"operationName": "DoNotDisturbOff"})
    assert (status, reply) == (200, sample("rest_me_DoNotDisturbOff_success_003"))
    assert devices(simulator)[-1]["data"]["devices"][0]["doNotDisturb"] == "Off"


async def test_device_dnd_and_forwarding(simulator, agent):
    device_id = simulator.sim.state.users["agent0001"].device.id
    status, reply = await agent.post(f"/me/devices/{device_id}", {"operationName": "DoNotDisturbOn"})
    assert (status, reply) == (200, sample("rest_DoNotDisturbOn_response"))
    status, reply = await agent.post(
        f"/me/devices/{device_id}", {"operationName": "ForwardCallsOn", "destination": "5002"}
    )
    assert (status, reply) == (200, sample("rest_ForwardCallsOn_response"))
    forwarded = devices(simulator)[-1]
    assert_same_shape(forwarded, "cometd_device_DeviceStateChange_ForwardCallsOff")
    assert forwarded["data"]["devices"][0]["forwardTo"] == "5002"
    assert "ForwardCallsOff" in forwarded["data"]["devices"][0]["capabilities"]
    # a call to a forwarding agent rings the forward destination
    call_id = await simulator.start_call("agent0001")
    assert simulator.sim.state.calls[call_id].owner == "agent0002"
    status, reply = await agent.post(f"/me/devices/{device_id}", {"operationName": "ForwardCallsOff"})
    assert (status, reply) == (200, sample("rest_ForwardCallsOff_response"))
    off = devices(simulator)[-1]["data"]["devices"][0]
    assert "forwardTo" not in off and "ForwardCallsOn" in off["capabilities"]
    status, reply = await agent.post("/me/devices/not-my-device", {"operationName": "DoNotDisturbOn"})
    assert status == 404 and reply["statusCode"] == 6


async def test_supervisor_monitoring(simulator_factory, tmp_path: Path):
    users = tmp_path / "users.toml"
    users.write_text(
        '[[users]]\nuserName = "sup"\npassword = "s3cret"\ndn = "6000"\nroles = ["ROLE_SUPERVISOR"]\n'
        '[[users]]\nuserName = "agent"\npassword = "pw"\ndn = "6001"\n'
    )
    handle = await simulator_factory(users_file=users)
    assert handle.agents == ["agent", "sup"]
    target = handle.sim.state.users["agent"].device.id
    async with handle.agent_client("sup", "s3cret") as sup:
        await sup.login()
        device_id = handle.sim.state.users["sup"].device.id
        for mode, sample_name in (
            ("Coach", "cometd_device_DeviceStateChange_supervisor_Coach"),
            ("BargeIn", "cometd_device_DeviceStateChange_supervisor_BargeIn"),
        ):
            body = {"operationName": mode, "targetDeviceUri": f"{handle.base_url}/api/v2/devices/{target}"}
            status, reply = await sup.post(f"/me/devices/{device_id}", body)
            assert (status, reply) == (200, sample(f"rest_{mode}_response"))
            message = handle.notifications("sup", "/v2/me/devices")[-1]
            assert_same_shape(message, sample_name)
            monitoring = message["data"]["devices"][0]["supervisorMonitoringState"]
            assert monitoring == {
                "state": mode,
                "mode": "AllCalls",
                "scope": "Call",
                "targetDeviceUri": f"{handle.base_url}/api/v2/devices/{target}",
            }
        status, reply = await sup.post(
            f"/me/devices/{device_id}", {"operationName": "CancelSupervisorMonitoring"}
        )
        assert (status, reply) == (200, sample("rest_CancelSupervisorMonitoring_response"))
        cancelled = handle.notifications("sup", "/v2/me/devices")[-1]
        assert_same_shape(cancelled, "cometd_device_DeviceStateChange_CancelSupervisorMonitoring")
        assert "supervisorMonitoringState" not in cancelled["data"]["devices"][0]


async def test_start_and_end_contact_center_session(simulator, agent):
    await agent.post("/me/channels/voice", {"operationName": "Offline"})
    status, reply = await agent.post(
        "/me", {"operationName": "StartContactCenterSession", "channels": ["voice"]}
    )
    assert (status, reply) == (200, sample("rest_StartContactCenterSession_response_sample1"))
    assert devices(simulator)[-1]["data"]["devices"][0]["userState"]["state"] == "NotReady"
    published = len(simulator.notifications("agent0001"))
    status, reply = await agent.post(
        "/me", {"operationName": "StartContactCenterSession", "channels": ["voice"]}
    )
    assert status == 200 and len(simulator.notifications("agent0001")) == published  # already logged in
    status, reply = await agent.post("/me", {"operationName": "StartContactCenterSession"})
    assert status == 400 and reply["statusCode"] == 1
    status, reply = await agent.post("/me", {"operationName": "EndContactCenterSession"})
    assert (status, reply) == (200, sample("rest_EndContactCenterSession_response"))
    assert len(simulator.notifications("agent0001")) == published  # "There are no notifications"
    status, _ = await agent.get("/me")
    assert status == 401  # the session is gone


async def test_change_password_notifies_on_v2_me(simulator, agent):
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    body = {"operationName": "ChangePassword", "oldPassword": b64("wrong"), "newPassword": b64("new")}
    status, reply = await agent.post("/me", body)
    assert (status, reply) == (200, sample("rest_me_ChangePassword_response"))
    assert simulator.notifications("agent0001", "/v2/me")[-1]["data"] == {
        "notificationType": "PasswordChangeError",
        "errorMessage": "Did not enter old password correctly",
        "errorCode": 2,
    }
    body["oldPassword"] = b64("password")
    await agent.post("/me", body)
    assert simulator.notifications("agent0001", "/v2/me")[-1]["data"] == {
        "notificationType": "PasswordChangeSuccessful"
    }
    changes = [
        e
        for e in await simulator.log(agent="agent0001")
        if (e["body"] or {}).get("operationName") == "ChangePassword"
    ]
    assert changes and all(e["body"]["oldPassword"] == e["body"]["newPassword"] == "***" for e in changes)
    async with simulator.agent_client("agent0001", "new") as again:
        await again.login()


async def test_device_reads(simulator, agent):
    status, uris = await agent.get("/me/devices")
    assert set(uris) == set(sample("rest_get_me_devices_uris_response"))
    status, body = await agent.get("/me/devices?fields=*")
    assert set(body) == set(sample("rest_get_me_devices_fields_response"))
    expected = sample("rest_get_me_devices_fields_response")["devices"][0]
    assert set(body["devices"][0]) == set(expected)
    device_id = body["devices"][0]["id"]
    status, single = await agent.get(f"/me/devices/{device_id}")
    assert status == 200 and single["device"]["id"] == device_id


async def test_dnd_per_channel_and_voice_channel_read(simulator, agent):
    status, reply = await agent.post("/me/channels/email", {"operationName": "DoNotDisturbOn"})
    assert (status, reply) == (200, {"status": "ok"})
    message = channels(simulator)[-1]["data"]["data"]["channels"][0]
    assert message["channel"] == "email" and message["dndState"] == "On"
    status, reply = await agent.post("/me/channels/voice", {"operationName": "DoNotDisturbOn"})
    assert (status, reply) == (200, {"statusCode": 0})
    assert devices(simulator)[-1]["data"]["devices"][0]["doNotDisturb"] == "On"
    status, voice = await agent.get("/me/channels/voice")
    assert status == 200 and voice["channel"]["userState"]["state"] == "NotReady"


async def test_device_state_follows_the_voice_service_and_the_session(simulator, agent):
    # Offline keeps the device Active (cometd_device_DeviceStateChange_Offline.json)
    await agent.post("/me/channels/voice", {"operationName": "Offline"})
    assert devices(simulator)[-1]["data"]["devices"][0]["deviceState"] == "Active"
    published = len(devices(simulator))
    await simulator.set_service("Voice", "Inactive")
    down = devices(simulator)[published:]
    assert [m["data"]["devices"][0]["deviceState"] for m in down] == ["Inactive"]
    assert_same_shape(down[0], "cometd_device_DeviceStateChange_Offline")
    assert {m["data"]["devices"][0]["deviceState"] for m in devices(simulator, "agent0002")} == {"Inactive"}
    await simulator.set_service("Voice", "Inactive")  # unchanged: nothing more
    assert len(devices(simulator)) == published + 1
    await simulator.set_service("Voice", "Active")
    assert devices(simulator)[-1]["data"]["devices"][0]["deviceState"] == "Active"

    await agent.post("/me", {"operationName": "EndContactCenterSession"})
    async with simulator.agent_client("agent0001") as again:
        await again.login()
        _, body = await again.get("/me/devices?fields=*")
        assert body["devices"][0]["deviceState"] == "Inactive"  # unassigned, as in the devices listing
        published = len(devices(simulator))
        await simulator.set_service("Voice", "Inactive")
        await simulator.set_service("Voice", "Active")
        assert len(devices(simulator)) == published  # a device nobody uses tells nothing
        await again.post("/me", {"operationName": "StartContactCenterSession", "channels": ["voice"]})
        (login,) = devices(simulator)[published:]
        assert login["data"]["devices"][0]["deviceState"] == "Active"
        assert login["data"]["devices"][0]["userState"]["state"] == "NotReady"


async def test_not_ready_takes_no_reason_parameter(simulator, agent):
    # the seeds define no parameter on NotReady (002:8884, 000:58): a reason is an agent state
    for path in ("/me/channels/voice", "/me"):
        await agent.post(path, {"operationName": "Ready"})
        await agent.post(path, {"operationName": "NotReady", "reasonCode": "Lunch", "workMode": "AuxWork"})
        user_state = devices(simulator)[-1]["data"]["devices"][0]["userState"]
        assert user_state == {"id": user_state["id"], "displayName": "Not Ready", "state": "NotReady"}
    await agent.post("/me/channels/voice", {"operationName": "OutToLunch"})
    assert devices(simulator)[-1]["data"]["devices"][0]["userState"]["reason"] == "OutToLunch"
