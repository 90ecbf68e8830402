"""Refusals: each gives the right status and a problem document, and makes no GWS call at all."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from tests.integration.inbound.conftest import (
    CRM_KEY,
    LIMITED_KEY,
    SECRET,
    ReceiverHandle,
    signed_headers,
)
from tests.plugins.simulator import SimulatorHandle

READY = orjson.dumps({"agent": "agent0001", "action": "agent.ready", "params": {}})


async def _no_gws_calls(simulator: SimulatorHandle) -> None:
    assert await simulator.log() == []


async def test_missing_and_wrong_api_keys_give_401_without_gws_calls(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    status, body, headers = await receiver.call("POST", "/v1/commands", raw=READY, key=None)
    assert status == 401 and headers["Content-Type"].startswith("application/problem+json")
    assert body["title"] == "Unauthorized" and "WWW-Authenticate" in headers
    status, body, _ = await receiver.call("POST", "/v1/commands", raw=READY, key="not-the-key")
    assert status == 401 and "not-the-key" not in orjson.dumps(body).decode()
    await _no_gws_calls(simulator)


async def test_bad_stale_and_replayed_signatures_give_401_without_gws_calls(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    now = time.time()
    other_secret = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    bad = signed_headers(READY, at=now, secret=other_secret)
    assert (await receiver.call("POST", "/v1/commands", raw=READY, key=None, headers=bad))[0] == 401
    stale = signed_headers(READY, at=now - 3600, msg_id="msg_stale")
    status, body, _ = await receiver.call("POST", "/v1/commands", raw=READY, key=None, headers=stale)
    assert status == 401 and "tolerance" in body["detail"]
    tampered = signed_headers(READY, at=now, msg_id="msg_t")
    other_body = READY.replace(b"agent.ready", b"agent.offline")
    assert (await receiver.call("POST", "/v1/commands", raw=other_body, key=None, headers=tampered))[0] == 401
    await _no_gws_calls(simulator)

    good = signed_headers(READY, at=now, msg_id="msg_good")
    status, body, _ = await receiver.call("POST", "/v1/commands", raw=READY, key=None, headers=good)
    assert status == 202, body
    await simulator.log(clear=True)
    status, body, _ = await receiver.call("POST", "/v1/commands", raw=READY, key=None, headers=good)
    assert status == 401 and "replayed" in body["detail"]
    await _no_gws_calls(simulator)
    assert SECRET not in orjson.dumps(body).decode()


async def test_a_client_acting_for_an_agent_it_may_not_gets_403(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    document = {"agent": "agent0001", "action": "agent.ready"}
    status, body, _ = await receiver.call("POST", "/v1/commands", document, key=LIMITED_KEY)
    assert status == 403 and body["title"] == "Forbidden"
    now = time.time()
    raw = orjson.dumps({"agent": "agent0002", "action": "agent.ready"})
    widget = signed_headers(raw, at=now, msg_id="w1")
    assert (await receiver.call("POST", "/v1/commands", raw=raw, key=None, headers=widget))[0] == 403
    await _no_gws_calls(simulator)
    # agent0002 is in the limited client's group
    status, body, _ = await receiver.call(
        "POST", "/v1/commands", dict(document, agent="agent0002"), key=LIMITED_KEY
    )
    assert status == 202, body


async def test_a_large_body_gives_413(receiver: ReceiverHandle, simulator: SimulatorHandle) -> None:
    huge = orjson.dumps({"agent": "agent0001", "action": "call.attach_data", "params": {"x": "y" * 70_000}})
    status, body, _ = await receiver.call("POST", "/v1/commands", raw=huge)
    assert status == 413 and body["status"] == 413
    await _no_gws_calls(simulator)


async def test_a_large_chunked_body_gives_413_and_a_small_one_is_read_whole(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    """Without Content-Length the limit still holds: the body is read up to the limit, no further."""

    async def chunks(body: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    huge = orjson.dumps({"agent": "agent0001", "action": "call.attach_data", "params": {"x": "y" * 70_000}})
    headers = {"Authorization": f"Bearer {CRM_KEY}", "Content-Type": "application/json"}
    url = receiver.url + "/v1/commands"
    async with receiver.http.post(url, data=chunks(huge), headers=headers) as response:
        assert response.status == 413 and (await response.json(content_type=None))["status"] == 413
    await _no_gws_calls(simulator)
    async with receiver.http.post(url, data=chunks(READY), headers=headers) as response:
        assert response.status == 202, await response.text()


async def test_rate_limit_gives_429_with_retry_after(
    receiver_factory: Any, simulator: SimulatorHandle
) -> None:
    from tests.integration.inbound.conftest import CRM_KEY, default_clients

    clients = default_clients()
    clients[0] = dict(clients[0], rate_limit=0.5, burst=2)
    receiver = await receiver_factory(clients=clients)
    bad = {"agent": "agent0001", "action": "call.hold", "params": {}}
    statuses = [(await receiver.call("POST", "/v1/commands", bad, key=CRM_KEY))[0] for _ in range(2)]
    assert statuses == [422, 422]
    status, _body, headers = await receiver.call("POST", "/v1/commands", bad, key=CRM_KEY)
    assert status == 429 and int(headers["Retry-After"]) >= 1
    await _no_gws_calls(simulator)


async def test_invalid_commands_give_422_with_field_errors(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    status, body, _ = await receiver.command("call.send_dtmf", call_id="a/b", digits="xyz")
    assert status == 422
    assert {tuple(e["loc"]) for e in body["errors"]} == {("params", "call_id"), ("params", "digits")}
    status, body, _ = await receiver.command("call.teleport", call_id="c1")
    assert status == 422 and "call.hold" in body["errors"][0]["valid"]
    status, body, _ = await receiver.call("POST", "/v1/commands", {"agent": "agent0001"})
    assert status == 422 and ["action"] in [e["loc"] for e in body["errors"]]
    status, body, _ = await receiver.command("agent.ready", agent="nobody")
    assert status == 422 and body["errors"][0]["loc"] == ["agent"]
    assert (await receiver.call("POST", "/v1/commands", raw=b"{not json"))[0] == 400
    assert (await receiver.call("POST", "/v1/commands", raw=READY, headers={"Content-Type": "text/plain"}))[
        0
    ] == 415
    await _no_gws_calls(simulator)


async def test_unknown_custom_agent_state_is_422_listing_the_valid_ones(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    async with simulator.agent_client("agent0005") as gws:
        defined = sorted(s["operationName"] for s in (await gws.get("/settings/agent-states"))[1]["settings"])
    assert {"Ready", "NotReady", "Training"} <= set(defined)
    await simulator.log(clear=True)
    status, body, _ = await receiver.command("agent.state", operation="Napping")
    assert status == 422
    assert body["errors"][0]["valid"] == defined
    assert "Training" in body["detail"]
    assert [e for e in await simulator.log() if e["method"] != "GET"] == []
    status, body, _ = await receiver.command("agent.state", operation="Training")
    assert status == 202
    record = await receiver.status_of(body["id"], until="settled")
    assert record["status"] == "succeeded"


async def test_idempotent_retry_returns_the_same_result_and_calls_gws_once(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    document = {"agent": "agent0001", "action": "agent.not_ready", "params": {}}
    headers = {"Idempotency-Key": "retry-1"}
    first = await receiver.call("POST", "/v1/commands", document, headers=headers)
    second = await receiver.call("POST", "/v1/commands", document, headers=headers)
    assert first[0] == second[0] == 202
    assert first[1] == second[1]
    assert second[2]["Idempotent-Replayed"] == "true"
    posts = [e for e in await simulator.log() if e["method"] == "POST"]
    assert len(posts) == 1
    status, body, _ = await receiver.call(
        "POST", "/v1/commands", dict(document, action="agent.ready"), headers=headers
    )
    assert status == 422 and "different command" in body["detail"]
    # another client's identical key is its own
    status, _, _ = await receiver.call(
        "POST", "/v1/commands", dict(document, agent="agent0002"), key=LIMITED_KEY, headers=headers
    )
    assert status == 202


async def test_a_gws_refusal_is_a_problem_with_the_gws_status_code(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    status, body, _ = await receiver.command("call.hold", call_id="no-such-call")
    assert body["gws_status_code"] is not None and body["gws_message"]
    assert status == {6: 404, 2: 409}.get(body["gws_status_code"], 502)
    assert "password" not in orjson.dumps(body).decode()
    record = await receiver.status_of(body["command_id"])
    assert record["status"] == "failed"


async def test_an_asynchronous_failure_is_reflected_in_the_status(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    call_id = await simulator.start_call("agent0001")
    status, body, _ = await receiver.command("call.answer", call_id=call_id)
    assert (await receiver.status_of(body["id"], until="settled"))["status"] == "succeeded"
    status, body, _ = await receiver.command("call.retrieve", call_id=call_id)
    assert status == 202 and body["status"] == "accepted"
    record = await receiver.status_of(body["id"], until="settled")
    assert record["status"] == "failed"
    assert record["error"]["gws_message"] == "Incorrect object state"


async def test_an_outcome_that_never_comes_is_unknown(
    receiver_factory: Any, simulator: SimulatorHandle
) -> None:
    receiver = await receiver_factory(outcome_timeout=0.3)
    _, body, _ = await receiver.command("agent.ready")
    await receiver.status_of(body["id"], until="settled")
    # Ready again: GWS ignores duplicates, so no notification ever settles it.
    _status, body, _ = await receiver.command("agent.ready")
    record = await receiver.status_of(body["id"], until="settled")
    assert record["status"] == "unknown"


async def test_command_status_is_private_to_its_client(
    receiver: ReceiverHandle, simulator: SimulatorHandle
) -> None:
    _status, body, _ = await receiver.command("agent.ready", agent="agent0002")
    assert (await receiver.call("GET", f"/v1/commands/{body['id']}", key=LIMITED_KEY))[0] == 404
    assert (await receiver.call("GET", "/v1/commands/does-not-exist"))[0] == 404


async def test_health_readiness_and_metrics(receiver: ReceiverHandle) -> None:
    assert (await receiver.call("GET", "/healthz", key=None))[:2] == (200, {"status": "ok"})
    status, body, _ = await receiver.call("GET", "/readyz", key=None)
    assert status == 200 and body["checks"] == {"store": True}
    await receiver.command("agent.ready")
    status, text, _ = await receiver.call("GET", "/metrics", key=None)
    assert status == 200
    assert b'gwsb_inbound_requests_total{route="/v1/commands",status="202"} 1.0' in text
    assert (await receiver.call("GET", "/v1/nothing"))[0] == 404
    assert (await receiver.call("PUT", "/v1/commands", {}))[0] == 405
