"""SessionPool against the simulator and a real Redis: sharing, capacity, hand-over, lost leases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bridge.config.gws import AgentConfig, GwsSettings
from bridge.events import Event
from bridge.gws.pool import SessionPool
from bridge.gws.state_store import RedisStateStore
from tests.plugins.simulator import SimulatorHandle


class CollectingSink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


async def wait_until(condition: Callable[[], bool], *, within: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def make_pool(redis: Redis) -> AsyncIterator[Callable[..., SessionPool]]:
    """``make_pool(simulator, agents, sink, **options)``: started pools, all stopped at the end."""
    pools: list[SessionPool] = []

    def factory(sim: SimulatorHandle, agents: list[str], sink: CollectingSink, **options: Any) -> SessionPool:
        configs = [AgentConfig(username=a, password=SecretStr(sim.password)) for a in agents]
        options.setdefault("lease_ttl", 0.6)
        pool = SessionPool(
            configs, gws=GwsSettings(base_url=sim.base_url), sink=sink, redis=redis,
            state_store=RedisStateStore(redis), **options,
        )  # fmt: skip
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        await pool.stop()


def connected(pool: SessionPool) -> int:
    return pool.status().connected


async def test_pool_runs_every_agent_and_reports_status(
    simulator_factory: Callable[..., Any], make_pool: Callable[..., SessionPool]
) -> None:
    sim = await simulator_factory(agents=6)
    sink = CollectingSink()
    pool = make_pool(sim, sim.agents, sink)
    await pool.start()

    await wait_until(lambda: connected(pool) == 6, what="6 connected sessions")
    call_id = await sim.start_call("agent0006")
    await wait_until(lambda: any(e.subject == f"call/{call_id}" for e in sink.events), what="the call")

    status = pool.status()
    assert status.owned == 6 and status.agents_total == 6 and status.members == 1
    assert [s.agent for s in status.sessions] == sim.agents
    assert all(s.recoveries >= 1 for s in status.sessions)
    assert (await pool.leases.owners(sim.agents)) == {a: pool.owner for a in sim.agents}


async def test_capacity_limits_how_many_agents_a_pool_holds(
    simulator_factory: Callable[..., Any], make_pool: Callable[..., SessionPool]
) -> None:
    sim = await simulator_factory(agents=5)
    pool = make_pool(sim, sim.agents, CollectingSink(), capacity=2)
    await pool.start()

    await wait_until(lambda: connected(pool) == 2, what="2 connected sessions")
    await asyncio.sleep(3 * pool.tick)

    assert len(pool.owned_agents) == 2
    owners = await pool.leases.owners(sim.agents)
    assert sorted(a for a, o in owners.items() if o == pool.owner) == sorted(pool.owned_agents)
    assert sum(1 for o in owners.values() if o is None) == 3


async def test_two_pools_share_agents_and_a_clean_stop_hands_them_over(
    simulator_factory: Callable[..., Any], make_pool: Callable[..., SessionPool]
) -> None:
    sim = await simulator_factory(agents=8)
    sink = CollectingSink()
    first = make_pool(sim, sim.agents, sink)
    second = make_pool(sim, sim.agents, sink)
    await first.start()
    await wait_until(lambda: connected(first) == 8, what="the first pool to hold everyone")
    await second.start()

    await wait_until(
        lambda: len(first.owned_agents) == 4 and connected(second) == 4, what="the agents to be shared 4/4"
    )
    assert not first.owned_agents & second.owned_agents
    calls = {agent: await sim.start_call(agent) for agent in sim.agents}
    subjects = {f"call/{c}" for c in calls.values()}
    ringing = lambda: {e.subject for e in sink.events if e.type == "call.ringing"}  # noqa: E731
    await wait_until(lambda: ringing() >= subjects, what="every call ringing")

    await first.stop()  # clean: leases released, no TTL wait
    await wait_until(lambda: connected(second) == 8, within=5, what="the second pool to take everyone")
    for call_id in calls.values():
        await sim.release_call(call_id)
    await wait_until(
        lambda: sum(1 for e in sink.events if e.type == "call.released") == len(calls), what="every release"
    )
    await asyncio.sleep(0.3)

    ids = [e.id for e in sink.events]
    assert len(ids) == len(set(ids))
    for subject in subjects:
        states = [e.type for e in sink.events if e.subject == subject and e.type.startswith("call.r")]
        assert states == ["call.ringing", "call.released"], subject


async def test_a_lost_lease_stops_the_agent_session(
    simulator_factory: Callable[..., Any], make_pool: Callable[..., SessionPool], redis: Redis
) -> None:
    sim = await simulator_factory(agents=2)
    pool = make_pool(sim, sim.agents, CollectingSink(), lease_ttl=0.6)
    await pool.start()
    await wait_until(lambda: connected(pool) == 2, what="2 connected sessions")

    # Another process took agent0001 over (as after a long stall of this one).
    await redis.set(pool.leases.key("agent0001"), "someone-else", px=60_000)

    await wait_until(lambda: pool.owned_agents == {"agent0002"}, within=3, what="agent0001's session to stop")
    assert await redis.get(pool.leases.key("agent0001")) == b"someone-else"  # not released by us
    live = sim.sim
    assert live is not None
    await wait_until(lambda: live.bayeux.client_count == 1, what="one CometD client")


async def test_a_small_pool_takes_its_capacity_and_a_big_one_the_rest(
    simulator_factory: Callable[..., Any], make_pool: Callable[..., SessionPool]
) -> None:
    sim = await simulator_factory(agents=6)
    small = make_pool(sim, sim.agents, CollectingSink(), capacity=1)
    big = make_pool(sim, sim.agents, CollectingSink())
    await small.start()
    await big.start()

    await wait_until(lambda: connected(small) == 1 and connected(big) == 5, what="a 1/5 split")
    await asyncio.sleep(3 * big.tick)  # and it stays that way: no hand-over ping-pong
    assert len(small.owned_agents) == 1 and len(big.owned_agents) == 5
    assert not small.owned_agents & big.owned_agents
