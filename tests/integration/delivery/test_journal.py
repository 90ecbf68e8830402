"""The batch journal: an unordered batch survives the loss of its Celery message and of its worker.

kombu's Redis transport pops a message (BRPOP) before it records it as
unacknowledged, so a worker killed in between loses the message. These tests
do to the broker exactly what such a worker does (remove the message), or kill
a worker at a chosen instant, and check that the events still arrive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bridge.config import Settings, load_settings
from bridge.config.keys import Keys
from bridge.delivery.app import make_celery_app
from bridge.delivery.deliver import Deliverer
from bridge.delivery.enqueue import Enqueuer
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.journal import BatchJournal, BatchState, new_batch_id
from bridge.delivery.sink import CeleryEventSink
from bridge.events import Event
from connectors.webhook import WebhookConnector
from tests.plugins.delivery import Received, Reply, WebhookSink, WorkerProcess, make_event

QUEUE = "gwsb.delivery"
# A short journal deadline so the sweep acts within the test; it must exceed 1.5 x task_deadline.
FAST_JOURNAL = {"task_deadline": 1.0, "journal_timeout": 2.0, "visibility_timeout": 8.0}


async def _publish(config: Path, events: list[Event]) -> None:
    sink = CeleryEventSink.from_settings(load_settings(config))
    try:
        await sink.publish(events)
    finally:
        await sink.aclose()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


# -- the journal itself ----------------------------------------------------------------------------


async def test_begin_leases_a_batch_once_and_a_finished_batch_is_skipped(redis_client: Redis) -> None:
    journal = BatchJournal(redis_client, Keys())
    batch_id = new_batch_id("crm")
    async with redis_client.pipeline(transaction=True) as pipe:
        journal.add_to(pipe, batch_id, ['{"w":1}', '{"w":2}'], lease=30, now=time.time())
        await pipe.execute()
    assert await journal.begin(batch_id, "a", lease=30) == (BatchState.STARTED, ['{"w":1}', '{"w":2}'])
    assert await journal.begin(batch_id, "b", lease=30) == (BatchState.BUSY, [])  # a duplicate message
    await journal.release(batch_id, "b")  # not the holder: no effect
    assert await journal.begin(batch_id, "c", lease=30) == (BatchState.BUSY, [])
    async with redis_client.pipeline(transaction=True) as pipe:
        journal.complete_to(pipe, batch_id)
        await pipe.execute()
    assert await journal.begin(batch_id, "d", lease=30) == (BatchState.FINISHED, [])
    assert await journal.depth() == 0


async def test_the_sweep_claims_abandoned_batches_once_and_never_a_running_one(redis_client: Redis) -> None:
    journal = BatchJournal(redis_client, Keys())
    queued, running = new_batch_id("crm"), new_batch_id("crm")
    now = time.time()
    async with redis_client.pipeline(transaction=True) as pipe:
        journal.add_to(pipe, queued, ["{}"], lease=10, now=now)
        journal.add_to(pipe, running, ["{}"], lease=10, now=now)
        await pipe.execute()
    assert await journal.claim_abandoned(limit=10, lease=10, now=now + 5) == []  # not due yet
    assert (await journal.begin(running, "t", lease=60))[0] is BatchState.STARTED  # lease until ~now+60
    # Past the deadline: the queued batch is claimed by the first sweep only; the running one never.
    assert await journal.claim_abandoned(limit=10, lease=10, now=now + 11) == [queued]
    assert await journal.claim_abandoned(limit=10, lease=10, now=now + 11) == []
    assert await journal.claim_abandoned(limit=10, lease=10, now=now + 30) == [queued]  # claim lapsed
    assert sorted(await journal.ids()) == sorted([queued, running])


async def test_outcomes_and_the_end_of_the_batch_are_recorded_together(
    redis_url: str, redis_client: Redis, webhook_sink: WebhookSink
) -> None:
    webhook_sink.behaviour = lambda r: Reply(503) if int(r.json()["sequence"]) == 2 else Reply(200)
    fields: dict[str, Any] = {
        "redis_url": redis_url,
        "delivery": {"retry_schedule": [30.0], "retry_jitter": 0},
        "destinations": [{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 2}],
    }
    settings = Settings(**fields)
    destinations = {d.name: d for d in settings.destinations}
    app = make_celery_app(settings)
    enqueuer = Enqueuer(app, redis_client, Keys(), destinations, batch_size=10, queue=QUEUE)
    async with aiohttp.ClientSession() as session:
        deliverer = Deliverer(
            settings=settings.delivery,
            destinations=destinations,
            connectors={"crm": WebhookConnector(destinations["crm"], session=session)},
            routes=settings.routes,
            redis=redis_client,
            keys=Keys(),
            enqueue=enqueuer.enqueue,
            source="test",
        )
        await enqueuer.enqueue([QueuedDelivery.for_event(make_event(n), "crm") for n in (1, 2, 3)])
        (batch_id,) = await deliverer.journal.ids()
        await deliverer.deliver_journaled("crm", batch_id)
        await deliverer.deliver_journaled("crm", batch_id)  # a duplicate message: nothing is sent again
    assert sorted(int(r.json()["sequence"]) for r in webhook_sink.received) == [1, 2, 3]
    assert await deliverer.journal.depth() == 0
    (retry,) = [QueuedDelivery.from_wire(w) for w, _ in await deliverer.retries.entries()]
    assert retry.sequence == 2 and len(retry.attempts) == 1


# -- through real worker processes -----------------------------------------------------------------


async def test_a_batch_whose_message_was_popped_and_lost_is_delivered_by_the_sweep(
    webhook_sink: WebhookSink,
    redis_client: Redis,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 0.8}],
        routes=[{"destinations": ["crm"]}],
        delivery={**FAST_JOURNAL, "batch_size": 10},
    )
    events = [make_event(n) for n in range(1, 26)]
    await _publish(config, events)
    # What a worker killed between kombu's BRPOP and its unacked bookkeeping leaves behind:
    # the messages are gone from the broker; nothing of them is in kombu's unacked hash.
    assert await redis_client.llen(QUEUE) == 3
    assert await redis_client.delete(QUEUE) == 1
    assert await redis_client.hlen("unacked") == 0
    assert len(await BatchJournal(redis_client, Keys()).ids()) == 3
    published = time.time()

    await asyncio.to_thread(worker_factory, config)
    ids = lambda: {r.webhook_id for r in webhook_sink.delivered()}  # noqa: E731
    await webhook_sink.wait_for(lambda: len(ids()) == 25, within=15, what="all 25 events")
    assert ids() == {e.id for e in events}
    assert min(r.at for r in webhook_sink.received) >= published + FAST_JOURNAL["journal_timeout"] - 0.1
    for _ in range(100):  # the last outcomes are recorded just after the last answer
        if not await BatchJournal(redis_client, Keys()).depth():
            break
        await asyncio.sleep(0.05)
    assert await BatchJournal(redis_client, Keys()).depth() == 0


@pytest.mark.slow
async def test_a_worker_killed_after_sending_but_before_recording_leads_to_a_redelivery(
    webhook_sink: WebhookSink,
    redis_client: Redis,
    delivery_config: Callable[..., Path],
    worker_factory: Callable[..., WorkerProcess],
) -> None:
    workers: list[WorkerProcess] = []

    def kill_on_first_receipt(request: Received) -> Reply:
        # The request arrived (the CRM has the event), the worker dies before it hears the answer.
        if len(webhook_sink.received) == 1:
            workers[0].kill()
        return Reply(200)

    webhook_sink.behaviour = kill_on_first_receipt
    config = delivery_config(
        destinations=[
            {"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 0.8, "max_in_flight": 1}
        ],
        routes=[{"destinations": ["crm"]}],
        delivery=FAST_JOURNAL,
    )
    workers.append(await asyncio.to_thread(worker_factory, config))
    events = [make_event(n) for n in range(1, 6)]
    await _publish(config, events)
    await webhook_sink.wait_for(lambda: workers[0].process.poll() is not None, within=10, what="the kill")
    first = webhook_sink.received[0]
    assert len(webhook_sink.received) == 1  # one at a time: the rest were never sent

    workers.append(await asyncio.to_thread(worker_factory, config))
    ids = lambda: {r.webhook_id for r in webhook_sink.received[1:]}  # noqa: E731
    await webhook_sink.wait_for(lambda: len(ids()) == 5, within=15, what="redelivery of the batch")
    again = [r for r in webhook_sink.received[1:] if r.webhook_id == first.webhook_id]
    assert len(again) == 1 and again[0].nth == 2  # the same webhook-id, so the receiver deduplicates
    assert again[0].json()["id"] == first.json()["id"]
    assert ids() == {e.id for e in events}
