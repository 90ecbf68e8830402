"""Per-subject FIFO delivery for ordered destinations.

One worker at a time holds a subject's lock and drains it in sequence order: the head is
attempted; a retry blocks the subject until it is due (with a kick scheduled in the same
transaction); delivered or dead, the head leaves and the next one follows, until the
subject is empty, blocked, disabled or the task deadline comes.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from bridge.config.delivery import DestinationConfig
from bridge.delivery.attempt import MAX_IN_TASK_WAIT, Attempter, DeliveryContext
from bridge.delivery.items import Outcome, QueuedDelivery
from bridge.delivery.metrics import DELIVERIES
from bridge.delivery.outcomes import Recorder
from bridge.delivery.retries import FifoKick
from connectors import Connector

__all__ = ["SubjectDelivery"]

logger = logging.getLogger(__name__)


class SubjectDelivery:
    """Delivers a FIFO subject's pending events in order."""

    def __init__(self, context: DeliveryContext, attempter: Attempter, recorder: Recorder) -> None:
        self._context = context
        self._attempter = attempter
        self._recorder = recorder

    async def deliver_subject(self, destination: str, subject: str) -> None:
        """Deliver ``subject``'s pending events to ``destination`` in sequence order, as far as possible."""
        context = self._context
        config = context.destinations.get(destination)
        connector = context.connectors.get(destination)
        if config is None or connector is None:
            logger.error("FIFO kick for an unconfigured destination", extra={"destination": destination})
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + context.settings.task_deadline
        lease = context.settings.task_deadline + config.timeout + 5
        token = uuid.uuid4().hex
        while True:
            if not await context.fifo.lock(destination, subject, token, lease):
                return  # the holder re-checks for new events after it unlocks
            try:
                stopped = await self._drain(config, connector, subject, deadline)
            finally:
                await context.fifo.unlock(destination, subject, token)
            if stopped in ("blocked", "disabled"):
                return
            if stopped == "empty":
                # An event may have arrived while we held the lock; its kick found it taken.
                if await context.fifo.pending(destination, subject) == 0:
                    return
                if await context.fifo.blocked_until(destination, subject) > time.time():
                    return
            if loop.time() >= deadline - 0.05:
                await context.retries.add([(FifoKick(destination, subject).to_wire(), time.time())])
                return

    async def _drain(
        self, config: DestinationConfig, connector: Connector, subject: str, deadline: float
    ) -> str:
        context = self._context
        name = config.name
        loop = asyncio.get_running_loop()
        bucket = context.buckets.get(name)
        while loop.time() < deadline:
            if await context.health.is_disabled(name):
                return "disabled"  # `destinations enable` kicks every subject again
            if await context.fifo.blocked_until(name, subject) > time.time():
                return "blocked"  # a kick is scheduled for when the head's retry is due
            head = await context.fifo.head(name, subject)
            if head is None:
                return "empty"
            if bucket is not None:
                granted, wait = await bucket.take(1)
                if not granted:
                    if wait <= MAX_IN_TASK_WAIT and loop.time() + wait < deadline:
                        await asyncio.sleep(wait)
                        continue
                    await self._block(head, time.time() + wait)
                    DELIVERIES.labels(name, Outcome.DEFERRED.value).inc()
                    return "blocked"
            result = await self._attempter.attempt(connector, head, deadline)
            if result.outcome is Outcome.RETRY:
                await self._block(result.delivery, result.due)
            await self._recorder.record(
                config, [result], schedule=False
            )  # a dead letter is stored before the ack
            if result.outcome is Outcome.RETRY:
                return "blocked"
            await context.fifo.ack(name, subject, head.event_id)  # delivered or dead: the head leaves
        return "deadline"

    async def _block(self, head: QueuedDelivery, until: float) -> None:
        # One transaction: a blocked subject always has its kick scheduled.
        context = self._context
        async with context.redis.pipeline(transaction=True) as pipe:
            context.fifo.hold_head_to(pipe, head, until, time.time())
            pipe.zadd(context.retries.key, {FifoKick(head.destination, head.subject).to_wire(): until})
            await pipe.execute()
