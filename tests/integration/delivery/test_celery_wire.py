"""The adapter that writes Celery task messages itself (bridge.delivery.celery_wire) is pinned to Celery.

A message is published through Celery's own ``send_task`` (kombu's Redis transport) and the
adapter's message for the same task must be the same JSON but for the per-message ids; a Celery or
kombu upgrade that changes the format fails here. That workers run the adapter's messages is what
every test through a worker process shows (test_journal, test_failures, the e2e tests).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import redis
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.keys import Keys
from bridge.delivery.app import DELIVER_JOURNALED, DELIVER_SUBJECT, make_celery_app
from bridge.delivery.celery_wire import TaskMessages
from bridge.delivery.enqueue import Enqueuer
from bridge.delivery.items import QueuedDelivery
from tests.plugins.delivery import make_event

QUEUE = "gwsb.wire-test"
_PER_MESSAGE = {("headers", "id"), ("headers", "root_id"), ("properties", "correlation_id"),
                ("properties", "delivery_tag")}  # fmt: skip


def _masked(raw: bytes) -> dict[str, Any]:
    message = json.loads(raw)
    for part, field in _PER_MESSAGE:
        assert message[part][field], (part, field)
        message[part][field] = "<id>"
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


def _celery_messages(redis_url: str, tasks: list[tuple[str, list[Any]]]) -> tuple[list[bytes], str]:
    app = make_celery_app(Settings(redis_url=redis_url))
    with app.producer_or_acquire() as producer:
        for name, args in tasks:
            app.send_task(name, args=args, queue=QUEUE, producer=producer)
    client = redis.Redis.from_url(redis_url)
    try:
        raw = client.lrange(QUEUE, 0, -1)
        client.delete(QUEUE)
    finally:
        client.close()
    return list(reversed(raw)), app.thread_oid  # LPUSHed: the first published is the last


def test_the_adapters_message_is_celerys_own_but_for_the_ids(redis_url: str) -> None:
    tasks: list[tuple[str, list[Any]]] = [
        (DELIVER_JOURNALED, ["crm", "crm:0123abcd"]),
        (DELIVER_SUBJECT, ["ordered-crm", "call:Ab1-é"]),
    ]
    theirs, reply_to = _celery_messages(redis_url, tasks)
    ours = TaskMessages(QUEUE, reply_to=reply_to)
    assert len(theirs) == len(tasks)
    for (name, args), celery_raw in zip(tasks, theirs, strict=True):
        mine = ours.message(name, args)
        assert _masked(mine) == _masked(celery_raw)
        headers, properties = json.loads(mine)["headers"], json.loads(mine)["properties"]
        assert headers["id"] == headers["root_id"] == properties["correlation_id"]
    first, second = (json.loads(ours.message(*tasks[0])) for _ in range(2))
    assert first["headers"]["id"] != second["headers"]["id"]
    assert first["properties"]["delivery_tag"] != second["properties"]["delivery_tag"]


async def test_an_enqueued_groups_message_names_its_journaled_batch(redis_url: str) -> None:
    settings = Settings(redis_url=redis_url)
    client = Redis.from_url(redis_url)
    enqueuer = Enqueuer(make_celery_app(settings), client, Keys(), {}, batch_size=10, queue=QUEUE)
    try:
        await enqueuer.enqueue([QueuedDelivery.for_event(make_event(n), "crm") for n in range(3)])
        (raw,) = await client.lrange(QUEUE, 0, -1)
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert message["headers"]["task"] == DELIVER_JOURNALED and kwargs == {}
        destination, batch_id = args
        assert destination == "crm"
        assert len((await client.hget(Keys().journal, batch_id) or b"").split(b"\n")) == 3
    finally:
        await client.aclose()
