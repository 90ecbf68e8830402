"""AgentSession against the simulator: notifications that are easy to never receive.

``/v2/me`` (password changes) is not matched by ``/v2/me/*``; workbin
notifications need the workbin ``Subscribe`` operation (seed 003, 8.5.1
Workbins); ``deviceState`` changes only when a device's availability does.
The state store is a real Redis, GWS the in-process simulator.
"""

from __future__ import annotations

import asyncio
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


async def test_device_availability_changes_become_device_state_changed(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    sink = CollectingSink()
    async with running_session(simulator.base_url, "agent0001", sink, store):
        before = len(sink.events)
        await simulator.set_service("Voice", "Inactive")
        await wait_until(
            lambda: any(e.type == "device.state_changed" for e in sink.events), what="the device going down"
        )
        await simulator.set_service("Voice", "Active")
        await wait_until(
            lambda: sum(e.type == "device.state_changed" for e in sink.events) == 2, what="the device back"
        )
        await asyncio.sleep(0.2)  # anything else would come now

    down, up = (e for e in sink.events if e.type == "device.state_changed")
    assert (down.data["previous_device_state"], down.data["device_state"]) == ("Active", "Inactive")
    assert (up.data["previous_device_state"], up.data["device_state"]) == ("Inactive", "Active")
    assert down.subject == up.subject == f"device/{down.data['device_id']}"
    assert down.id != up.id
    # the availability changes are only that: no agent-state or DND change comes with them
    assert [e.type for e in sink.events[before:]] == ["service.state_changed", "device.state_changed"] * 2
