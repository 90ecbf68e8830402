"""A reply in a chat's Slack thread reaches the customer: simulator chat → mock Slack → /slack/events."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.delivery import DestinationConfig
from bridge.config.gws import GwsSettings
from bridge.config.inbound import InboundSettings
from bridge.config.keys import SlackKeys
from bridge.config.slack import SlackInboundSettings
from bridge.inbound.app import create_app
from bridge.normalize import MemoryState, normalize
from tests.integration.slack.conftest import CHANNEL, ChatopsHandle, SlackFactory
from tests.plugins.simulator import SimulatorHandle
from tests.plugins.slack import MockSlack

AGENT = "agent0001"


async def chat_thread(
    simulator: SimulatorHandle, slack_api: MockSlack, slack_factory: SlackFactory, redis_url: str
) -> tuple[str, str]:
    """A customer's chat accepted by agent0001, its events posted to Slack: ``(chat id, thread root ts)``."""
    chat = await simulator.send_interaction(AGENT, "chat", subject="Order", text="Hi, my order is late")
    async with simulator.agent_client(AGENT) as client:
        await client.login()
        status, body = await client.post(
            f"/me/interactions/{chat}", {"operationName": "Accept", "nickname": "Ann"}
        )
    assert status == 200, body
    await simulator.chat_message(chat, "Is anyone there?")
    await post_notifications(simulator, slack_factory)
    async with Redis.from_url(redis_url) as redis:
        root = (await redis.get(SlackKeys().thread(CHANNEL, f"interaction/{chat}"))).decode()
    assert root in slack_api.messages and "thread_ts" not in slack_api.messages[root]
    said = [c.body["text"] for c in slack_api.of("chat.postMessage") if c.body.get("thread_ts") == root]
    assert any("Is anyone there?" in text for text in said), said
    return chat, root


async def post_notifications(
    simulator: SimulatorHandle, slack_factory: SlackFactory, agent: str = AGENT
) -> None:
    """What GWS told ``agent``, normalized as its subscriber does, delivered by the Slack connector."""
    state: MemoryState = MemoryState()
    connector = slack_factory()
    for item in simulator.notifications(agent):
        for event in normalize(item, agent=agent, state=state):
            await connector.send(event)


def reply(
    root: str, text: str = "Your order ships today", *, user: str = "U0AGENT1", **extra: Any
) -> dict[str, Any]:
    """A ``message`` event: ``user``'s reply in the thread rooted at ``root``."""
    ts = f"{time.time():.6f}"
    return {"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": root, "channel": CHANNEL,
            "channel_type": "channel", "event_ts": ts, **extra}  # fmt: skip


def agent_lines(simulator: SimulatorHandle, chat: str, nick: str | None = None) -> list[str]:
    assert simulator.sim is not None
    events = simulator.sim.state.interactions[chat].events
    events = [e for e in events if nick is None or e.get("nickName") == nick]
    return [
        str(e.get("text"))
        for e in events
        if e.get("messageType") == "MESSAGE" and e.get("userType") == "Agent"
    ]


async def sends(simulator: SimulatorHandle) -> list[dict[str, Any]]:
    return [
        e["body"] for e in await simulator.log() if e["method"] == "POST" and "SendMessage" in str(e["body"])
    ]


