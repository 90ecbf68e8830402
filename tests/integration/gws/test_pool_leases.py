"""Agent leases against a real Redis: atomic claim, renew and release by owner token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bridge.gws.leases import LeaseError, LeaseManager, fair_shares, make_owner_token


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_only_one_owner_can_claim_an_agent(redis: Redis) -> None:
    first = LeaseManager(redis, owner="a", ttl=5)
    second = LeaseManager(redis, owner="b", ttl=5)

    results = await asyncio.gather(*(m.claim("agent0001") for m in (first, second, first, second)))

    assert results.count(True) == 1
    assert (await first.owners(["agent0001"]))["agent0001"] in {"a", "b"}


async def test_claim_many_takes_only_free_agents(redis: Redis) -> None:
    first = LeaseManager(redis, owner="a", ttl=5)
    second = LeaseManager(redis, owner="b", ttl=5)
    await first.claim_many(["agent0001", "agent0002"])

    claimed = await second.claim_many(["agent0001", "agent0002", "agent0003"])

    assert claimed == ["agent0003"]
    owners = await second.owners(["agent0001", "agent0002", "agent0003", "agent0004"])
    assert owners == {"agent0001": "a", "agent0002": "a", "agent0003": "b", "agent0004": None}


async def test_renew_extends_own_leases_and_reports_lost_ones(redis: Redis) -> None:
    mine = LeaseManager(redis, owner="a", ttl=0.3)
    theirs = LeaseManager(redis, owner="b", ttl=5)
    await mine.claim_many(["agent0001", "agent0002"])
    await redis.delete(mine.key("agent0002"))
    assert await theirs.claim("agent0002")

    lost = await mine.renew(["agent0001", "agent0002"])

    assert lost == {"agent0002"}
    assert 0 < await redis.pttl(mine.key("agent0001")) <= 300
    assert await redis.get(mine.key("agent0002")) == b"b"  # renew never touches another's lease


async def test_expired_lease_can_be_claimed_by_another_owner(redis: Redis) -> None:
    dead = LeaseManager(redis, owner="dead", ttl=0.2)
    alive = LeaseManager(redis, owner="alive", ttl=5)
    assert await dead.claim("agent0001")
    assert not await alive.claim("agent0001")

    await asyncio.sleep(0.3)

    assert await alive.claim("agent0001")
    assert await dead.renew(["agent0001"]) == {"agent0001"}


async def test_release_deletes_only_own_leases(redis: Redis) -> None:
    mine = LeaseManager(redis, owner="a", ttl=5)
    theirs = LeaseManager(redis, owner="b", ttl=5)
    await mine.claim("agent0001")
    await theirs.claim("agent0002")

    released = await mine.release(["agent0001", "agent0002"])

    assert released == 1
    assert await mine.owners(["agent0001", "agent0002"]) == {"agent0001": None, "agent0002": "b"}


async def test_membership_lists_live_owners_with_capacities_and_forgets_dead_ones(redis: Redis) -> None:
    a = LeaseManager(redis, owner="a", ttl=0.3)
    b = LeaseManager(redis, owner="b", ttl=5)

    assert await a.heartbeat(10) == {"a": 10}
    assert await b.heartbeat(70) == {"a": 10, "b": 70}
    await asyncio.sleep(0.4)  # a stopped heartbeating: it is dead
    assert await b.heartbeat(70) == {"b": 70}
    assert await redis.hkeys(b.capacities_key) == [b"b"]
    await b.leave()
    assert await redis.zcard(b.members_key) == 0
    assert await redis.hlen(b.capacities_key) == 0


def test_fair_shares_split_evenly_and_give_what_a_small_member_cannot_take_to_the_others() -> None:
    assert fair_shares(100, {"a": 100, "b": 100}) == {"a": 50, "b": 50}
    assert fair_shares(100, {"a": 10, "b": 100}) == {"a": 10, "b": 90}
    assert fair_shares(100, {"a": 100, "b": 100, "c": 100}) == {"a": 34, "b": 33, "c": 33}
    assert fair_shares(100, {"a": 20, "b": 30}) == {"a": 20, "b": 30}  # not enough room for all
    assert fair_shares(5, {"a": 0, "b": 9}) == {"a": 0, "b": 5}
    assert fair_shares(0, {"a": 3}) == {"a": 0}


async def test_lease_errors_name_the_step(redis_server_factory: type) -> None:
    server = redis_server_factory()
    client = Redis.from_url(server.url, socket_connect_timeout=0.5)
    leases = LeaseManager(client, owner=make_owner_token(), ttl=1)
    server.stop()
    try:
        with pytest.raises(LeaseError, match="claiming the lease of agent 'agent0001'"):
            await leases.claim("agent0001")
    finally:
        await client.aclose()


def test_owner_token_is_unique_per_call() -> None:
    assert make_owner_token() != make_owner_token()
