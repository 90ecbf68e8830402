"""A client's rate limit holds across receivers (one bucket in Redis), and without Redis too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.integration.inbound.conftest import ReceiverHandle, default_clients


def _limited(rate: float, burst: int) -> list[dict[str, Any]]:
    clients = default_clients()
    clients[0] = dict(clients[0], rate_limit=rate, burst=burst)  # "crm"
    return clients


async def test_two_receivers_share_one_bucket_per_client(
    receiver_factory: Callable[..., Awaitable[ReceiverHandle]],
) -> None:
    first = await receiver_factory(clients=_limited(0.5, 4))
    second = await receiver_factory(clients=_limited(0.5, 4))
    statuses = []
    for n in range(8):  # alternating: each receiver alone would admit 4 of its 4
        receiver = first if n % 2 == 0 else second
        statuses.append((await receiver.call("GET", "/v1/commands/c0ffee"))[0])
    assert statuses.count(404) == 4, statuses  # authenticated and rate-checked: no such command
    assert statuses.count(429) == 4, statuses


async def test_without_redis_each_receiver_still_limits_on_its_own(
    receiver_factory: Callable[..., Awaitable[ReceiverHandle]],
) -> None:
    receiver = await receiver_factory(store_url="redis://127.0.0.1:9/0", clients=_limited(0.5, 2))
    statuses = [(await receiver.call("GET", "/v1/commands/c0ffee"))[0] for _ in range(3)]
    assert statuses == [503, 503, 429]  # the store is away (503), but the third is over the limit


async def test_a_command_takes_its_token_with_its_claim_and_a_refused_one_claims_nothing(
    receiver_factory: Callable[..., Awaitable[ReceiverHandle]], simulator: Any, redis_url: str
) -> None:
    """POST /v1/commands takes the token and claims the Idempotency-Key in one script: over the
    limit it is 429 and the key stays free; a bad body over the limit is 429 too (429 comes first)."""
    import redis.asyncio as aioredis

    from bridge.config.keys import DEFAULT_KEYS

    receiver = await receiver_factory(clients=_limited(0.01, 2))
    await simulator.log(clear=True)
    statuses = []
    for n in range(3):
        document = {"agent": "agent0001", "action": "agent.ready"}
        status, _, _ = await receiver.call(
            "POST", "/v1/commands", document, headers={"Idempotency-Key": f"k{n}"}
        )
        statuses.append(status)
    assert statuses == [202, 202, 429]
    assert (await receiver.call("POST", "/v1/commands", raw=b"{not json"))[0] == 429
    assert (await receiver.call("POST", "/v1/commands", {"agent": "agent0001", "action": "nope"}))[0] == 429
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.exists(DEFAULT_KEYS.inbound.idempotency("crm", "k1")) == 1
        assert await client.exists(DEFAULT_KEYS.inbound.idempotency("crm", "k2")) == 0
    finally:
        await client.aclose()
    posts = [e for e in await simulator.log() if e["method"] == "POST"]
    assert len(posts) == 2, posts


async def test_without_redis_a_keyed_command_is_still_limited_in_process(
    receiver_factory: Callable[..., Awaitable[ReceiverHandle]],
) -> None:
    receiver = await receiver_factory(store_url="redis://127.0.0.1:9/0", clients=_limited(0.5, 2))
    document = {"agent": "agent0001", "action": "agent.ready"}
    statuses = [
        (await receiver.call("POST", "/v1/commands", document, headers={"Idempotency-Key": f"k{n}"}))[0]
        for n in range(3)
    ]
    assert statuses == [503, 503, 429]
