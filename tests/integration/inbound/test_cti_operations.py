"""Every operation the CTI dialect maps (seed 001), through ``/v1/cti``: the exact GWS request."""

from __future__ import annotations

from typing import Any

from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle


def _envelope(topic: str, subtopic: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "channel": "Amazon",
        "topic": topic,
        "subtopic": subtopic,
        "source": "myapp",
        "data": data or {},
        "agent": "agent0001",
    }


async def _posts(simulator: SimulatorHandle) -> list[tuple[str, Any]]:
    return [(e["path"], e["body"]) for e in await simulator.log(clear=True) if e["method"] == "POST"]


async def _cti(receiver: ReceiverHandle, topic: str, subtopic: str, **data: Any) -> dict[str, Any]:
    status, body, _ = await receiver.call("POST", "/v1/cti", _envelope(topic, subtopic, data))
    assert status == 200, (subtopic, status, body)
    result: dict[str, Any] = body
    return result


async def test_make_call_send_dtmf_hold_retrieve_hangup(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    device = simulator.sim.state.users["agent0001"].device.id
    await simulator.log(clear=True)
    await _cti(receiver, "Call", "MakeCall", PhoneNumber="5002")
    assert await _posts(simulator) == [
        (
            f"/api/v2/me/devices/{device}/calls",
            {"operationName": "Dial", "destination": {"phoneNumber": "5002"}},
        )
    ]
    (call_id,) = [c.id for c in simulator.sim.state.users["agent0001"].calls.values()]
    peer = next(c.id for c in simulator.sim.state.users["agent0002"].calls.values())
    status, body, _ = await receiver.command("call.answer", agent="agent0002", call_id=peer)
    assert status == 202, body
    await receiver.status_of(body["id"], until="settled")
    await simulator.log(clear=True)

    path = f"/api/v2/me/calls/{call_id}"
    body = await _cti(receiver, "Call", "SendDtmf", CallId=call_id, Digits="12#")
    assert body["message"]["event"] == "succeeded", body
    assert await _posts(simulator) == [(path, {"operationName": "SendDtmf", "digits": "12#"})]
    for subtopic in ("Hold", "Retrieve", "Hangup"):
        body = await _cti(receiver, "Call", subtopic, CallId=call_id)
        assert body["message"]["event"] == "succeeded", (subtopic, body)
        assert await _posts(simulator) == [(path, {"operationName": subtopic})], subtopic


async def test_answer_and_set_disposition_by_call_uuid_with_its_key(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    call_id = await simulator.start_call("agent0001")
    await simulator.log(clear=True)
    body = await _cti(receiver, "Call", "Answer", CallId=call_id)
    assert body["message"]["event"] == "succeeded", body
    assert await _posts(simulator) == [(f"/api/v2/me/calls/{call_id}", {"operationName": "Answer"})]
    call = simulator.sim.state.users["agent0001"].calls[call_id]
    device = simulator.sim.state.users["agent0001"].device.id
    await _cti(
        receiver,
        "Call",
        "SetDisposition",
        CallUuid=call.call_uuid,
        Disposition="IssueResolved",
        DispositionKey="Outcome",
    )
    assert await _posts(simulator) == [
        (
            f"/api/v2/me/devices/{device}",
            {
                "operationName": "SetCallDisposition",
                "callUuid": call.call_uuid,
                "disposition": "IssueResolved",
                "dispositionKey": "Outcome",
            },
        )
    ]
    assert simulator.sim.state.users["agent0001"].calls[call_id].user_data["Outcome"] == "IssueResolved"


async def test_set_offline_set_not_ready_and_set_ready(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    voice = "/api/v2/me/channels/voice"
    await simulator.log(clear=True)
    body = await _cti(receiver, "Agent", "SetOffline")
    assert body["subtopic"] == "SetAgentState", body
    assert await _posts(simulator) == [(voice, {"operationName": "Offline"})]
    assert simulator.sim.state.users["agent0001"].device.user_state.state == "LoggedOut"
    body = await _cti(receiver, "Agent", "SetNotReady")
    assert body["message"]["data"]["state"] == "Not_Ready", body  # the seed's spelling
    assert await _posts(simulator) == [(voice, {"operationName": "NotReady"})]
    body = await _cti(receiver, "Agent", "SetReady")
    assert body["message"]["data"]["state"] == "Ready", body
    assert await _posts(simulator) == [(voice, {"operationName": "Ready"})]
