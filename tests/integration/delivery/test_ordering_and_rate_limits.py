"""FIFO per subject and the shared token bucket, with two real worker processes."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from redis.asyncio import Redis

from bridge.config import load_settings
from bridge.config.keys import Keys
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.ordering import FifoStore
from bridge.delivery.sink import CeleryEventSink
from tests.plugins.delivery import Reply, WebhookSink, WorkerProcess, make_event


async def test_fifo_order_per_subject_holds_under_retries_with_two_workers(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    rng = random.Random(5)

    def behaviour(received: object) -> Reply:
        body = received.json()  # type: ignore[attr-defined]
        # Every 4th event fails its first attempt; replies take 0-10 ms.
        if int(body["sequence"]) % 4 == 0 and received.nth == 1:  # type: ignore[attr-defined]
            return Reply(503, delay=rng.random() / 100)
        return Reply(200, delay=rng.random() / 100)

    webhook_sink.behaviour = behaviour
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "ordered": True}],
        routes=[{"destinations": ["crm"]}],
        delivery={"retry_schedule": [0.2, 0.2]},
    )
    await asyncio.gather(asyncio.to_thread(worker_factory, config), asyncio.to_thread(worker_factory, config))
    subjects = [f"call/{c}" for c in "abcd"]
    sink = CeleryEventSink.from_settings(load_settings(config))
    try:
        for n in range(1, 16):  # interleaved publishes, as calls progress side by side
            await sink.publish([make_event(n, subject=s) for s in subjects])
    finally:
        await sink.aclose()
    await webhook_sink.wait_for(lambda: len(webhook_sink.delivered()) >= 60, within=30, what="60 deliveries")
    await asyncio.sleep(0.3)
    by_subject: dict[str, list[int]] = defaultdict(list)
    for received in webhook_sink.delivered():
        body = received.json()
        by_subject[body["subject"]].append(int(body["sequence"]))
    assert {s: seqs for s, seqs in by_subject.items()} == {s: list(range(1, 16)) for s in subjects}
    assert sum(1 for r in webhook_sink.received if r.status == 503) == 4 * 3  # the retries did happen


async def test_rate_limit_holds_across_two_workers(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    rate, burst, count = 20.0, 5, 60
    config = delivery_config(
        destinations=[
            {
                "name": "crm",
                "kind": "webhook",
                "url": webhook_sink.url,
                "rate_limit": rate,
                "rate_burst": burst,
            }
        ],
        routes=[{"destinations": ["crm"]}],
        delivery={"batch_size": 10},
    )
    await asyncio.gather(asyncio.to_thread(worker_factory, config), asyncio.to_thread(worker_factory, config))
    sink = CeleryEventSink.from_settings(load_settings(config))
    try:
        await sink.publish([make_event(n, subject=f"call/{n}") for n in range(count)])
    finally:
        await sink.aclose()
    await webhook_sink.wait_for(
        lambda: len(webhook_sink.delivered()) >= count, within=20, what="all deliveries"
    )
    times = sorted(r.at for r in webhook_sink.delivered())
    assert times[-1] - times[0] >= (count - burst) / rate - 0.2
    for i, start in enumerate(times):  # no one-second window holds more than the bucket allows
        in_window = sum(1 for t in times[i:] if t < start + 1.0)
        assert in_window <= rate + burst + 1, (i, in_window)
    assert len({r.webhook_id for r in webhook_sink.delivered()}) == count


async def test_fifo_events_left_without_a_kick_are_swept_up_by_a_worker(
    webhook_sink: WebhookSink,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
    redis_url: str,
) -> None:
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "ordered": True}],
        routes=[{"destinations": ["crm"]}],
    )
    # A producer that died between its FIFO add and its kick task.
    client = Redis.from_url(redis_url)
    try:
        async with client.pipeline(transaction=True) as pipe:
            for n in (1, 2, 3):
                FifoStore(client, Keys()).add_to(pipe, QueuedDelivery.for_event(make_event(n), "crm"))
            await pipe.execute()
    finally:
        await client.aclose()
    await asyncio.to_thread(worker_factory, config)
    await webhook_sink.wait_for(lambda: len(webhook_sink.delivered()) == 3, within=10, what="swept events")
    assert [int(r.json()["sequence"]) for r in webhook_sink.delivered()] == [1, 2, 3]
