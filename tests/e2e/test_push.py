"""A phone registered through the receiver gets the simulated call as an APNs push (local emulator)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from tests.plugins.e2e import BridgeStack
from tests.plugins.push import TOPIC, ApnsEmulator

StackFactory = Callable[..., Awaitable[BridgeStack]]


@pytest.mark.slow
async def test_a_simulated_call_reaches_a_phone_registered_through_the_receiver(
    bridge_stack: StackFactory, apns_emulator: ApnsEmulator
) -> None:
    stack = await bridge_stack(agents=1)
    agent = stack.sim.agents[0]
    apns = apns_emulator.destination("phones-ios").model_dump(mode="json", exclude_none=True)
    stack.write_config(
        destinations=[{**apns, "timeout": 2.0}],
        routes=[
            {"events": ["*"], "destinations": ["crm"]},
            {"events": ["call.ringing", "call.released"], "destinations": ["phones-ios"]},
        ],
    )
    stack.start_worker()
    stack.start_subscriber()
    stack.start_receiver()
    await stack.wait_ready()

    token = secrets.token_hex(32)
    registration = {"agent": agent, "platform": "ios", "token": token}
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.post(
            f"{stack.receiver_url}/v1/mobile/devices",
            json=registration,
            headers={"Authorization": f"Bearer {stack.api_key}"},
        ) as reply,
    ):
        assert reply.status == 201, await reply.text()

    load = await stack.run_load(agents=1, calls_per_second=1, seconds=1)
    await stack.wait_load(load, within=10)
    await stack.wait_calls_delivered(1, within=20)
    await stack.wait_until("two pushes", lambda: len(apns_emulator.requests) >= 2, within=20)

    [ringing] = stack.sink.of_type("call.ringing")
    call_id = ringing.event["data"]["call_id"]
    pushes = apns_emulator.requests
    assert all(push.status == 200 and push.token == token for push in pushes)
    by_type = {push.payload["eventType"]: push for push in pushes}
    assert sorted(by_type) == ["call.released", "call.ringing"] and len(pushes) == 2
    assert {push.payload["callId"] for push in pushes} == {call_id}
    alert = by_type["call.ringing"]
    assert alert.headers["apns-topic"] == TOPIC and alert.headers["apns-push-type"] == "alert"