async def test_a_thread_reply_in_a_chats_thread_reaches_the_customer(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    chat, root = await chat_thread(simulator, slack_api, slack_factory, redis_url)
    body = chatops.event_body(
        reply(root, "Your order &amp; invoice ship today: <https://example.com/t/1|tracking>")
    )
    started = time.monotonic()
    status, _, _ = await chatops.event(body)
    assert status == 200 and time.monotonic() - started < 3.0
    await chatops.chatops.wait_idle()
    assert agent_lines(simulator, chat) == ["Your order & invoice ship today: tracking"]
    # GWS's echo of the agent's line is the bridge's own post in the thread: a bot message, ignored.
    await post_notifications(simulator, slack_factory)
    echo = slack_api.of("chat.postMessage")[-1].body
    assert echo["thread_ts"] == root and "invoice ship today" in echo["text"]
    bot = reply(root, echo["text"], user="U0BRIDGEBOT", bot_id="B0BRIDGE", app_id="A0BRIDGE")
    assert (await chatops.event(chatops.event_body(bot)))[0] == 200
    await chatops.chatops.wait_idle()
    assert len(agent_lines(simulator, chat)) == 1
    assert slack_api.of("chat.postEphemeral") == []


async def test_a_retried_event_is_sent_once(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    chat, root = await chat_thread(simulator, slack_api, slack_factory, redis_url)
    body = chatops.event_body(reply(root, "Only once"), event_id="Ev0RETRIED01")
    assert (await chatops.event(body))[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    status, _, headers = await chatops.event(body, headers=retry)
    assert status == 200 and headers["X-Slack-No-Retry"] == "1"
    assert (await chatops.event(body, headers={"X-Slack-Retry-Num": "2"}))[0] == 200
    await chatops.chatops.wait_idle()
    assert agent_lines(simulator, chat) == ["Only once"]
    assert len(await sends(simulator)) == 1


async def test_bot_messages_edits_and_other_users_send_nothing(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    chat, root = await chat_thread(simulator, slack_api, slack_factory, redis_url)
    await simulator.log(clear=True)
    edited = {"type": "message", "subtype": "message_changed", "channel": CHANNEL, "hidden": True,
              "ts": f"{time.time():.6f}", "message": reply(root, "edited text")}  # fmt: skip
    ignored = [
        reply(root, "from a bot", bot_id="B0OTHER", subtype="bot_message"),
        reply(root, "from our bot", user="U0BRIDGEBOT", bot_id="B0BRIDGE"),
        edited,
        {**reply(root, "gone"), "subtype": "message_deleted"},
        reply("1600000000.000001", "a thread that is not a chat's"),
        {**reply(root, "top level"), "thread_ts": None},
    ]
    for event in ignored:
        assert (await chatops.event(chatops.event_body(event)))[0] == 200
    await chatops.chatops.wait_idle()
    assert slack_api.of("chat.postEphemeral") == []
    # A person not linked to an agent, and another agent: refused, each told so in the thread.
    for user, why in (("U0STRANGER", "not linked to a GWS agent"), ("U0AGENT2", "not agent0002's")):
        assert (await chatops.event(chatops.event_body(reply(root, "let me", user=user))))[0] == 200
        await chatops.chatops.wait_idle()
        note = slack_api.of("chat.postEphemeral")[-1].body
        assert note["user"] == user and note["thread_ts"] == root and why in note["text"], note
    assert agent_lines(simulator, chat) == [] and await sends(simulator) == []
    assert [e for e in await simulator.log() if e["method"] != "GET"] == []


async def test_a_bad_signature_is_refused_with_problem_json_and_nothing_reaches_gws(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    chat, root = await chat_thread(simulator, slack_api, slack_factory, redis_url)
    await simulator.log(clear=True)
    body = chatops.event_body(reply(root, "forged"))
    status, problem, headers = await chatops.event(body, secret="not-the-signing-secret")
    assert status == 401 and headers["Content-Type"].startswith("application/problem+json")
    assert "does not match" in problem["detail"]
    status, problem, _ = await chatops.event(body, at=time.time() - 600)
    assert status == 401 and "5 minutes" in problem["detail"]
    await chatops.chatops.wait_idle()
    assert await simulator.log() == [] and agent_lines(simulator, chat) == []


async def test_url_verification_is_answered_and_a_malformed_event_names_its_field(
    chatops: ChatopsHandle, simulator: SimulatorHandle
) -> None:
    value = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"  # Slack's own example
    challenge = orjson.dumps(
        {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": value, "type": "url_verification"}
    )
    status, body, _ = await chatops.event(challenge)
    assert status == 200 and body == {"challenge": value}
    status, problem, _ = await chatops.event(b'{"type":"event_callback","event":{"type":"message"}}')
    assert status == 422 and problem["errors"][0]["loc"] == ["event_id"]
    status, problem, _ = await chatops.event(chatops.event_body({"type": "message", "user": 7}))
    assert status == 422 and problem["errors"][0]["loc"] == ["event", "user"]
    status, _, _ = await chatops.event(b"[]")
    assert status == 400
    status, _, _ = await chatops.event(b"{}", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    assert [e for e in await simulator.log() if e["method"] != "GET"] == []


async def test_after_a_transfer_the_thread_answers_for_the_new_agent_only(
    chatops: ChatopsHandle,
    simulator: SimulatorHandle,
    slack_api: MockSlack,
    slack_factory: SlackFactory,
    redis_url: str,
) -> None:
    chat, root = await chat_thread(simulator, slack_api, slack_factory, redis_url)
    async with simulator.agent_client(AGENT) as first:
        await first.login()
        status, body = await first.post(
            f"/me/interactions/{chat}", {"operationName": "Transfer", "userId": "agent0002"}
        )
    assert status == 200, body
    async with simulator.agent_client("agent0002") as second:
        await second.login()
        status, body = await second.post(f"/me/interactions/{chat}", {"operationName": "Accept"})
    assert status == 200, body
    for agent in (AGENT, "agent0002"):  # agent0001's revocation, agent0002's invitation, in the same thread
        await post_notifications(simulator, slack_factory, agent)
    assert (await chatops.event(chatops.event_body(reply(root, "still me", user="U0AGENT1"))))[0] == 200
    await chatops.chatops.wait_idle()
    note = slack_api.of("chat.postEphemeral")[-1].body
    assert note["user"] == "U0AGENT1" and "not agent0001's" in note["text"]
    assert (await chatops.event(chatops.event_body(reply(root, "Hello, I take over", user="U0AGENT2"))))[
        0
    ] == 200
    await chatops.chatops.wait_idle()
    assert agent_lines(simulator, chat) == ["Hello, I take over"]
    assert agent_lines(simulator, chat, nick="agent0002") == ["Hello, I take over"]


async def test_a_receiver_without_the_slack_destinations_warns_that_thread_replies_are_ignored(
    redis_url: str, simulator: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    def receiver(*destinations: DestinationConfig) -> None:
        slack = SlackInboundSettings(signing_secret="s3cret", users={"U0AGENT1": AGENT})
        settings = Settings(
            redis_url=redis_url,
            destinations=list(destinations),
            gws=GwsSettings(base_url=simulator.base_url),
            inbound=InboundSettings(slack=slack),
        )
        create_app(settings)

    with caplog.at_level(logging.WARNING, logger="bridge.inbound.slack"):
        receiver()
    [warning] = [r.getMessage() for r in caplog.records if "POST /slack/events" in r.getMessage()]
    assert "replies in chat threads" in warning and "ignored" in warning
    caplog.clear()
    options = {"token": "env:GWSB_TEST_UNSET_TOKEN", "channel": CHANNEL}
    with caplog.at_level(logging.WARNING, logger="bridge.inbound.slack"):
        receiver(DestinationConfig(name="slack-cc", kind="slack", options=options))
    assert not [r for r in caplog.records if "POST /slack/events" in r.getMessage()]
