"""Delivering batches and FIFO subjects: one attempt per event, then a recorded decision.

This is the body of the two Celery tasks, written as coroutines that run on
the worker process's one event loop. A batch is sent with bounded concurrency
(``max_in_flight``) under the destination's token bucket and the task deadline;
each result is then recorded in one Redis transaction — retry scheduled,
dead-lettered, or deferred — before the task returns and is acknowledged. For a
journaled batch (:mod:`.journal`) the batch leaves the journal in that same
transaction.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis

from bridge.config.delivery import DeliverySettings, DestinationConfig, RouteConfig
from bridge.config.keys import Keys
from bridge.delivery.attempt import (
    DEADLINE_DETAIL,
    MAX_IN_TASK_WAIT,
    Attempter,
    DeliveryContext,
    Enqueue,
    Finish,
)
from bridge.delivery.items import Outcome, QueuedDelivery, Result
from bridge.delivery.journal import BatchState
from bridge.delivery.metrics import DELIVERIES
from bridge.delivery.outcomes import Recorder
from bridge.delivery.recording import AttemptLog
from bridge.delivery.subjects import SubjectDelivery
from bridge.events import Event
from connectors import Connector

__all__ = ["BatchDelivery", "Deliverer"]

logger = logging.getLogger(__name__)


class Deliverer:
    """Delivers to configured destinations through their connectors; all state in Redis.

    One :class:`DeliveryContext` shared by an :class:`Attempter`, a :class:`Recorder`, the
    batch path and the FIFO path; this class only puts them together for the worker's tasks.
    """

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
        rng: random.Random | None = None,
        attempt_log: AttemptLog | None = None,
    ) -> None:
        context = DeliveryContext(
            settings=settings, destinations=destinations, connectors=connectors, routes=routes,
            redis=redis, keys=keys, enqueue=enqueue, source=source, attempt_log=attempt_log,
        )  # fmt: skip
        attempter, recorder = Attempter(settings, rng), Recorder(context)
        self._batches = BatchDelivery(context, attempter, recorder)
        self._subjects = SubjectDelivery(context, attempter, recorder)
        self._recorder = recorder
        self.retries = context.retries
        self.dead_letters = context.dead_letters
        self.health = context.health
        self.fifo = context.fifo
        self.journal = context.journal

    async def deliver_batch(self, destination: str, wires: list[str]) -> None:
        """Deliver a batch carried in the task itself (messages published before the journal existed)."""
        await self._batches.deliver(destination, wires)

    async def deliver_journaled(self, destination: str, batch_id: str) -> None:
        """Deliver journaled batch ``batch_id`` (see :meth:`BatchDelivery.deliver_journaled`)."""
        await self._batches.deliver_journaled(destination, batch_id)

    async def deliver_subject(self, destination: str, subject: str) -> None:
        """Deliver a FIFO subject's pending events in order, as far as possible."""
        await self._subjects.deliver_subject(destination, subject)

    async def emit(self, event: Event) -> None:
        """Route and enqueue an event the delivery side produced; raises ``EnqueueError``."""
        await self._recorder.emit(event)


