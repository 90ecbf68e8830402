"""Simulated calls and chats through the whole pipeline to Slack (the mock Slack Web API on loopback),
and back: signed thread replies and button clicks into the receiver process, on to the simulator."""

from __future__ import annotations

import re
import time
import tomllib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import redis

from bridge.config.keys import SlackKeys
from connectors.slack_blocks import ACTION_HOLD, ACTION_RETRIEVE, ACTION_TRANSFER
from tests.plugins.e2e import REPO, BridgeStack
from tests.plugins.slack import BOT_TOKEN, MockSlack, block_action, event_callback, signed_headers

StackFactory = Callable[..., Awaitable[BridgeStack]]

CHANNEL = "C0CONTACTS"
CHATS, CALLS = "C0CHATS", "C0CALLS"
AGENT, SLACK_USER = "agent0001", "U0AGENT1"
SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"


def documented_slack_events() -> list[str]:
    """The events docs/slack.md's configuration (section 2) routes to its Slack destination."""
    blocks = re.findall(r"```toml\n(.*?)\n```", (REPO / "docs" / "slack.md").read_text(), re.S)
    routed = [tomllib.loads(block)["routes"] for block in blocks if "[[routes]]" in block]
    assert routed, "docs/slack.md shows no [[routes]]"
    events: list[str] = routed[0][0]["events"]
    return events


@pytest.mark.slow
async def test_a_simulated_call_becomes_a_slack_thread_and_reaches_the_crm(
    bridge_stack: StackFactory, slack_api: MockSlack
) -> None:
    stack = await bridge_stack(agents=1)
    stack.env["E2E_SLACK_TOKEN"] = BOT_TOKEN
    slack = {
        "name": "slack-cc", "kind": "slack", "timeout": 2.0,
        "options": {"token": "env:E2E_SLACK_TOKEN", "channel": CHANNEL, "api_base_url": slack_api.base_url,
                    "channel_interval": 0.05},
    }  # fmt: skip
    stack.write_config(
        destinations=[slack],
        routes=[
            {"events": ["*"], "destinations": ["crm"]},
            {"events": ["call.ringing", "call.established", "call.released"], "destinations": ["slack-cc"]},
        ],
    )
    stack.start_worker()
    stack.start_subscriber()
    await stack.wait_ready()

    load = await stack.run_load(agents=1, calls_per_second=1, seconds=1)
    await stack.wait_load(load, within=10)
    await stack.wait_calls_delivered(1, within=20)
    posts = await slack_api.wait_for("chat.postMessage", count=3, within=20)

    [call] = [item for item in stack.sink.of_type("call.ringing")]
    root, *replies = posts
    assert root.body["channel"] == CHANNEL and "thread_ts" not in root.body
    assert len(replies) == 2 and {reply.body.get("thread_ts") for reply in replies} != {None}
    assert len({reply.body["thread_ts"] for reply in replies}) == 1
    assert all(post.headers.get("Authorization") == f"Bearer {BOT_TOKEN}" for post in posts)
    assert call.event["data"]["call_id"]


# -- chatops through the processes: subscriber → worker → mock Slack → receiver → simulator ---------


async def chatops_stack(bridge_stack: StackFactory, slack_api: MockSlack) -> BridgeStack:
    """Subscriber, worker and receiver for agent0001, two Slack destinations sent what docs/slack.md
    routes: ``CHATS`` threads replies, ``CALLS`` keeps a call's card updated (update mode, with its
    buttons); Slack user ``U0AGENT1`` is agent0001."""
    stack = await bridge_stack(agents=1)
    stack.env["E2E_SLACK_TOKEN"] = BOT_TOKEN

    def slack(name: str, channel: str, **options: Any) -> dict[str, Any]:
        return {
            "name": name, "kind": "slack", "timeout": 2.0, "ordered": True,
            "options": {"token": "env:E2E_SLACK_TOKEN", "channel": channel,
                        "api_base_url": slack_api.base_url, "channel_interval": 0.05, **options},
        }  # fmt: skip

    stack.write_config(
        destinations=[slack("slack-chats", CHATS), slack("slack-calls", CALLS, threads="update")],
        routes=[
            {"events": ["*"], "destinations": ["crm"]},
            {"events": documented_slack_events(), "destinations": ["slack-chats", "slack-calls"]},
        ],
        inbound={
            "slack": {
                "signing_secret": SIGNING_SECRET,
                "users": {SLACK_USER: AGENT},
                "response_url_prefixes": [slack_api.url + "/response/"],
                "outcome_wait": 3.0,
            }
        },
    )
    stack.start_worker()
    stack.start_subscriber()
    stack.start_receiver()
    await stack.wait_ready()
    return stack


