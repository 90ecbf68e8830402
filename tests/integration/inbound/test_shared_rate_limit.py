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
