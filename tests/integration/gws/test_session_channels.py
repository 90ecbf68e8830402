"""AgentSession against the simulator: the notifications that arrive only on the right channels.

``/v2/me`` (password changes) is not matched by ``/v2/me/*``; workbin
notifications need the workbin ``Subscribe`` operation (seed 003, 8.5.1
Workbins). The state store is a real Redis, GWS the in-process simulator.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bridge.gws.state_store import RedisStateStore
from tests.integration.gws.test_session import CollectingSink, running_session, wait_until
from tests.plugins.simulator import SimulatorHandle


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStateStore]:
    client = Redis.from_url(redis_url)
    yield RedisStateStore(client)
    await client.aclose()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_password_change_notifications_on_v2_me_become_events(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    sink = CollectingSink()
    async with running_session(simulator.base_url, "agent0001", sink, store) as session:
        wrong = {"operationName": "ChangePassword", "oldPassword": _b64("nope"), "newPassword": _b64("x")}
        await session.rest.request("POST", "/me", json=wrong)
        await wait_until(
            lambda: any(e.type == "user.password_changed" for e in sink.events), what="the refused change"
        )
        good = {"operationName": "ChangePassword", "oldPassword": _b64("password"), "newPassword": _b64("s3")}
        await session.rest.request("POST", "/me", json=good)
        await wait_until(
            lambda: sum(e.type == "user.password_changed" for e in sink.events) == 2,
            what="the successful change",
        )

    assert simulator.notifications("agent0001", "/v2/me")  # GWS's channel, not one below /v2/me
    refused, changed = (e for e in sink.events if e.type == "user.password_changed")
    assert refused.subject == changed.subject == "user/agent0001"
    assert refused.data["successful"] is False
    assert refused.data["error_code"] == "2"
    assert refused.data["error_reason"] == "wrong_old_password"
    assert changed.data["successful"] is True
    assert changed.data["error_code"] is None
    assert "s3" not in repr(sink.events)  # the request's passwords are in no event
