"""The worker runtime hands connectors the shared resources their constructors ask for."""

from __future__ import annotations

import base64
import json
from typing import Any, cast

import aiohttp
import redis

from bridge.config import Settings
from bridge.config.delivery import DestinationConfig
from bridge.config.keys import Keys
from bridge.delivery.app import make_celery_app
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.runtime import DeliveryRuntime
from bridge.events import Event
from connectors import register_connector
from tests.plugins.delivery import make_event


@register_connector("test-resources")
class ResourceRecorder:
    """Records what the runtime passed; ``emit`` is called on every send."""

    kind = "test-resources"
    seen: dict[str, Any] = {}

    def __init__(
        self, config: DestinationConfig, *, session: aiohttp.ClientSession, redis: Any, emit: Any
    ) -> None:
        ResourceRecorder.seen = {"session": session, "redis": redis, "emit": emit}

    async def send(self, event: Event) -> None:
        await ResourceRecorder.seen["emit"](make_event(99, type="mobile.token_invalidated"))

    async def aclose(self) -> None:
        pass


def test_connectors_get_session_redis_and_emit_and_emitted_events_are_routed(redis_url: str) -> None:
    config: dict[str, Any] = {
        "redis_url": redis_url,
        "destinations": [
            {"name": "phones", "kind": "test-resources"},
            {"name": "ops", "kind": "console"},
        ],
        "routes": [
            {"events": ["call.*"], "destinations": ["phones"]},
            {"events": ["mobile.*"], "destinations": ["ops"]},
        ],
    }
    settings = Settings(**config)
    runtime = DeliveryRuntime(settings, make_celery_app(settings), hostname="test")
    runtime.start()
    try:
        assert isinstance(ResourceRecorder.seen["session"], aiohttp.ClientSession)
        assert ResourceRecorder.seen["redis"] is not None
        runtime.deliver_batch("phones", [_wire(make_event(1))])
    finally:
        runtime.close()
    client = redis.Redis.from_url(redis_url)
    try:
        messages = [json.loads(m) for m in cast(list[bytes], client.lrange("gwsb.delivery", 0, -1))]
        (message,) = messages  # the emitted event, routed to ops
        destination, batch_id = json.loads(base64.b64decode(message["body"]))[0]
        wires = cast(bytes, client.hget(Keys().journal, batch_id))  # the events wait in the journal
    finally:
        client.close()
    assert destination == "ops"
    assert QueuedDelivery.from_wire(wires).event().type == "mobile.token_invalidated"


def _wire(event: Event) -> str:
    return QueuedDelivery.for_event(event, "phones").to_wire()