class BatchDelivery:
    """Unordered batches: bounded concurrency under the token bucket and the task deadline."""

    def __init__(self, context: DeliveryContext, attempter: Attempter, recorder: Recorder) -> None:
        self._context = context
        self._attempter = attempter
        self._recorder = recorder

    async def deliver(self, destination: str, wires: list[str]) -> None:
        """Deliver a batch carried in the task itself."""
        await self._deliver_wires(destination, wires, None)

    async def deliver_journaled(self, destination: str, batch_id: str) -> None:
        """Deliver journaled batch ``batch_id``; returns once its outcomes are recorded and it is unjournaled.

        A batch already finished, or running under another worker's lease, is skipped (the
        message was a duplicate). If this raises, the batch stays journaled: the task is
        requeued, or the workers' sweep publishes the batch again after ``batch_lease``.
        """
        journal = self._context.journal
        token = uuid.uuid4().hex
        state, wires = await journal.begin(batch_id, token, lease=self._context.settings.batch_lease)
        if state is not BatchState.STARTED:
            logger.debug("batch skipped", extra={"batch_id": batch_id, "state": state.value})
            return

        def finish(pipe: Any) -> None:
            journal.complete_to(pipe, batch_id)

        try:
            await self._deliver_wires(destination, wires, finish)
        except Exception:
            try:  # let the requeued task take it at once; if Redis is away, the lease simply runs out
                await journal.release(batch_id, token)
            except Exception:
                logger.warning("could not release a batch lease", extra={"batch_id": batch_id})
            raise

    async def _deliver_wires(self, destination: str, wires: list[str], finish: Finish | None) -> None:
        """Deliver ``wires``; the outcomes are recorded in the transaction ``finish`` adds to."""
        context = self._context
        deliveries = []
        unreadable = []
        for wire in wires:
            try:
                deliveries.append(QueuedDelivery.from_wire(wire))
            except (ValueError, KeyError, TypeError):
                unreadable.append(wire)
        if unreadable:
            await context.redis.rpush(context.keys.unreadable, *unreadable)
            logger.error(
                "unreadable deliveries set aside",
                extra={"destination": destination, "key": context.keys.unreadable},
            )
        config = context.destinations.get(destination)
        connector = context.connectors.get(destination)
        if config is None or connector is None:
            await self._recorder.record_unknown(destination, deliveries, finish)
            return
        # Cheap check first; the park script re-checks atomically, so an enable in between is safe.
        if await context.health.is_disabled(destination) and await context.health.park_if_disabled(
            destination, [d.to_wire() for d in deliveries]
        ):
            DELIVERIES.labels(destination, Outcome.PARKED.value).inc(len(deliveries))
            await self._finish(finish)
            return
        if config.ordered:  # replayed or unparked events of an ordered destination join its FIFO queues
            await context.enqueue(deliveries)
            await self._finish(finish)
            return
        deadline = asyncio.get_running_loop().time() + context.settings.task_deadline
        results = await self._send_all(config, connector, deliveries, deadline)
        await self._recorder.record(config, results, schedule=True, finish=finish)

    async def _finish(self, finish: Finish | None) -> None:
        if finish is not None:
            async with self._context.redis.pipeline(transaction=True) as pipe:
                finish(pipe)
                await pipe.execute()

    async def _send_all(
        self,
        config: DestinationConfig,
        connector: Connector,
        deliveries: list[QueuedDelivery],
        deadline: float,
    ) -> list[Result]:
        loop = asyncio.get_running_loop()
        semaphore = self._context.in_flight[config.name]
        bucket = self._context.buckets.get(config.name)
        results: list[Result] = []
        started: dict[int, float] = {}  # index -> time its attempt began
        finished: set[int] = set()

        async def one(index: int, delivery: QueuedDelivery) -> None:
            async with semaphore:
                started[index] = time.time()
                results.append(await self._attempter.attempt(connector, delivery))
                finished.add(index)

        # One timer for the whole batch (not one per event): what is unfinished at the deadline is
        # cancelled; an attempt that had begun counts as failed, one that had not is deferred.
        tasks: dict[asyncio.Task[None], tuple[int, QueuedDelivery]] = {}
        pending = list(enumerate(deliveries))
        while pending:
            granted, wait = (await bucket.take(len(pending))) if bucket else (len(pending), 0.0)
            for index, delivery in pending[:granted]:
                tasks[asyncio.create_task(one(index, delivery))] = (index, delivery)
            pending = pending[granted:]
            if pending and (wait > MAX_IN_TASK_WAIT or loop.time() + wait >= deadline):
                due = time.time() + wait
                results += [Result(d, Outcome.DEFERRED, due=due, attempted=False) for _, d in pending]
                break
            if pending:
                await asyncio.sleep(wait)
        if not tasks:
            return results
        _, unfinished = await asyncio.wait(tasks, timeout=max(deadline - loop.time(), 0.0))
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        for task in unfinished:
            index, delivery = tasks[task]
            if index in finished:
                continue
            if index in started:
                results.append(self._attempter.failed(delivery, started[index], DEADLINE_DETAIL))
            else:
                results.append(Result(delivery, Outcome.DEFERRED, due=time.time(), attempted=False))
        return results