async def to_receiver(stack: BridgeStack, path: str, body: bytes, content_type: str) -> tuple[int, Any]:
    """A signed POST to the receiver process: ``(status, parsed JSON or text)``."""
    headers = dict(signed_headers(body, SIGNING_SECRET), **{"Content-Type": content_type})
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        http.post(stack.receiver_url + path, data=body, headers=headers) as reply,
    ):
        text = await reply.text()
        return reply.status, (await reply.json(content_type=None)) if "json" in reply.content_type else text


def posts_in(slack: MockSlack, channel: str) -> list[dict[str, Any]]:
    return [c.body for c in slack.of("chat.postMessage") if c.body.get("channel") == channel]


def thread_root(stack: BridgeStack, channel: str, subject: str) -> str | None:
    """The ``ts`` of ``subject``'s thread root in ``channel``, as the workers keep it in Redis."""
    client = redis.Redis.from_url(stack.redis_url)
    try:
        root = client.get(SlackKeys().thread(channel, subject))
    finally:
        client.close()
    return None if root is None or root == b"pending" else root.decode()


def controls(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The call controls on a card, by action (Hold, Retrieve, the transfer menu)."""
    rows = [
        b for b in message.get("blocks", []) if b["type"] == "actions" and b["block_id"].startswith("call:")
    ]
    return {e["action_id"].split(":")[0]: e for row in rows for e in row["elements"]}


@pytest.mark.slow
async def test_a_reply_in_a_chats_slack_thread_reaches_the_customer_through_the_processes(
    bridge_stack: StackFactory, slack_api: MockSlack
) -> None:
    stack = await chatops_stack(bridge_stack, slack_api)
    sim = stack.sim
    chat = await sim.send_interaction(AGENT, "chat", subject="Order", text="Hi, my order is late")
    async with sim.agent_client(AGENT) as agent:
        await agent.login()
        status, body = await agent.post(
            f"/me/interactions/{chat}", {"operationName": "Accept", "nickname": "Ann"}
        )
        assert status == 200, body
        await sim.chat_message(chat, "Is anyone there?")

        def customer_line_in_thread() -> bool:
            root = thread_root(stack, CHATS, f"interaction/{chat}")
            return root is not None and any(
                p.get("thread_ts") == root and "Is anyone there?" in p["text"]
                for p in posts_in(slack_api, CHATS)
            )

        await stack.wait_until("the customer's line in the chat's Slack thread", customer_line_in_thread, 10)
        root = thread_root(stack, CHATS, f"interaction/{chat}")
        assert root is not None
        ts = f"{time.time():.6f}"
        reply = {"type": "message", "user": SLACK_USER, "text": "Your order ships today &amp; free", "ts": ts,
                 "thread_ts": root, "channel": CHATS, "channel_type": "channel", "event_ts": ts}  # fmt: skip
        started = time.monotonic()
        status, answer = await to_receiver(stack, "/slack/events", event_callback(reply), "application/json")
        assert status == 200 and time.monotonic() - started < 3.0, answer

        async def agent_lines() -> list[str]:
            status, body = await agent.get(f"/me/interactions/{chat}")
            assert status == 200, body
            return [
                str(e.get("text"))
                for e in body["interaction"]["content"]["events"]
                if e.get("messageType") == "MESSAGE" and e.get("userType") == "Agent"
            ]

        async def sent() -> bool:
            return await agent_lines() == ["Your order ships today & free"]

        await stack.wait_until("the agent's line in the simulator's chat transcript", sent, 10)

    # GWS's echo of the line comes back through the pipeline into the thread, posted by the bot
    def echoed() -> bool:
        return any(
            p.get("thread_ts") == root and "ships today" in p["text"] for p in posts_in(slack_api, CHATS)
        )

    await stack.wait_until("the agent's line echoed in the thread", echoed, 10)
    assert slack_api.of("chat.postEphemeral") == []


@pytest.mark.slow
async def test_hold_on_the_slack_call_card_holds_the_call_and_the_card_offers_retrieve_then_hold(
    bridge_stack: StackFactory, slack_api: MockSlack
) -> None:
    stack = await chatops_stack(bridge_stack, slack_api)
    sim = stack.sim
    call = await sim.start_call(AGENT)
    async with sim.agent_client(AGENT) as agent:
        await agent.login()
        status, body = await agent.post(f"/me/calls/{call}", {"operationName": "Answer"})
        assert status == 200, body

        def card() -> dict[str, Any]:
            root = thread_root(stack, CALLS, f"call/{call}")
            return {} if root is None else slack_api.messages[root]

        await stack.wait_until("Hold on the call card", lambda: ACTION_HOLD in controls(card()), 10)
        assert set(controls(card())) == {ACTION_HOLD}  # no transfer_targets: no menu
        assert ACTION_TRANSFER not in controls(card())
        response_url = slack_api.response_url(f"click-{uuid.uuid4().hex[:8]}")
        click = block_action(
            controls(card())[ACTION_HOLD], user=SLACK_USER, response_url=response_url, channel=CALLS
        )
        status, answer = await to_receiver(
            stack, "/slack/interactions", click, "application/x-www-form-urlencoded"
        )
        assert status == 200, answer

        async def call_state() -> str:
            status, body = await agent.get(f"/me/calls/{call}")
            assert status == 200, body
            return str(body["call"]["state"])

        async def held() -> bool:
            return await call_state() == "Held"

        await stack.wait_until("the call held in the simulator", held, 10)
        [outcome] = await slack_api.wait_for("response", 1, within=10)
        assert outcome.body["text"].startswith(f":white_check_mark: {AGENT}: hold done"), outcome.body

        def offers_retrieve() -> bool:
            return set(controls(card())) == {ACTION_RETRIEVE}

        await stack.wait_until("Retrieve on the call card", offers_retrieve, 10, lambda: str(card()))
        assert "On hold" in card()["text"] + str(card()["blocks"])

        # threads = "reply" (the other destination, the default mode): the on-hold reply carries Retrieve
        def retrieve_replied() -> bool:
            root = thread_root(stack, CHATS, f"call/{call}")
            return any(
                p.get("thread_ts") == root and set(controls(p)) == {ACTION_RETRIEVE}
                for p in posts_in(slack_api, CHATS)
            )

        await stack.wait_until("Retrieve in the call's thread (reply mode)", retrieve_replied, 10)

        # and back: Retrieve takes the call off hold, and the card offers Hold again
        response_url = slack_api.response_url(f"click-{uuid.uuid4().hex[:8]}")
        click = block_action(
            controls(card())[ACTION_RETRIEVE], user=SLACK_USER, response_url=response_url, channel=CALLS
        )
        status, answer = await to_receiver(
            stack, "/slack/interactions", click, "application/x-www-form-urlencoded"
        )
        assert status == 200, answer

        async def established() -> bool:
            return await call_state() == "Established"

        await stack.wait_until("the call retrieved in the simulator", established, 10)
        await stack.wait_until(
            "Hold on the call card again",
            lambda: set(controls(card())) == {ACTION_HOLD},
            10,
            lambda: str(card()),
        )
