"""RedisStateStore group-commits many agents' saves in one pipeline; each caller hears its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from bridge.gws.state_store import RedisStateStore
from bridge.normalize import MemoryState, StaleStateError, StateStoreError

AGENTS = [f"agent{n:02d}" for n in range(20)]
NAME = "state-store-grouping"  # other tests share the redis-server: count only this client's connections


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_url, client_name=NAME)
    yield client
    await client.aclose()


async def _loaded(store: RedisStateStore) -> dict[str, MemoryState]:
    states = {}
    for agent in AGENTS:
        states[agent] = await store.load(agent)
        states[agent].set("call/1", {"d": {"agent": agent}})
    return states


async def test_concurrent_saves_share_one_connection_and_all_land(client: redis.asyncio.Redis) -> None:
    store = RedisStateStore(client, prefix="group:")
    states = await _loaded(store)
    await asyncio.gather(*(store.save(agent, state) for agent, state in states.items()))
    # 20 saves sent one by one at once would each take a pooled connection of their own
    assert [c["name"] for c in await client.client_list()].count(NAME) == 1
    fresh = RedisStateStore(client, prefix="group:")
    for agent in AGENTS:
        assert (await fresh.load(agent)).get("call/1") == {"d": {"agent": agent}}


async def test_a_stale_agent_fails_alone(client: redis.asyncio.Redis) -> None:
    store = RedisStateStore(client, prefix="group:")
    states = await _loaded(store)
    await RedisStateStore(client, prefix="group:").load(AGENTS[3])  # another holder took agent 3
    results = await asyncio.gather(
        *(store.save(agent, state) for agent, state in states.items()), return_exceptions=True
    )
    assert isinstance(results[3], StaleStateError)
    assert all(result is None for n, result in enumerate(results) if n != 3)
    assert states[AGENTS[3]].changes()  # not marked saved: a later holder re-derives it
    assert not states[AGENTS[4]].changes()


async def test_saves_work_after_redis_forgot_the_script(client: redis.asyncio.Redis) -> None:
    store = RedisStateStore(client, prefix="group:")
    states = await _loaded(store)
    await client.script_flush()
    await asyncio.gather(*(store.save(agent, state) for agent, state in states.items()))
    for agent in AGENTS:
        assert not states[agent].changes()
        assert (await store.load(agent)).get("call/1") == {"d": {"agent": agent}}


async def test_every_caller_hears_that_redis_is_gone() -> None:
    dead = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    store = RedisStateStore(dead, prefix="group:")
    states = {agent: MemoryState() for agent in AGENTS}
    for state in states.values():
        state.set("call/1", {"d": {}})
    results = await asyncio.gather(
        *(store.save(agent, state) for agent, state in states.items()), return_exceptions=True
    )
    assert all(isinstance(result, StateStoreError) for result in results)
    assert all(state.changes() for state in states.values())
    await dead.aclose()
