"""Slack connector fixtures: connectors against the mock Slack, sharing a private Redis."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from bridge.delivery.config import DestinationConfig
from bridge.events import Event
from connectors.slack import SlackConnector
from tests.plugins.slack import BOT_TOKEN, MockSlack

FIXTURES = json.loads((Path(__file__).parents[2] / "fixtures" / "slack" / "events.json").read_text())
ENVIRON = {"SLACK_BOT_TOKEN": BOT_TOKEN, "WRONG_TOKEN": "xoxb-wrong"}
CHANNEL = "C0CONTACTS"


def make_event(kind: str, *, event_id: str | None = None, call_id: str | None = None, **data: Any) -> Event:
    """A fixture event of ``kind`` with ``data`` overrides (a new id when ``event_id`` is given)."""
    document = json.loads(json.dumps(FIXTURES[kind]))
    document["data"].update(data)
    if call_id is not None:
        document["data"]["call_id"] = call_id
        document["subject"] = f"call/{call_id}"
    if event_id is not None:
        document["id"] = event_id
    return Event.model_validate(document)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def slack_factory(slack_api: MockSlack, redis: Redis) -> AsyncIterator[Callable[..., SlackConnector]]:
    """``slack_factory(**options)``: a bot-mode connector for ``CHANNEL`` (closed at the end)."""
    made: list[SlackConnector] = []

    def factory(name: str = "slack-cc", *, with_redis: bool = True, **options: Any) -> SlackConnector:
        options.setdefault("api_base_url", slack_api.base_url)
        if "webhook_url" not in options:
            options.setdefault("token", "env:SLACK_BOT_TOKEN")
            options.setdefault("channel", CHANNEL)
        options.setdefault("channel_interval", 0)
        config = DestinationConfig(name=name, kind="slack", timeout=5, options=options)
        connector = SlackConnector(config, redis=redis if with_redis else None, environ=ENVIRON)
        made.append(connector)
        return connector

    try:
        yield factory
    finally:
        for connector in made:
            await connector.aclose()
