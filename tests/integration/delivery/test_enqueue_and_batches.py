"""The subscriber's hand-off (CeleryEventSink) and the batch task body, against real Redis and a sink."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bridge.config import Settings, load_settings
from bridge.config.keys import Keys
from bridge.delivery.app import DELIVER_JOURNALED, make_celery_app
from bridge.delivery.deliver import Deliverer
from bridge.delivery.enqueue import EnqueueError, Enqueuer
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.sink import CeleryEventSink
from bridge.events import EventSink
from connectors.webhook import WebhookConnector
from tests.plugins.delivery import Reply, WebhookSink, make_event
from tests.plugins.redis_server import RedisServer

QUEUE = "gwsb.delivery"


async def queued_tasks(redis_url: str) -> list[tuple[str, list[object]]]:
    """(task name, args) of every message waiting in the Celery queue, oldest first.

    A journaled batch's args ``[destination, batch id]`` are shown as ``[destination, wires]``,
    the wires read from the batch journal (so a message whose batch is not journaled fails here).
    """
    client = Redis.from_url(redis_url)
    try:
        raw = await client.lrange(QUEUE, 0, -1)
        tasks = []
        for message in reversed(raw):  # kombu LPUSHes
            envelope = json.loads(message)
            args, _, _ = json.loads(base64.b64decode(envelope["body"]))
            name = envelope["headers"]["task"]
            if name == DELIVER_JOURNALED:
                stored = await client.hget(Keys().journal, args[1])
                assert stored is not None, f"batch {args[1]} is not in the journal"
                assert await client.zscore(Keys().journal_due, args[1]) is not None
                args = [args[0], stored.decode().split("\n")]
            tasks.append((name, args))
    finally:
        await client.aclose()
    return tasks


async def test_publish_routes_and_batches_per_destination(
    delivery_config: Callable[..., Path], redis_url: str
) -> None:
    config = delivery_config(
        destinations=[
            {"name": "crm", "kind": "webhook", "url": "http://127.0.0.1:9/crm"},
            {"name": "audit", "kind": "console"},
        ],
        routes=[
            {"events": ["call.*"], "destinations": ["crm", "audit"]},
            {"events": ["agent.*"], "destinations": ["audit"]},
        ],
        delivery={"batch_size": 50},
    )
    sink = CeleryEventSink.from_settings(load_settings(config))
    as_protocol: EventSink = sink  # the subscriber's contract (checked by mypy)
    try:
        calls = [make_event(n) for n in range(120)]
        assert as_protocol is sink
        await sink.publish(
            [*calls, make_event(1, type="agent.state_changed"), make_event(2, type="service.state_changed")]
        )
    finally:
        await sink.aclose()
    tasks = await queued_tasks(redis_url)
    sizes = [(args[0], len(args[1])) for _, args in tasks]  # type: ignore[arg-type]
    assert sorted(sizes) == sorted(
        [("crm", 50), ("crm", 50), ("crm", 20), ("audit", 50), ("audit", 50), ("audit", 21)]
    )
    first = QueuedDelivery.from_wire(tasks[0][1][1][0])  # type: ignore[index]
    assert first.event() == calls[0] and first.attempts == ()


async def test_ordered_destinations_get_fifo_entries_and_one_kick_per_subject(
    delivery_config: Callable[..., Path], redis_url: str
) -> None:
    config = delivery_config(
        destinations=[{"name": "crm", "kind": "webhook", "url": "http://127.0.0.1:9/", "ordered": True}],
        routes=[{"destinations": ["crm"]}],
    )
    sink = CeleryEventSink.from_settings(load_settings(config))
    try:
        await sink.publish([make_event(n, subject=f"call/{n % 2}") for n in range(1, 7)])
        await sink.publish([make_event(3, subject="call/1")])  # a duplicate: stored once
    finally:
        await sink.aclose()
    tasks = await queued_tasks(redis_url)
    assert sorted(args[1] for _, args in tasks[:2]) == ["call/0", "call/1"]  # type: ignore[type-var]
    client = Redis.from_url(redis_url)
    try:
        assert await client.zrange(Keys().fifo("crm", "call/1"), 0, -1) == [
            make_event(n, subject="call/1").id.encode() for n in (1, 3, 5)
        ]
    finally:
        await client.aclose()


async def test_publish_raises_when_redis_is_unreachable(
    delivery_config: Callable[..., Path], redis_server_factory: type[RedisServer], tmp_path: Path
) -> None:
    server = redis_server_factory()
    config = tmp_path / "down.toml"
    config.write_text(
        f'redis_url = "{server.url}"\n[[destinations]]\nname = "audit"\nkind = "console"\n'
        '[[routes]]\ndestinations = ["audit"]\n'
    )
    sink = CeleryEventSink.from_settings(load_settings(config))
    server.stop()
    try:
        with pytest.raises(EnqueueError):
            await asyncio.wait_for(sink.publish([make_event(1)]), timeout=20)
    finally:
        await sink.aclose()


def settings_of(**fields: Any) -> Settings:
    """Settings from plain dicts, as a TOML file would give them."""
    return Settings(**fields)


@pytest.fixture
async def deliverer_for(redis_url: str, webhook_sink: WebhookSink) -> AsyncIterator[Callable[..., Deliverer]]:
    session = aiohttp.ClientSession()
    redis = Redis.from_url(redis_url)

    def build(settings: Settings) -> Deliverer:
        destinations = {d.name: d for d in settings.destinations}
        enqueuer = Enqueuer(
            make_celery_app(settings), redis, Keys(), destinations, batch_size=100, queue=QUEUE
        )
        return Deliverer(
            settings=settings.delivery,
            destinations=destinations,
            connectors={n: WebhookConnector(d, session=session) for n, d in destinations.items()},
            routes=settings.routes,
            redis=redis,
            keys=Keys(),
            enqueue=enqueuer.enqueue,
            source="test",
        )

    yield build
    await session.close()
    await redis.aclose()


async def test_sends_cut_off_by_the_task_deadline_are_retried_not_lost(
    webhook_sink: WebhookSink, redis_url: str, deliverer_for: Callable[..., Deliverer]
) -> None:
    webhook_sink.behaviour = lambda r: Reply(200, delay=2.0 if int(r.json()["sequence"]) == 1 else 0)
    settings = settings_of(
        redis_url=redis_url,
        delivery={"task_deadline": 0.5, "visibility_timeout": 5, "retry_schedule": [30.0], "retry_jitter": 0},
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 2.0,
                       "max_in_flight": 1}],
    )  # fmt: skip
    deliverer = deliverer_for(settings)
    wires = [QueuedDelivery.for_event(make_event(n), "crm").to_wire() for n in (1, 2)]
    await deliverer.deliver_batch("crm", wires)
    scheduled = [QueuedDelivery.from_wire(w) for w, _ in await deliverer.retries.entries()]
    by_id = {d.sequence: d for d in scheduled}
    assert set(by_id) == {1, 2}
    assert len(by_id[1].attempts) == 1  # it was sent and cut off: an attempt
    assert by_id[2].attempts == ()  # it never started (max_in_flight=1): deferred, no attempt used


async def test_deliveries_for_an_unconfigured_destination_are_dead_lettered(
    redis_url: str, deliverer_for: Callable[..., Deliverer]
) -> None:
    deliverer = deliverer_for(Settings(redis_url=redis_url))
    await deliverer.deliver_batch("gone", [QueuedDelivery.for_event(make_event(1), "gone").to_wire()])
    (letter,) = await deliverer.dead_letters.select()
    assert letter.id == f"gone:{make_event(1).id}" and "not configured" in letter.reason


async def test_a_failing_run_auto_disables_and_emits_destination_disabled(
    webhook_sink: WebhookSink, redis_url: str, deliverer_for: Callable[..., Deliverer]
) -> None:
    webhook_sink.behaviour = lambda _: Reply(500)
    settings = settings_of(
        redis_url=redis_url,
        delivery={"health": {"failure_threshold": 3, "failure_min_span": 0}},
        destinations=[
            {"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 2},
            {"name": "ops", "kind": "webhook", "url": webhook_sink.url, "timeout": 2},
        ],
        routes=[{"events": ["destination.*"], "destinations": ["ops"]}],
    )
    deliverer = deliverer_for(settings)
    await deliverer.deliver_batch(
        "crm", [QueuedDelivery.for_event(make_event(n), "crm").to_wire() for n in (1, 2)]
    )
    assert not await deliverer.health.is_disabled("crm")
    await deliverer.deliver_batch("crm", [QueuedDelivery.for_event(make_event(3), "crm").to_wire()])
    assert await deliverer.health.is_disabled("crm")
    (task,) = await queued_tasks(redis_url)
    notice = QueuedDelivery.from_wire(task[1][1][0])  # type: ignore[index]
    assert notice.destination == "ops" and notice.event().type == "destination.disabled"
    # Nothing is lost: the 3 failed events wait in the retry schedule.
    assert len(await deliverer.retries.entries()) == 3


async def test_fifo_head_that_dies_is_dead_lettered_and_the_subject_moves_on(
    webhook_sink: WebhookSink, redis_url: str, deliverer_for: Callable[..., Deliverer]
) -> None:
    webhook_sink.behaviour = lambda r: Reply(500) if int(r.json()["sequence"]) == 2 else Reply(200)
    settings = settings_of(
        redis_url=redis_url,
        delivery={"retry_schedule": [0.1], "retry_jitter": 0},
        destinations=[
            {"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 2, "ordered": True}
        ],
    )
    deliverer = deliverer_for(settings)
    deliveries = [QueuedDelivery.for_event(make_event(n), "crm") for n in (3, 1, 2)]
    await deliverer.deliver_batch("crm", [d.to_wire() for d in deliveries])  # joins the FIFO queue
    await deliverer.deliver_subject("crm", "call/c1")
    assert [int(r.json()["sequence"]) for r in webhook_sink.delivered()] == [1]  # 2 failed: 3 waits behind it
    assert await deliverer.fifo.blocked_until("crm", "call/c1") > 0
    await deliverer.deliver_subject("crm", "call/c1")  # still blocked: nothing happens
    assert len(webhook_sink.received) == 2
    await asyncio.sleep(0.15)
    await deliverer.deliver_subject("crm", "call/c1")  # 2 fails again (last attempt), is dead; 3 goes
    assert [int(r.json()["sequence"]) for r in webhook_sink.delivered()] == [1, 3]
    (letter,) = await deliverer.dead_letters.select()
    assert letter.delivery.sequence == 2 and len(letter.delivery.attempts) == 2
    assert await deliverer.fifo.pending("crm", "call/c1") == 0
    assert await deliverer.fifo.subjects("crm") == []


async def test_an_unreadable_entry_is_set_aside_not_dropped(
    webhook_sink: WebhookSink, redis_url: str, deliverer_for: Callable[..., Deliverer]
) -> None:
    settings = settings_of(
        redis_url=redis_url,
        destinations=[{"name": "crm", "kind": "webhook", "url": webhook_sink.url, "timeout": 2}],
    )
    deliverer = deliverer_for(settings)
    good = QueuedDelivery.for_event(make_event(1), "crm").to_wire()
    await deliverer.deliver_batch("crm", ['{"not": "a delivery"}', good])
    assert [r.webhook_id for r in webhook_sink.delivered()] == [make_event(1).id]
    client = Redis.from_url(redis_url)
    try:
        assert await client.lrange(Keys().unreadable, 0, -1) == [b'{"not": "a delivery"}']
    finally:
        await client.aclose()
