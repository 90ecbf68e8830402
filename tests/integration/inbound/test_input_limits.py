"""Input limits and strict types against the running receiver: 422 naming the field, nothing sent to GWS."""

from __future__ import annotations

import json
from typing import Any

import orjson

from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle


def nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"k": value}
    return value


async def _operations(simulator: SimulatorHandle) -> list[tuple[str, Any]]:
    return [(e["path"], e["body"]) for e in await simulator.log(clear=True) if e["method"] != "GET"]


def _problem(status: int, body: Any, headers: Any, expected: int = 422) -> None:
    assert status == expected, body
    assert headers["Content-Type"].startswith("application/problem+json")
    assert body["status"] == expected


async def test_user_data_nested_340_deep_is_422_naming_the_field_not_500(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    # orjson itself refuses to write it (its limit is 255 levels): that was the 500
    document = {"agent": "agent0001", "action": "call.attach_data", "params": {"call_id": "c1"}}
    document["params"]["user_data"] = nested(340)
    raw = json.dumps(document).encode()
    status, body, headers = await receiver.call("POST", "/v1/commands", raw=raw)
    _problem(status, body, headers)
    (error,) = body["errors"]
    assert error["loc"][:2] == ["params", "user_data"] and error["type"] == "too_deep"
    assert await _operations(simulator) == []


async def test_the_body_may_nest_32_deep_and_that_user_data_reaches_gws(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    call_id = await simulator.start_call("agent0001")
    await simulator.log(clear=True)
    # body → params → user_data → 29 more objects: 32 levels in all
    status, body, _ = await receiver.command("call.attach_data", call_id=call_id, user_data=nested(30))
    assert status == 202, body
    assert await _operations(simulator) == [
        (
            f"/api/v2/me/calls/{call_id}",
            {"operationName": "AttachUserData", "userData": nested(30)},
        )
    ]
    status, body, headers = await receiver.command("call.attach_data", call_id=call_id, user_data=nested(31))
    _problem(status, body, headers)
    assert await _operations(simulator) == []


async def test_too_many_keys_long_keys_and_long_strings_are_named(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"Notes": "n" * 5000}, ["params", "user_data", "Notes"], "string_too_long"),
        ({"K" * 300: "v"}, ["params", "user_data", "K" * 64 + "…"], "key_too_long"),
        ({"list": list(range(1200))}, ["params", "user_data", "list"], "too_many_entries"),
    ]
    for user_data, loc, kind in cases:
        status, body, headers = await receiver.command("call.attach_data", call_id="c1", user_data=user_data)
        _problem(status, body, headers)
        assert [(e["loc"], e["type"]) for e in body["errors"]] == [(loc, kind)]
        assert "n" * 100 not in orjson.dumps(body).decode()
    status, body, headers = await receiver.command("agent.not_ready", reason="r" * 5000)
    _problem(status, body, headers)
    assert body["errors"][0]["loc"] == ["params", "reason"]
    assert await _operations(simulator) == []


async def test_dnd_with_anything_but_a_boolean_is_422_and_sends_nothing(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    for loose in ["yes", 1, "true", "1", 0.0, 0, "false"]:
        status, body, headers = await receiver.command("agent.dnd", on=loose)
        _problem(status, body, headers)
        assert body["errors"][0]["loc"] == ["params", "on"], loose
    assert await _operations(simulator) == []
    status, body, _ = await receiver.command("agent.dnd", on=True)
    assert status == 202, body
    assert await _operations(simulator) == [("/api/v2/me", {"operationName": "DoNotDisturbOn"})]


async def test_cti_envelopes_keep_the_same_limits(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    envelope: dict[str, Any] = {
        "channel": "Amazon",
        "topic": "Call",
        "subtopic": "Answer",
        "source": "app",
        "agent": "agent0001",
    }
    status, body, headers = await receiver.call(
        "POST", "/v1/cti", dict(envelope, data={"CallId": "c1", "Extra": nested(40)})
    )
    _problem(status, body, headers)
    assert body["errors"][0]["loc"][:2] == ["data", "Extra"]
    status, body, headers = await receiver.call(
        "POST", "/v1/cti", dict(envelope, agent=None, data={"CallId": "c1", "AgentLogin": "a" * 300})
    )
    _problem(status, body, headers)
    assert body["errors"][0]["loc"] == ["data", "AgentLogin"], body
    status, body, headers = await receiver.call("POST", "/v1/cti", dict(envelope, data={"CallId": 12345}))
    _problem(status, body, headers)
    assert body["errors"][0]["loc"] == ["params", "call_id"]
    assert await _operations(simulator) == []


async def test_a_charset_other_than_utf8_is_415(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    ready = {"agent": "agent0001", "action": "agent.ready"}
    for path in ("/v1/commands", "/v1/cti", "/v1/mobile/devices"):
        for content_type in ("application/json; charset=utf-16", 'application/json;charset="latin-1"'):
            status, body, headers = await receiver.call(
                "POST", path, ready, headers={"Content-Type": content_type}
            )
            _problem(status, body, headers, 415)
    status, body, _ = await receiver.call(
        "POST", "/v1/commands", ready, headers={"Content-Type": "application/json; charset=UTF-8"}
    )
    assert status == 202, body


async def test_the_device_registry_keeps_the_same_limits(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    device = {"agent": "agent0001", "platform": "android", "token": "t" * 40, "filter": nested(40)}
    status, body, headers = await receiver.call("POST", "/v1/mobile/devices", device)
    _problem(status, body, headers)
    assert body["errors"][0]["field"].startswith("filter.k")
    status, body, headers = await receiver.call(
        "POST", "/v1/mobile/devices", dict(device, filter=None, token="t" * 5000)
    )
    _problem(status, body, headers)
    assert body["errors"] == [{"field": "token", "message": "string longer than 4096 characters"}]
