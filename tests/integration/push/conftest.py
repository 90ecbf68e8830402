"""Shared pieces of the push integration tests: a registry on the private Redis, events, tokens."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from bridge.events import Event
from bridge.mobile.registry import DeviceRegistry

AGENT = "agent.smith@corp"


def ios_token() -> str:
    return secrets.token_hex(32)


def android_token() -> str:
    return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(100)}"


def make_event(
    event_type: str, data: dict[str, Any], *, agent: str = AGENT, event_id: str | None = None
) -> Event:
    return Event(
        id=event_id or secrets.token_hex(8),
        source=f"gws-bridge/{agent}",
        type=event_type,
        subject="test/" + event_type,
        time=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        data={"agent": agent, **data},
        sequence=1,
        partitionkey=agent,
    )


def ringing(call_id: str = "0071023529204008", **data: Any) -> Event:
    fields = {"call_id": call_id, "state": "Ringing", "ani": "+15551234567"}
    fields["notification_type"] = "StatusChange"
    return make_event("call.ringing", {**fields, **data})


class Emitted:
    """The connector's ``emit`` hook, recording what it gets."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def registry(redis_client: Redis) -> DeviceRegistry:
    return DeviceRegistry(redis_client)


@pytest.fixture
def emitted() -> Emitted:
    return Emitted()
