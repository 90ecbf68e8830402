"""AgentSession against the simulator: notifications that are easy to never receive.

``/v2/me`` (password changes) is not matched by ``/v2/me/*``; workbin
notifications need the workbin ``Subscribe`` operation (seed 003, 8.5.1
Workbins); ``deviceState`` changes only when a device's availability does.
The state store is a real Redis, GWS the in-process simulator.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bridge.events import Event
from bridge.gws import operations
from bridge.gws.state_store import RedisStateStore
from tests.integration.gws.test_session import CollectingSink, StallingProxy, running_session, wait_until
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


async def _park_in_workbin(simulator: SimulatorHandle, agent: str, workbin: str) -> str:
    """An e-mail for ``agent``, accepted and added to ``workbin`` (by name) over an HTTP session of
    its own (straight to GWS, whatever the bridge's network does); returns the e-mail's id."""
    email = await simulator.send_interaction(agent, "email")
    async with simulator.agent_client(agent) as client:
        await client.login()
        _, listed = await client.get("/me/workbins")
        workbin_id = next(w["workbinId"] for w in listed["workbins"] if w["workbinName"] == workbin)
        await client.post(f"/me/interactions/{email}", {"operationName": "Accept"})
        await client.post(f"/me/workbins/{workbin_id}/interactions", {"interactionId": email})
    return email


def _workbin_events(sink: CollectingSink, interaction_id: str) -> list[Event]:
    return [
        e for e in sink.events if e.type.startswith("workbin.") and e.data["interaction_id"] == interaction_id
    ]


async def test_workbins_are_subscribed_after_login_and_recovered_after_a_gap(
    simulator: SimulatorHandle, store: RedisStateStore
) -> None:
    proxy = StallingProxy(int(simulator.base_url.rsplit(":", 1)[1]))
    await proxy.start()
    sink = CollectingSink()
    try:
        async with running_session(proxy.base_url, "agent0001", sink, store) as session:
            subscribes = [
                e["path"]
                for e in await simulator.log(agent="agent0001")
                if e["method"] == "POST" and (e["body"] or {}).get("operationName") == "Subscribe"
            ]
            workbins = await operations.get_workbins(session.rest)
            assert sorted(subscribes) == sorted(f"/api/v2/me/workbins/{w['workbinId']}" for w in workbins)

            live = await _park_in_workbin(simulator, "agent0001", "TestWorkbin")
            await wait_until(lambda: _workbin_events(sink, live), what="the live workbin notification")

            recoveries = session.status.recoveries
            proxy.stall()  # the session hears nothing: GWS forgets its CometD client meanwhile
            assert await simulator.disconnect_cometd() == 1
            missed = await _park_in_workbin(simulator, "agent0001", "EmailWorkbinDraft")
            proxy.resume()
            await wait_until(lambda: session.status.recoveries > recoveries, what="recovery after the gap")
            await wait_until(lambda: _workbin_events(sink, missed), what="the missed interaction")

            recoveries = session.status.recoveries
            restarted_at = time.time()
            await simulator.restart()  # every HTTP session, and its workbin subscription, is gone
            await wait_until(
                lambda: session.status.recoveries > recoveries and session.status.connected,
                what="recovery after the restart",
            )
            after = await _park_in_workbin(simulator, "agent0001", "TestWorkbin")
            await wait_until(lambda: _workbin_events(sink, after), what="the interaction after the new login")
            await asyncio.sleep(0.3)  # anything late would be a duplicate
    finally:
        await proxy.close()

    (placed,) = _workbin_events(sink, live)
    assert (placed.type, placed.subject) == ("workbin.interaction_added", "workbin/agent0001/TestWorkbin")
    assert "recovered" not in placed.data
    (recovered,) = _workbin_events(sink, missed)
    assert (recovered.type, recovered.subject) == (
        "workbin.interaction_added",
        "workbin/agent0001/EmailWorkbinDraft",
    )
    assert recovered.data["recovered"] is True
    (notified,) = _workbin_events(sink, after)  # live, or found by a recovery still under way: once
    assert notified.type == "workbin.interaction_added"
    resubscribed = [
        e
        for e in await simulator.log(agent="agent0001")
        if e["time"] >= restarted_at and (e["body"] or {}).get("operationName") == "Subscribe"
    ]
    assert len(resubscribed) >= len(workbins)
    # GWS published each (the one in the gap to a CometD client it had just dropped): the new
    # HTTP session was subscribed when the last one was placed
    published = simulator.notifications("agent0001", "/v2/me/workbins")
    assert [n["data"]["interaction"]["id"] for n in published] == [live, missed, after]
    ids = [e.id for e in sink.events]
    assert len(ids) == len(set(ids))
