"""Hold, Retrieve and Transfer on the call card: click → the simulated GWS call changes → the card follows."""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from bridge.config.keys import SlackKeys
from bridge.normalize import MemoryState, normalize
from connectors.slack import SlackConnector
from connectors.slack_blocks import ACTION_HOLD, ACTION_RETRIEVE, ACTION_TRANSFER
from tests.integration.slack.conftest import CHANNEL, ChatopsHandle, SlackFactory
from tests.integration.slack.test_chatops import answered_call, operations, outcome
from tests.plugins.simulator import SimulatorHandle
from tests.plugins.slack import MockSlack

AGENT = "agent0001"


async def card(
    simulator: SimulatorHandle, slack: MockSlack, connector: SlackConnector, redis_url: str, call: str
) -> dict[str, Any]:
    """The call's root message as it stands once everything GWS told agent0001 is delivered."""
    state = MemoryState()
    for item in simulator.notifications(AGENT):
        for event in normalize(item, agent=AGENT, state=state):
            await connector.send(event)
    async with Redis.from_url(redis_url) as redis:
        root = (await redis.get(SlackKeys().thread(CHANNEL, f"call/{call}"))).decode()
    return slack.messages[root]


def controls(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The call controls on ``message``, by action (Hold, Retrieve, the transfer menu)."""
    rows = [b for b in message["blocks"] if b["type"] == "actions" and b["block_id"].startswith("call:")]
    return {e["action_id"].split(":")[0]: e for row in rows for e in row["elements"]}


def call_state(simulator: SimulatorHandle, call: str) -> str:
    assert simulator.sim is not None
    return simulator.sim.state.calls[call].state.value


async def test_hold_then_retrieve_from_the_call_card(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    call = await answered_call(simulator)
    connector = slack_factory(threads="update", transfer_targets=[{"name": "Billing", "number": "5002"}])
    shown = await card(simulator, slack_api, connector, redis_url, call)
    assert set(controls(shown)) == {ACTION_HOLD, ACTION_TRANSFER}
    await simulator.log(clear=True)
    assert (await chatops.click(controls(shown)[ACTION_HOLD]))[0] == 200
    assert (await outcome(slack_api, 1)).startswith(":white_check_mark: agent0001: hold done")
    assert call_state(simulator, call) == "Held"
    shown = await card(simulator, slack_api, connector, redis_url, call)
    assert set(controls(shown)) == {ACTION_RETRIEVE} and "On hold" in shown["text"] + str(shown["blocks"])
    assert (await chatops.click(controls(shown)[ACTION_RETRIEVE]))[0] == 200
    assert (await outcome(slack_api, 2)).startswith(":white_check_mark: agent0001: retrieve done")
    assert call_state(simulator, call) == "Established"
    assert set(controls(await card(simulator, slack_api, connector, redis_url, call))) == {
        ACTION_HOLD,
        ACTION_TRANSFER,
    }
    path = f"/api/v2/me/calls/{call}"
    assert await operations(simulator) == [
        (AGENT, "POST", path, {"operationName": "Hold"}),
        (AGENT, "POST", path, {"operationName": "Retrieve"}),
    ]


async def test_the_transfer_menu_puts_the_call_through_to_the_chosen_target(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    assert simulator.sim is not None
    number = simulator.sim.state.users["agent0002"].device.phone_number
    call = await answered_call(simulator)
    targets = [{"name": "Sales", "number": "5999"}, {"name": "Second line", "number": number}]
    connector = slack_factory(threads="update", transfer_targets=targets)
    menu = controls(await card(simulator, slack_api, connector, redis_url, call))[ACTION_TRANSFER]
    assert [o["text"]["text"] for o in menu["options"]] == ["Sales", "Second line"] and menu["confirm"]
    await simulator.log(clear=True)
    assert (await chatops.choose(menu, menu["options"][1]))[0] == 200
    text = await outcome(slack_api)
    assert text.startswith(f":white_check_mark: agent0001: transfer to {number} done"), text
    ((agent, method, path, body),) = await operations(simulator)
    assert (agent, method, path, body["operationName"]) == (
        AGENT,
        "POST",
        f"/api/v2/me/calls/{call}",
        "SingleStepTransfer",
    )
    assert body["destination"] == {"phoneNumber": number}
    assert call_state(simulator, call) == "Released"
    assert any(
        c.owner == "agent0002" and c.state.value == "Ringing" for c in simulator.sim.state.calls.values()
    )
    assert (
        controls(await card(simulator, slack_api, connector, redis_url, call)) == {}
    )  # the call left agent0001


async def test_call_buttons_only_for_that_calls_agent(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    call = await answered_call(simulator)
    connector = slack_factory(transfer_targets=[{"name": "Billing", "number": "5002"}])  # threads = "reply"
    await card(simulator, slack_api, connector, redis_url, call)
    # the established call's reply in the thread carries the controls (the ringing root has none)
    hold = next(controls(m)[ACTION_HOLD] for m in slack_api.messages.values() if ACTION_HOLD in controls(m))
    await simulator.log(clear=True)
    # agent0002's user clicks agent0001's button; then a forged button naming agent0002 on that call
    assert (await chatops.click(hold, user="U0AGENT2"))[0] == 200
    assert "you can only act for agent0002" in await outcome(slack_api, 1)
    forged = dict(hold, value=orjson.dumps({"agent": "agent0002", "call_id": call}).decode())
    assert (await chatops.click(forged, user="U0AGENT2"))[0] == 200
    assert f"Call {call} is not yours" in await outcome(slack_api, 2)
    assert (await chatops.click(hold, user="U0STRANGER"))[0] == 200
    assert "not linked to a GWS agent" in await outcome(slack_api, 3)
    await chatops.chatops.wait_idle()
    assert await operations(simulator) == [] and call_state(simulator, call) == "Established"
