"""The worker's delivery runtime hands the Slack connector its Redis, and delivers through it."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.delivery import DestinationConfig
from bridge.config.keys import SlackKeys
from bridge.delivery.app import make_celery_app
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.runtime import DeliveryRuntime
from tests.integration.slack.conftest import CHANNEL, make_event
from tests.plugins.slack import BOT_TOKEN, MockSlack


async def test_a_worker_batch_posts_a_call_thread_with_its_root_in_redis(
    redis_url: str, redis: Redis, slack_api: MockSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GWSB_TEST_SLACK_TOKEN", BOT_TOKEN)
    options = {"token": "env:GWSB_TEST_SLACK_TOKEN", "channel": CHANNEL, "api_base_url": slack_api.base_url}
    settings = Settings(
        redis_url=redis_url, destinations=[DestinationConfig(name="slack-cc", kind="slack", options=options)]
    )
    runtime = DeliveryRuntime(settings, make_celery_app(settings), hostname="slack-test")
    await asyncio.to_thread(runtime.start)
    try:
        ringing, established = make_event("call.ringing"), make_event("call.established")
        for event in (ringing, established):  # one task each, as two events of one call arrive
            wire = QueuedDelivery.for_event(event, "slack-cc").to_wire()
            await asyncio.to_thread(runtime.deliver_batch, "slack-cc", [wire])
    finally:
        await asyncio.to_thread(runtime.close)
    root, reply = slack_api.of("chat.postMessage")
    assert "thread_ts" not in root.body
    root_ts = (await redis.get(SlackKeys().thread(CHANNEL, "call/0071023c62a4a02a"))).decode()
    assert reply.body["thread_ts"] == root_ts
