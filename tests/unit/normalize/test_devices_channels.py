"""Agent state, DND, forwarding, supervisor monitoring, device state and channel state."""

from __future__ import annotations

import copy

import orjson

from bridge.normalize import MemoryState, normalize

from .conftest import AGENT, feed, fixture_bytes


def _message(name: str) -> dict:
    return orjson.loads(fixture_bytes(name))


def test_agent_state_changes_are_ordered_on_the_agent_subject(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_device_DeviceStateChange_NotReady.json",
        "cometd_device_DeviceStateChange_AuxWork.json",
        "cometd_device_DeviceStateChange_Offline.json",
    )
    assert {e.subject for e in events} == {f"agent/{AGENT}"}
    assert [e.sequence for e in events] == [1, 2, 3]
    assert [(e.data["previous_state"], e.data["state"], e.data["work_mode"]) for e in events] == [
        (None, "NotReady", None),
        ("NotReady", "NotReady", "AuxWork"),
        ("NotReady", "LoggedOut", None),
    ]


def test_dnd_on_then_off(state: MemoryState) -> None:
    before = feed(state, "cometd_device_DeviceStateChange_capabilities_before_dnd.json")
    assert [e.type for e in before] == ["agent.state_changed"]
    after = feed(state, "cometd_device_DeviceStateChange_capabilities_after_dnd.json")
    assert [(e.type, e.data["dnd"]) for e in after] == [("agent.dnd_changed", True)]
    off = feed(state, "cometd_device_DeviceStateChange_capabilities_before_dnd.json")
    assert [(e.type, e.data["dnd"]) for e in off] == [("agent.dnd_changed", False)]


def test_forwarding_off_is_reported_when_forward_to_disappears(state: MemoryState) -> None:
    on = feed(state, "cometd_device_DeviceStateChange_ForwardCallsOff.json")  # seed copy of ForwardCallsOn
    assert on[-1].data["forwarding"] is True
    off = _message("cometd_device_DeviceStateChange_ForwardCallsOff.json")
    device = off["data"]["devices"][0]
    del device["forwardTo"]
    device["capabilities"] = ["ForwardCallsOn", "DoNotDisturbOn"]
    (event,) = normalize(off, agent=AGENT, state=state)
    assert event.type == "agent.forwarding_changed"
    assert event.data["forwarding"] is False
    assert event.data["forward_to"] is None


def test_supervisor_monitoring_start_change_and_cancel(state: MemoryState) -> None:
    events = feed(
        state,
        "cometd_device_DeviceStateChange_supervisor_Coach.json",
        "cometd_device_DeviceStateChange_supervisor_BargeIn.json",
    )
    cancel = _message("cometd_device_DeviceStateChange_CancelSupervisorMonitoring.json")
    cancel["data"]["devices"][0]["id"] = (
        "efelab32-53f9-43ce-b65e-5768c61f7d4a"  # the seed's OCR says efe1ab32
    )
    events += normalize(cancel, agent=AGENT, state=state)
    monitoring = [e for e in events if e.type == "agent.monitoring_changed"]
    assert [(e.data["previous_monitoring_state"], e.data["monitoring_state"]) for e in monitoring] == [
        (None, "Coach"),
        ("Coach", "BargeIn"),
        ("BargeIn", None),
    ]


def test_inactive_device_is_reported(state: MemoryState) -> None:
    feed(state, "cometd_device_DeviceStateChange_NotReady.json")
    message = _message("cometd_device_DeviceStateChange_NotReady.json")
    message["data"]["devices"][0]["deviceState"] = "Inactive"
    (event,) = normalize(message, agent=AGENT, state=state)
    assert event.type == "device.state_changed"
    assert event.subject.startswith("device/")
    assert (event.data["previous_device_state"], event.data["device_state"]) == ("Active", "Inactive")


def test_device_error_without_call(state: MemoryState) -> None:
    (event,) = feed(state, "cometd_error_device_InvalidCalledDn.json")
    assert event.type == "device.error"
    assert event.subject == "device/efelab32-53f9-43ce-b65e-5768c61f7d4a"


def test_two_devices_in_one_message_are_both_seen(state: MemoryState) -> None:
    message = _message("cometd_device_DeviceStateChange_NotReady.json")
    second = copy.deepcopy(message["data"]["devices"][0])
    second["id"] = "another-device"
    second["deviceState"] = "Inactive"
    message["data"]["devices"].append(second)
    events = normalize(message, agent=AGENT, state=state)
    assert "device.state_changed" in [e.type for e in events]
    assert state.get("device/another-device") is not None


def test_channel_state_then_channel_not_ready(state: MemoryState) -> None:
    feed(state, "cometd_channels_chat_Ready.json")
    message = _message("cometd_channels_chat_Ready.json")
    message["data"]["data"]["channels"][0]["userState"] = {"state": "NotReady", "reasonCode": "Lunch"}
    (event,) = normalize(message, agent=AGENT, state=state)
    assert event.type == "channel.state_changed"
    assert event.subject == f"channel/{AGENT}/chat"
    assert (event.data["previous_state"], event.data["state"], event.data["reason"]) == (
        "Ready",
        "NotReady",
        "Lunch",
    )


def test_channel_message_without_the_double_data_wrapper(state: MemoryState) -> None:
    message = {"channel": "/v2/me/channels", "data": {"channels": [{"channel": "email", "dndState": "On"}]}}
    (event,) = normalize(message, agent=AGENT, state=state)
    assert (event.type, event.data["channel"], event.data["dnd"]) == ("agent.dnd_changed", "email", True)


def test_dnd_events_have_the_same_keys_whichever_source(state: MemoryState) -> None:
    (device_dnd,) = [
        e
        for e in feed(state, "cometd_device_DeviceStateChange_DoNotDisturbOn.json")
        if e.type == "agent.dnd_changed"
    ]
    (channel_dnd,) = [e for e in feed(state, "cometd_channels_dnd_On.json") if e.type == "agent.dnd_changed"]
    assert set(device_dnd.data) == set(channel_dnd.data)
