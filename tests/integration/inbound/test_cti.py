"""The CTI envelope dialect (seed 001): requests, the SetAgentState reply shape, the seed's error codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.inbound.conftest import ReceiverHandle, reason_state
from tests.plugins.simulator import SimulatorHandle

FIXTURES = Path(__file__).parents[2] / "fixtures" / "inbound"


def _envelope(
    subtopic: str, data: dict[str, Any] | None = None, topic: str = "Agent", **extra: Any
) -> dict[str, Any]:
    return {
        "channel": "Amazon",
        "topic": topic,
        "subtopic": subtopic,
        "source": "myapp",
        "data": data or {},
        **extra,
    }


def _shape(value: Any) -> Any:
    """Keys (recursively) without values: what the seed's reply shape fixes."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__ if value is not None else None


async def _posts(simulator: SimulatorHandle) -> list[tuple[str, Any]]:
    return [(e["path"], e["body"]) for e in await simulator.log(clear=True) if e["method"] == "POST"]


async def test_seed_set_not_ready_request_gets_the_seed_reply_shape(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    await receiver.call("POST", "/v1/cti", _envelope("SetReady", agent="agent0001"))
    await simulator.log(clear=True)
    request = json.loads((FIXTURES / "amazon_setnotready_request.json").read_text())
    request["agent"] = "agent0001"
    status, body, _ = await receiver.call("POST", "/v1/cti", request)
    assert status == 200, body
    assert await _posts(simulator) == [("/api/v2/me/channels/voice", {"operationName": "NotReady"})]
    sample = json.loads((FIXTURES / "amazon_setagentstate_response.json").read_text())
    reply = {k: v for k, v in body.items()}
    reply["message"] = {k: v for k, v in body["message"].items() if k != "commandId"}
    assert _shape(reply) == _shape(sample)
    assert (body["subtopic"], body["message"]["source"]) == ("SetAgentState", "event")
    data = body["message"]["data"]
    assert (data["state"], data["type"], data["loginName"], data["extension"]) == (
        "Not_Ready",
        "not_routable",
        "agent0001",
        "5001",
    )
    assert body["message"]["rules"]["ButtonStates"] == {
        "items": {
            "NotReady": "Enable",
            "Ready": "Enable",
            "make_call": "Enable",
            "mute": "Enable",
            "unmute": "Hide",
        },
        "count": 5,
    }


async def test_without_a_confirming_event_the_reply_shows_gws_current_state(
    receiver_factory: Any, simulator: SimulatorHandle
) -> None:
    receiver = await receiver_factory(cti_confirm_timeout=0.2)
    await receiver.call("POST", "/v1/cti", _envelope("SetNotReady", agent="agent0001"))
    # NotReady again: GWS ignores the duplicate and sends no event.
    status, body, _ = await receiver.call("POST", "/v1/cti", _envelope("SetNotReady", agent="agent0001"))
    assert status == 200, body
    assert body["message"]["data"]["state"] == "Not_Ready"


async def test_a_reason_code_maps_to_the_gws_agent_state_that_defines_it(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    state = await reason_state(simulator)
    await simulator.log(clear=True)
    envelope = _envelope("SetNotReady", {"ReasonCodeId": state["reason"]}, agent="agent0001")
    status, body, _ = await receiver.call("POST", "/v1/cti", envelope)
    assert status == 200, body
    assert await _posts(simulator) == [
        ("/api/v2/me/channels/voice", {"operationName": state["operationName"]})
    ]
    assert body["message"]["data"]["reasonCode"] == {"id": state["reason"]}
    assert body["message"]["event"] == state["displayName"]


async def test_an_unknown_reason_code_is_agent_state_not_found_without_gws_operation(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    envelope = _envelope("SetNotReady", {"ReasonCodeId": "Coffee"}, agent="agent0001")
    status, body, _ = await receiver.call("POST", "/v1/cti", envelope)
    assert status == 422
    assert body["error"]["type"] == "AGENT_STATE_NOT_FOUND"
    assert body["error"]["message"] == "Specified Agent State not found."
    assert (body["channel"], body["topic"], body["subtopic"]) == ("Amazon", "Agent", "SetNotReady")
    assert await _posts(simulator) == []


async def test_gws_refusing_the_change_is_update_agent_state_failed(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    await simulator.set_service("Voice", "Inactive")
    status, body, _ = await receiver.call("POST", "/v1/cti", _envelope("SetReady", agent="agent0001"))
    assert status >= 400
    assert body["error"]["type"] == "UPDATE_AGENT_STATE_FAILED"
    assert body["error"]["message"] == "Agent state change failed."
    assert body["error"]["gws_status_code"] == 4


async def test_set_ready_and_set_agent_state(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    status, body, _ = await receiver.call("POST", "/v1/cti", _envelope("SetReady", agent="agent0001"))
    assert status == 200 and body["message"]["data"]["state"] == "Ready"
    assert body["message"]["rules"]["ButtonStates"]["items"]["Ready"] == "Disable"
    status, body, _ = await receiver.call(
        "POST", "/v1/cti", _envelope("SetAgentState", {"AgentState": "Training"}, agent="agent0001")
    )
    assert status == 200 and body["message"]["event"] == "Training"
    assert await _posts(simulator) == [
        ("/api/v2/me/channels/voice", {"operationName": "Ready"}),
        ("/api/v2/me/channels/voice", {"operationName": "Training"}),
    ]


async def test_call_subtopics_and_the_only_allowed_agent(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    import time

    import orjson

    from tests.integration.inbound.conftest import signed_headers

    call_id = await simulator.start_call("agent0001")
    await simulator.log(clear=True)
    # The widget client may act for agent0001 only: the envelope need not name it.
    raw = orjson.dumps(_envelope("Answer", {"CallId": call_id}, topic="Call"))
    headers = signed_headers(raw, at=time.time(), msg_id="cti-1")
    status, body, _ = await receiver.call("POST", "/v1/cti", raw=raw, key=None, headers=headers)
    assert status == 200, body
    assert body["message"]["event"] == "succeeded"
    assert await _posts(simulator) == [(f"/api/v2/me/calls/{call_id}", {"operationName": "Answer"})]
    status, body, _ = await receiver.call(
        "POST",
        "/v1/cti",
        _envelope(
            "SetDisposition",
            {"CallId": call_id, "Disposition": "IssueResolved"},
            topic="Call",
            agent="agent0001",
        ),
    )
    assert status == 200, body
    assert (await _posts(simulator))[0][1]["disposition"] == "IssueResolved"


async def test_malformed_and_unsupported_envelopes_are_problems(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    status, body, _ = await receiver.call("POST", "/v1/cti", {"channel": "Amazon"})
    assert status == 422 and {"topic", "subtopic", "source"} <= {e["loc"][0] for e in body["errors"]}
    status, body, _ = await receiver.call("POST", "/v1/cti", _envelope("Teleport", agent="agent0001"))
    assert status == 422 and body["errors"][0]["loc"] == ["subtopic"]
    status, body, _ = await receiver.call("POST", "/v1/cti", _envelope("SetReady"))
    assert status == 422 and body["errors"][0]["loc"] == ["agent"]
    assert await _posts(simulator) == []
