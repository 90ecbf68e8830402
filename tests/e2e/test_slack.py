"""Simulated calls through the whole pipeline to Slack (the mock Slack Web API on loopback)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.plugins.e2e import BridgeStack
from tests.plugins.slack import BOT_TOKEN, MockSlack

StackFactory = Callable[..., Awaitable[BridgeStack]]

CHANNEL = "C0CONTACTS"


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
