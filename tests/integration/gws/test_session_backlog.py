"""AgentSession behind on its messages: the backlog goes out in one publish and one state save.

The GWS side is the in-process simulator and the state store a real Redis; the
sink is held shut (an ``asyncio.Event``) while calls ring and end, so messages
queue up in the CometD client the way they do when the delivery queue is slow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from redis.asyncio import Redis

from bridge.events import Event
from bridge.gws.state_store import RedisStateStore
from bridge.normalize.state import MemoryState
from tests.integration.gws.test_session import CALL_STATES, running_session, wait_until
from tests.plugins.simulator import SimulatorHandle


class GatedSink:
    """Keeps each batch it is handed; while ``open`` is clear, every publish waits for it."""

    def __init__(self) -> None:
        self.batches: list[list[Event]] = []
        self.open = asyncio.Event()
        self.open.set()
        self.waiting = 0

    async def publish(self, events: Sequence[Event]) -> None:
        self.waiting += 1
        try:
            await asyncio.wait_for(self.open.wait(), timeout=20)
        finally:
            self.waiting -= 1
        self.batches.append(list(events))

    @property
    def events(self) -> list[Event]:
        return [event for batch in self.batches for event in batch]

    def states_of(self, call_id: str) -> list[str]:
        return [e.type for e in self.events if e.subject == f"call/{call_id}" and e.type in CALL_STATES]


class CountingStateStore(RedisStateStore):
    """The real Redis store, counting the saves it is asked for."""

    def __init__(self, redis: Redis) -> None:
        super().__init__(redis)
        self.saves = 0

    async def save(self, agent: str, state: MemoryState) -> None:
        self.saves += 1
        await super().save(agent, state)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_backlog_is_handed_on_in_one_publish_and_saved_once(
    simulator: SimulatorHandle, redis: Redis
) -> None:
    store = CountingStateStore(redis)
    sink = GatedSink()
    async with running_session(simulator.base_url, "agent0001", sink, store) as session:  # type: ignore[arg-type]
        sink.open.clear()
        first = await simulator.start_call("agent0001")
        await wait_until(lambda: sink.waiting == 1, what="the first call's publish to block")
        saves_before, messages_before = store.saves, session.status.messages
        calls = [first]
        await simulator.release_call(first)
        for _ in range(3):
            call_id = await simulator.start_call("agent0001")
            await simulator.release_call(call_id)
            calls.append(call_id)
        expected = 1 + 1 + 3 * 2  # messages: the blocked ring, its release, 3 x (ring, release)
        await wait_until(
            lambda: session.cometd.client is not None and session.cometd.client.pending_count >= expected - 1,
            what="the messages to queue up behind the blocked publish",
        )
        sink.open.set()
        await wait_until(
            lambda: session.status.messages - messages_before >= expected, what="the backlog to be handled"
        )
        assert len(sink.batches) - 1 <= 2  # the blocked message, then the backlog (not one publish each)
        assert store.saves - saves_before <= 2
        for call_id in calls:
            assert sink.states_of(call_id) == ["call.ringing", "call.released"]
        ids = [event.id for event in sink.events]
        assert len(ids) == len(set(ids))
        sequences = [e.sequence for e in sink.events if e.subject == f"call/{calls[-1]}"]
        assert sequences == sorted(sequences)
        held = session.handoff.state
    # the saves covered every message of the backlog: a new holder loads exactly what was held
    loaded = await RedisStateStore(redis).load("agent0001")
    assert sorted(loaded.subjects()) == sorted(held.subjects())
    for call_id in calls:
        assert loaded.get(f"call/{call_id}") == held.get(f"call/{call_id}") is not None


class SlowSink(GatedSink):
    """Every publish takes ``delay`` seconds, like a delivery queue under load."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def publish(self, events: Sequence[Event]) -> None:
        await asyncio.sleep(self.delay)
        await super().publish(events)


async def test_a_busy_agent_recovers_soon_after_a_re_handshake(simulator: SimulatorHandle) -> None:
    """Messages keep arriving while the ones received before the re-handshake are handed on.

    The recovery waits for those only, not for a quiet moment that a busy agent never has:
    GWS keeps released calls listed for a while only, and what it published while no
    subscription was there reaches us through that recovery or not at all.
    """
    sink = SlowSink(0.15)
    async with running_session(simulator.base_url, "agent0001", sink, None) as session:  # type: ignore[arg-type]
        load = await simulator.start_load(1, 10.0, 4.0)  # ~40 notifications a second
        await asyncio.sleep(1.0)
        recoveries = session.status.recoveries
        assert await simulator.disconnect_cometd() == 1
        await wait_until(lambda: session.status.recoveries > recoveries, within=6.0, what="the recovery")
        assert (await simulator.load_progress(load))["running"], "recovered only once the calls stopped"
        await wait_until(lambda: not sink.waiting and session.cometd.client is not None and
                         not session.cometd.client.has_pending_messages, what="the rest")  # fmt: skip
