"""Redis-backed delivery state against a real Redis: token bucket, schedule claims, DLQ, health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bridge.config.delivery import HealthPolicy
from bridge.config.keys import Keys
from bridge.delivery.deadletters import DeadLetterStore
from bridge.delivery.health import HealthStore
from bridge.delivery.items import AttemptRecord, QueuedDelivery
from bridge.delivery.ratelimit import TokenBucket
from bridge.delivery.retries import RetrySchedule
from tests.plugins.delivery import make_event

KEYS = Keys("gwsb")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def delivery(n: int, destination: str = "crm") -> QueuedDelivery:
    return QueuedDelivery.for_event(make_event(n), destination)


async def test_token_bucket_grants_the_burst_then_the_rate(redis: Redis) -> None:
    bucket = TokenBucket(redis, KEYS, "crm", rate=10.0, burst=5)
    granted, wait = await bucket.take(8)
    assert granted == 5 and 0 < wait <= 0.1
    await asyncio.sleep(0.35)
    granted, _ = await bucket.take(8)
    assert 3 <= granted <= 4  # ~0.35 s x 10/s
    other = TokenBucket(redis, KEYS, "crm", rate=10.0, burst=5)  # another worker shares the bucket
    assert (await other.take(1))[0] == 0


async def test_a_claim_hides_entries_from_other_pollers_until_the_lease_ends(redis: Redis) -> None:
    schedule = RetrySchedule(redis, KEYS)
    now = time.time()
    await schedule.add([("due-1", now - 1), ("due-2", now - 0.5), ("later", now + 60)])
    first, second = await asyncio.gather(
        schedule.claim(limit=10, lease=0.3), schedule.claim(limit=10, lease=0.3)
    )
    assert sorted(first + second) == ["due-1", "due-2"]  # each claimed by exactly one poller
    assert await schedule.claim(limit=10, lease=0.3) == []
    await asyncio.sleep(0.35)  # the claimer died without removing them: they come back
    assert sorted(await schedule.claim(limit=10, lease=5)) == ["due-1", "due-2"]
    await schedule.remove(["due-1", "due-2"])
    assert [wire for wire, _ in await schedule.entries()] == ["later"]


async def test_dead_letters_filter_by_destination_and_time_then_replay_or_purge(redis: Redis) -> None:
    store = DeadLetterStore(redis, KEYS)
    failed = delivery(1).with_attempt(AttemptRecord(time.time(), "failed", "HTTP 410"))
    await store.add(failed, "gone")
    await asyncio.sleep(0.05)
    middle = time.time()
    await store.add(delivery(2, "slack"), "exhausted")
    await store.add(delivery(3), "exhausted")
    assert [x.id for x in await store.select(destination="crm")] == [
        f"crm:{make_event(1).id}",
        f"crm:{make_event(3).id}",
    ]
    assert [x.delivery.event_id for x in await store.select(since=middle)] == [
        make_event(2).id,
        make_event(3).id,
    ]
    assert [x.delivery.event_id for x in await store.select(until=middle)] == [make_event(1).id]
    letter = await store.get(f"crm:{make_event(1).id}")
    assert letter is not None and letter.delivery.attempts[0].detail == "HTTP 410"

    assert await store.replay(await store.select(destination="crm", until=middle)) == 1
    scheduled = [QueuedDelivery.from_wire(w) for w, _ in await RetrySchedule(redis, KEYS).entries()]
    assert [(d.event_id, d.attempts) for d in scheduled] == [(make_event(1).id, ())]  # fresh attempt log
    assert await store.purge(await store.select(destination="slack")) == 1
    assert [x.delivery.event_id for x in await store.select()] == [make_event(3).id]


async def test_a_run_of_failures_disables_only_after_threshold_and_span(redis: Redis) -> None:
    health = HealthStore(redis, KEYS)
    policy = HealthPolicy(failure_threshold=3, failure_window=60, failure_min_span=0.2)
    assert not await health.record("crm", successes=0, failures=3, policy=policy, reason="r")  # too quick
    await health.record("crm", successes=1, failures=0, policy=policy, reason="r")  # a success resets
    assert await health.failure_count("crm") == 0
    assert not await health.record("crm", successes=0, failures=2, policy=policy, reason="r")
    await asyncio.sleep(0.25)
    assert await health.record("crm", successes=0, failures=1, policy=policy, reason="3 failures")
    assert not await health.record("crm", successes=0, failures=1, policy=policy, reason="r")  # once
    assert (await health.disabled())["crm"].reason == "3 failures"


async def test_disabled_destinations_park_deliveries_and_enable_reschedules_them(redis: Redis) -> None:
    health = HealthStore(redis, KEYS)
    wires = [delivery(1).to_wire(), delivery(2).to_wire()]
    assert not await health.park_if_disabled("crm", wires)  # enabled: nothing parked
    assert await health.disable("crm", "HTTP 410")
    assert not await health.disable("crm", "again")  # only the first disable counts
    assert await health.park_if_disabled("crm", wires)
    assert await health.parked_count("crm") == 2
    assert await health.enable("crm") == 2
    assert not await health.is_disabled("crm") and await health.parked_count("crm") == 0
    assert sorted(w for w, _ in await RetrySchedule(redis, KEYS).entries()) == sorted(wires)
