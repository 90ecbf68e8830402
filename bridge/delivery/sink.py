"""The subscriber's hand-off to delivery: :class:`CeleryEventSink` routes events and enqueues them."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence

from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.delivery import RouteConfig
from bridge.delivery.app import make_celery_app
from bridge.delivery.enqueue import Enqueuer
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.metrics import EVENTS_ROUTED, EVENTS_UNROUTED
from bridge.errors import ConfigError
from bridge.events import Event
from bridge.redis_client import async_redis
from bridge.routing import destinations_for

__all__ = ["CeleryEventSink"]

logger = logging.getLogger(__name__)


class CeleryEventSink:
    """The subscriber's :class:`~bridge.events.EventSink`: route, group by destination, enqueue.

    ``publish`` returns once every routed delivery is in Redis and raises
    ``EnqueueError`` otherwise (the GWS message must then not be acknowledged).
    Events no route matches are counted (``gwsb_events_unrouted``) and logged at debug level.
    """

    def __init__(
        self, enqueuer: Enqueuer, routes: Sequence[RouteConfig], *, redis: Redis | None = None
    ) -> None:
        self._enqueuer = enqueuer
        self._routes = list(routes)
        self._redis = redis

    @classmethod
    def from_settings(cls, settings: Settings) -> CeleryEventSink:
        """A sink for ``settings``; raises ``ConfigError`` if routes name unknown destinations."""
        known = {d.name: d for d in settings.destinations}
        for index, route in enumerate(settings.routes):
            for name in route.destinations:
                if name not in known:
                    raise ConfigError(f"routes.{index}.destinations: unknown destination {name!r}")
        redis = async_redis(settings)
        enqueuer = Enqueuer(
            make_celery_app(settings),
            redis,
            settings.keys,
            known,
            batch_size=settings.delivery.batch_size,
            queue=settings.delivery.queue,
            batch_lease=settings.delivery.batch_lease,
        )
        return cls(enqueuer, settings.routes, redis=redis)

    async def publish(self, events: Sequence[Event]) -> None:
        """Enqueue ``events`` for every destination their routes name; raises ``EnqueueError``."""
        deliveries = []
        now = time.time()
        for event in events:
            names = destinations_for(event, self._routes)
            if not names:
                EVENTS_UNROUTED.inc()
                logger.debug("event matched no route", extra={"event_id": event.id, "event_type": event.type})
                continue
            body = event.to_json().decode()  # once, whatever the number of destinations
            for name in names:
                deliveries.append(QueuedDelivery.for_event(event, name, now=now, event_json=body))
        if not deliveries:
            return
        await self._enqueuer.enqueue(deliveries)
        for destination, count in Counter(d.destination for d in deliveries).items():
            EVENTS_ROUTED.labels(destination).inc(count)

    async def aclose(self) -> None:
        """Release the Redis connections."""
        if self._redis is not None:
            await self._redis.aclose()
