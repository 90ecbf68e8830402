"""One delivery attempt through a connector, and the :class:`Result` it leaves.

A connector may offer ``async send_json(event_id, body)`` besides ``send(event)``:
the delivery layer then hands it the CloudEvent JSON it already holds, which
saves a parse and a serialization per event (the webhook connector does).

:class:`DeliveryContext` holds what every delivery path shares (settings, destinations,
connectors, the Redis stores, token buckets and in-flight limits). :class:`Attempter` makes
one attempt and decides what a failed one becomes: a retry at its due time, or a dead letter.
Batches (:mod:`.deliver`) and FIFO subjects (:mod:`.subjects`) use an attempter and a
:class:`~bridge.delivery.outcomes.Recorder` over one context.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from bridge import tracing
from bridge.config.delivery import DeliverySettings, DestinationConfig, RouteConfig
from bridge.config.keys import Keys
from bridge.delivery.deadletters import DeadLetterStore
from bridge.delivery.health import HealthStore
from bridge.delivery.items import AttemptRecord, Outcome, QueuedDelivery, Result, next_retry_delay
from bridge.delivery.journal import BatchJournal
from bridge.delivery.ordering import FifoStore
from bridge.delivery.ratelimit import TokenBucket
from bridge.delivery.recording import AttemptLog
from bridge.delivery.retries import RetrySchedule
from bridge.errors import PermanentDeliveryError, RetryableDeliveryError
from connectors import Connector

__all__ = [
    "DEADLINE_DETAIL",
    "MAX_IN_TASK_WAIT",
    "Attempter",
    "DeliveryContext",
    "Enqueue",
    "Finish",
]

logger = logging.getLogger(__name__)

# Below this, waiting for a token inside the task beats a round trip through the schedule.
MAX_IN_TASK_WAIT = 2.0
DEADLINE_DETAIL = "task deadline reached during the request"

Enqueue = Callable[[Sequence[QueuedDelivery]], Awaitable[None]]
Finish = Callable[[Any], None]  # queues the commands that finish a batch on a transaction pipeline


class DeliveryContext:
    """What the delivery paths share: configuration, connectors, the Redis stores and limits."""

    def __init__(
        self,
        *,
        settings: DeliverySettings,
        destinations: Mapping[str, DestinationConfig],
        connectors: Mapping[str, Connector],
        routes: Sequence[RouteConfig],
        redis: Redis,
        keys: Keys,
        enqueue: Enqueue,
        source: str,
        attempt_log: AttemptLog | None = None,
    ) -> None:
        self.settings = settings
        self.attempt_log = attempt_log  # the console's record of attempts (None: not recorded)
        self.destinations = destinations
        self.connectors = connectors
        self.routes = routes
        self.enqueue = enqueue
        self.source = source
        self.redis = redis
        self.keys = keys
        self.retries = RetrySchedule(redis, keys)
        self.dead_letters = DeadLetterStore(redis, keys)
        self.health = HealthStore(redis, keys)
        self.fifo = FifoStore(redis, keys)
        self.journal = BatchJournal(redis, keys)
        self.buckets = {
            name: TokenBucket(redis, keys, name, rate=d.rate_limit, burst=d.rate_burst)
            for name, d in destinations.items()
            if d.rate_limit is not None
        }
        self.in_flight = {name: asyncio.Semaphore(d.max_in_flight) for name, d in destinations.items()}


class Attempter:
    """One attempt of one delivery through its connector, and what a failure becomes."""

    def __init__(self, settings: DeliverySettings, rng: random.Random | None = None) -> None:
        self._settings = settings
        self._rng = rng or random.Random()

    # -- one attempt -----------------------------------------------------------------------------

    async def attempt(
        self, connector: Connector, delivery: QueuedDelivery, deadline: float | None = None
    ) -> Result:
        """One send; with ``deadline`` (loop time) the send is cut off there and counts as failed.

        A connector's ``send``/``send_json`` may return the HTTP status it got, and its errors may
        carry ``status`` and ``excerpt``: the result keeps them, with the latency, for the console.
        With tracing on, in a span ``deliver <destination>``, child of the event's ``traceparent``.
        """
        with tracing.span(
            f"deliver {delivery.destination}", kind=tracing.SpanKind.CLIENT, traceparent=delivery.traceparent
        ) as span:
            result = await self._attempt(connector, delivery, deadline)
            if span is not None:
                span.set_attributes({
                    "gwsb.destination": delivery.destination,
                    "gwsb.destination.kind": getattr(connector, "kind", ""),
                    "gwsb.event.id": delivery.event_id,
                    "gwsb.attempt": len(delivery.attempts) + 1,
                    "gwsb.outcome": result.outcome.value,
                })  # fmt: skip
                if result.status is not None:
                    span.set_attribute("http.response.status_code", result.status)
                if result.outcome is not Outcome.DELIVERED:
                    tracing.mark_failed(span, result.reason)
            return result

    async def _attempt(
        self, connector: Connector, delivery: QueuedDelivery, deadline: float | None
    ) -> Result:
        now = time.time()
        began = time.perf_counter()
        send_json = getattr(connector, "send_json", None)
        if send_json is not None:  # the connector takes the CloudEvent JSON we already hold
            sending = send_json(delivery.event_id, delivery.event_json.encode())
        else:
            try:
                event = delivery.event()
            except ValidationError as exc:
                record = AttemptRecord(
                    now, "failed", f"stored event is invalid: {exc.error_count()} error(s)"
                )
                return Result(
                    delivery.with_attempt(record), Outcome.DEAD, reason="invalid event", started=now
                )
            sending = connector.send(event)
        try:
            if deadline is None:
                status = await sending
            else:
                async with asyncio.timeout_at(deadline):
                    status = await sending
        except RetryableDeliveryError as exc:
            result = self.failed(delivery, now, str(exc), exc.retry_after)
            return replace(
                result, latency=time.perf_counter() - began, status=exc.status, excerpt=exc.excerpt
            )
        except PermanentDeliveryError as exc:
            record = AttemptRecord(now, "failed", str(exc))
            return Result(
                delivery.with_attempt(record), Outcome.DEAD, reason=str(exc),
                disable=exc.disable_destination, started=now, latency=time.perf_counter() - began,
                status=exc.status, excerpt=exc.excerpt,
            )  # fmt: skip
        except TimeoutError:
            return replace(self.failed(delivery, now, DEADLINE_DETAIL), latency=time.perf_counter() - began)
        except Exception as exc:  # a connector bug must not lose the event: retry it, visibly
            logger.exception("connector raised", extra={"destination": delivery.destination})
            return self.failed(delivery, now, f"connector error {type(exc).__name__}")
        return Result(
            delivery, Outcome.DELIVERED, started=now, latency=time.perf_counter() - began,
            status=status if isinstance(status, int) else None,
        )  # fmt: skip

    def failed(
        self, delivery: QueuedDelivery, at: float, detail: str, retry_after: float | None = None
    ) -> Result:
        """The result of a failed attempt: a retry at its due time, or dead when attempts are used up."""
        failed = delivery.with_attempt(AttemptRecord(at, "failed", detail))
        delay = next_retry_delay(
            len(failed.attempts),
            self._settings.retry_schedule,
            jitter=self._settings.retry_jitter,
            retry_after=retry_after,
            max_retry_after=self._settings.max_retry_after,
            rng=self._rng,
        )
        if delay is None:
            return Result(failed, Outcome.DEAD, reason=f"attempts exhausted; last: {detail}", started=at)
        return Result(failed, Outcome.RETRY, due=time.time() + delay, reason=detail, started=at)
