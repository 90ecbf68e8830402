"""The worker's record for the console: one stream entry per attempt, bounded, with status and latency."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.console import ConsoleSettings
from bridge.config.keys import Keys
from bridge.delivery.app import make_celery_app
from bridge.delivery.deliver import Deliverer
from bridge.delivery.enqueue import Enqueuer
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.recording import AttemptLog, parse_entry
from connectors.webhook import WebhookConnector
from tests.plugins.delivery import Reply, WebhookSink, make_event


@pytest.fixture
async def recording_deliverer(
    redis_url: str, webhook_sink: WebhookSink
) -> AsyncIterator[Callable[..., Deliverer]]:
    session = aiohttp.ClientSession()
    redis = Redis.from_url(redis_url)

    def build(settings: Settings) -> Deliverer:
        destinations = {d.name: d for d in settings.destinations}
        enqueuer = Enqueuer(
            make_celery_app(settings), redis, Keys(), destinations, batch_size=100, queue="gwsb.delivery"
        )
        return Deliverer(
            settings=settings.delivery, destinations=destinations,
            connectors={n: WebhookConnector(d, session=session) for n, d in destinations.items()},
            routes=settings.routes, redis=redis, keys=Keys(), enqueue=enqueuer.enqueue, source="test",
            attempt_log=AttemptLog.from_settings(redis, Keys().console, settings.console),
        )  # fmt: skip

    yield build
    await session.close()
    await redis.aclose()


def _settings(redis_url: str, url: str, **console: object) -> Settings:
    return Settings(
        redis_url=redis_url,
        delivery={"retry_schedule": [30.0], "retry_jitter": 0},
        destinations=[{"name": "crm", "kind": "webhook", "url": url, "timeout": 2.0}],
        console=console,
    )


async def entries(redis_url: str) -> list[dict[str, object]]:
    client = Redis.from_url(redis_url)
    try:
        return [parse_entry(i, f) for i, f in await client.xrange(Keys().console.attempts)]
    finally:
        await client.aclose()


async def test_each_attempt_is_recorded_with_status_latency_and_the_answer_on_failure(
    redis_url: str, webhook_sink: WebhookSink, recording_deliverer: Callable[..., Deliverer]
) -> None:
    webhook_sink.behaviour = lambda r: (
        Reply(503, body=b"upstream down, try later") if int(r.json()["sequence"]) == 2 else Reply(204)
    )
    deliverer = recording_deliverer(_settings(redis_url, webhook_sink.url))
    await deliverer.deliver_batch(
        "crm", [QueuedDelivery.for_event(make_event(n), "crm").to_wire() for n in (1, 2)]
    )
    found = {e["sequence"]: e for e in await entries(redis_url)}
    ok, failed = (
        found[make_event(1).model_dump(mode="json")["sequence"]],
        found[make_event(2).model_dump(mode="json")["sequence"]],
    )
    assert (ok["outcome"], ok["status"], ok["attempt"], ok["error"]) == ("delivered", 204, 1, None)
    assert (failed["outcome"], failed["status"], failed["attempt"]) == ("retry", 503, 1)
    assert failed["error"] == "crm: HTTP 503" and failed["response_excerpt"] == "upstream down, try later"
    assert ok["event_id"] == make_event(1).id and ok["subject"] == make_event(1).subject
    assert ok["type"] == make_event(1).type and ok["agent"] == make_event(1).partitionkey
    assert isinstance(ok["latency_ms"], float) and ok["latency_ms"] >= 0


async def test_the_stream_is_bounded_and_recording_can_be_switched_off(
    redis_url: str, webhook_sink: WebhookSink, recording_deliverer: Callable[..., Deliverer]
) -> None:
    deliverer = recording_deliverer(_settings(redis_url, webhook_sink.url, recent_events=100))
    for start in range(0, 600, 100):
        wires = [
            QueuedDelivery.for_event(make_event(n), "crm").to_wire() for n in range(start + 1, start + 101)
        ]
        await deliverer.deliver_batch("crm", wires)
    assert len(webhook_sink.delivered()) == 600
    kept = await entries(redis_url)
    assert 100 <= len(kept) < 300  # MAXLEN ~ trims by whole nodes: about the bound, never the lot
    assert ConsoleSettings(record=False).record is False
    off = recording_deliverer(_settings(redis_url, webhook_sink.url, record=False))
    await off.deliver_batch("crm", [QueuedDelivery.for_event(make_event(999), "crm").to_wire()])
    assert len(await entries(redis_url)) == len(kept)
