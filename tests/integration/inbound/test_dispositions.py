"""call.set_disposition through the receiver, with the agent's session in a subscriber pool.

GWS notifies a disposition on an active call (AttachedDataChanged) but not one on a call
already released (002:5504-5623); the receiver files a note and the subscriber reports it.
The simulator is GWS, Redis is real (notes, leases, state), the pool's sink collects events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bridge.config.gws import AgentConfig, GwsSettings
from bridge.events import Event
from bridge.gws.notes import AgentNotes
from bridge.gws.pool import SessionPool
from bridge.gws.state_store import RedisStateStore
from tests.integration.inbound.conftest import ReceiverHandle
from tests.plugins.simulator import SimulatorHandle

AGENT = "agent0001"


class CollectingSink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)

    def of(self, event_type: str, call_id: str) -> list[Event]:
        return [e for e in self.events if e.type == event_type and e.subject == f"call/{call_id}"]


async def wait_until(condition: Callable[[], bool], *, within: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def subscribed(
    simulator: SimulatorHandle, redis_url: str
) -> AsyncIterator[tuple[SessionPool, CollectingSink]]:
    """The agent's session in a pool that takes the receiver's notes, connected."""
    redis = Redis.from_url(redis_url)
    sink = CollectingSink()
    pool = SessionPool(
        [AgentConfig(username=AGENT, password=SecretStr(simulator.password))],
        gws=GwsSettings(base_url=simulator.base_url), sink=sink, redis=redis,
        state_store=RedisStateStore(redis), lease_ttl=0.6, notes=AgentNotes(redis),
    )  # fmt: skip
    await pool.start()
    try:
        await wait_until(lambda: pool.status().connected == 1, what="the agent's session")
        yield pool, sink
    finally:
        await pool.stop()
        await redis.aclose()


def pool_notes(pool: SessionPool) -> AgentNotes:
    notes = pool._notes
    assert notes is not None
    return notes


async def _answered_call(simulator: SimulatorHandle, receiver: ReceiverHandle, sink: CollectingSink) -> str:
    call_id = await simulator.start_call(AGENT)
    await wait_until(lambda: bool(sink.of("call.ringing", call_id)), what="the call ringing")
    status, body, _ = await receiver.command("call.answer", call_id=call_id)
    assert status in (200, 202), body
    await wait_until(lambda: bool(sink.of("call.established", call_id)), what="the call answered")
    return call_id


async def test_a_disposition_after_hang_up_is_reported_once(
    simulator: SimulatorHandle, receiver: ReceiverHandle, subscribed: tuple[SessionPool, CollectingSink]
) -> None:
    pool, sink = subscribed
    call_id = await _answered_call(simulator, receiver, sink)
    status, body, _ = await receiver.command("call.hangup", call_id=call_id)
    assert status in (200, 202), body
    await wait_until(lambda: bool(sink.of("call.released", call_id)), what="the call released")
    published = len(simulator.notifications(AGENT, "/v2/me/calls"))

    status, body, _ = await receiver.command(
        "call.set_disposition", call_id=call_id, disposition="IssueResolved"
    )
    assert status in (200, 202), body
    assert body["status"] == "accepted"  # GWS took it; nothing from GWS will confirm it
    await wait_until(lambda: bool(sink.of("call.disposition_set", call_id)), what="call.disposition_set")
    assert len(simulator.notifications(AGENT, "/v2/me/calls")) == published  # GWS said nothing
    # The note's event is published: the command ends succeeded (well before outcome_timeout,
    # 3 s here, would call it unknown), settled by no GWS notification.
    record = await receiver.status_of(body["id"], until="settled", within=2.0)
    assert record["status"] == "succeeded", record
    assert "notification" not in record

    # GWS forgets the CometD client: the recovery lists the released call, disposition attached
    (session_status,) = pool.status().sessions
    assert await simulator.disconnect_cometd() >= 1  # the session's, and the receiver's listener
    await wait_until(
        lambda: pool.status().sessions[0].recoveries > session_status.recoveries, what="the recovery"
    )
    await asyncio.sleep(0.3)  # anything late would be a second event

    (disposed,) = sink.of("call.disposition_set", call_id)
    assert (disposed.data["disposition"], disposed.data["disposition_key"]) == (
        "IssueResolved",
        "DispositionCode",
    )
    assert disposed.data["state"] == "Released"
    assert disposed.data["notification_type"] is None
    assert [e.type for e in sink.events if e.subject == f"call/{call_id}"][-2:] == [
        "call.data_changed",
        "call.disposition_set",
    ]
    sequences = [e.sequence for e in sink.events if e.subject == f"call/{call_id}"]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert await pool_notes(pool).waiting([AGENT]) == []  # taken, and removed once handled


async def test_the_commands_disposition_key_is_honoured_on_an_active_call(
    simulator: SimulatorHandle, receiver: ReceiverHandle, subscribed: tuple[SessionPool, CollectingSink]
) -> None:
    _, sink = subscribed
    call_id = await _answered_call(simulator, receiver, sink)
    status, body, _ = await receiver.command(
        "call.set_disposition", call_id=call_id, disposition="UpdateProvided", key="WrapUp"
    )
    assert status in (200, 202), body
    await wait_until(lambda: bool(sink.of("call.disposition_set", call_id)), what="call.disposition_set")
    await receiver.command("call.hangup", call_id=call_id)
    await wait_until(lambda: bool(sink.of("call.released", call_id)), what="the call released")
    await asyncio.sleep(0.3)

    (disposed,) = sink.of("call.disposition_set", call_id)
    assert (disposed.data["disposition"], disposed.data["disposition_key"]) == ("UpdateProvided", "WrapUp")
    assert disposed.data["user_data"]["WrapUp"] == "UpdateProvided"
    assert len(sink.of("call.data_changed", call_id)) == 1
