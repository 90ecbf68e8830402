"""The whole pipeline, all real processes on loopback.

simulator (``gws-bridge simulate``) → ``gws-bridge subscriber`` → Redis/Celery →
``gws-bridge worker`` → a CRM that verifies Standard Webhooks signatures; and commands
through ``gws-bridge receiver`` → GWS → notification → event delivered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.plugins.e2e import BridgeStack, check_calls

StackFactory = Callable[..., Awaitable[BridgeStack]]


@pytest.mark.slow
async def test_every_simulated_call_arrives_signed_in_order_exactly_once(bridge_stack: StackFactory) -> None:
    stack = await bridge_stack(agents=4)
    stack.start_worker()
    stack.start_subscriber()
    await stack.wait_ready()

    load = await stack.run_load(agents=4, calls_per_second=6, seconds=4)
    progress = await stack.wait_load(load, within=20)
    assert progress["callsCompleted"] == progress["callsStarted"] == 24
    await stack.wait_calls_delivered(progress["callsCompleted"], within=30)

    check_calls(stack.sink, progress["callsStarted"], allow_repeats=False)
    # The agents' initial state (recovered at connect) arrived too, once per agent.
    assert {item.event["partitionkey"] for item in stack.sink.of_type("agent.state_changed")} == set(
        stack.sim.agents
    )


@pytest.mark.slow
async def test_commands_reach_gws_and_their_events_are_delivered(bridge_stack: StackFactory) -> None:
    stack = await bridge_stack(agents=2)
    stack.start_worker()
    stack.start_subscriber()
    stack.start_receiver()
    await stack.wait_ready()
    agent = stack.sim.agents[0]
    sink = stack.sink

    status, body = await stack.command(agent, "agent.ready")
    assert status in (200, 202), body
    await stack.wait_until("agent Ready", lambda: _state_delivered(stack, agent, "Ready"), within=15)

    call_id = await stack.sim.start_call(agent, "+14155550123", {"CustomerName": "Ada"})
    await stack.wait_until("call.ringing", lambda: _delivered(stack, "call.ringing", call_id), within=15)
    status, body = await stack.command(agent, "call.answer", call_id=call_id)
    assert status == 202, body
    await stack.wait_until(
        "call.established", lambda: _delivered(stack, "call.established", call_id), within=15
    )
    status, body = await stack.command(
        agent, "call.attach_data", call_id=call_id, user_data={"CaseId": "CS-1"}
    )
    assert status == 202, body
    await stack.wait_until(
        "call.data_changed", lambda: _delivered(stack, "call.data_changed", call_id), within=15
    )
    status, body = await stack.command(agent, "call.hangup", call_id=call_id)
    assert status == 202, body
    await stack.wait_until("call.released", lambda: _delivered(stack, "call.released", call_id), within=15)

    status, body = await stack.command(agent, "agent.not_ready", reason="OutToLunch")
    assert status in (200, 202), body
    await stack.wait_until(
        "NotReady OutToLunch", lambda: _state_delivered(stack, agent, "NotReady", "OutToLunch"), within=15
    )

    # GWS got exactly the operations the commands asked for, as that agent.
    operations = [
        (entry["method"], (entry.get("body") or {}).get("operationName"))
        for entry in await stack.sim.log(agent=agent)
        if entry["method"] == "POST"
    ]
    for expected in ("Ready", "Answer", "AttachUserData", "Hangup", "OutToLunch"):
        assert ("POST", expected) in operations, operations
    data = next(e for e in sink.of_type("call.data_changed") if e.event["data"]["call_id"] == call_id)
    assert data.event["data"]["user_data"]["CaseId"] == "CS-1"
    assert sink.bad_signatures == 0 and sink.repeats() == 0


def _delivered(stack: BridgeStack, event_type: str, call_id: str) -> bool:
    return any(item.event["data"].get("call_id") == call_id for item in stack.sink.of_type(event_type))


def _state_delivered(stack: BridgeStack, agent: str, state: str, reason: str | None = None) -> bool:
    return any(
        item.event["data"].get("agent") == agent
        and item.event["data"].get("state") == state
        and (reason is None or item.event["data"].get("reason") == reason)
        for item in stack.sink.of_type("agent.state_changed")
    )
