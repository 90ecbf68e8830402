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
import time
import uuid
from typing import Any

from bridge.config.delivery import DestinationConfig
from bridge.delivery.attempt import _DEADLINE_DETAIL, _MAX_IN_TASK_WAIT, Finish, Result
from bridge.delivery.items import Outcome, QueuedDelivery
from bridge.delivery.journal import BatchState
from bridge.delivery.metrics import DELIVERIES
from bridge.delivery.subjects import SubjectDelivery
from connectors import Connector

__all__ = ["Deliverer", "Result"]

logger = logging.getLogger(__name__)


class Deliverer(SubjectDelivery):
    """Delivers to configured destinations through their connectors; all state in Redis."""

    # -- unordered batches -----------------------------------------------------------------------

    async def deliver_batch(self, destination: str, wires: list[str]) -> None:
        """Deliver a batch carried in the task itself (messages published before the journal existed)."""
        await self._deliver_wires(destination, wires, None)

    async def deliver_journaled(self, destination: str, batch_id: str) -> None:
        """Deliver journaled batch ``batch_id``; returns once its outcomes are recorded and it is unjournaled.

        A batch already finished, or running under another worker's lease, is skipped (the
        message was a duplicate). If this raises, the batch stays journaled: the task is
        requeued, or the workers' sweep publishes the batch again after ``batch_lease``.
        """
        token = uuid.uuid4().hex
        state, wires = await self.journal.begin(batch_id, token, lease=self._settings.batch_lease)
        if state is not BatchState.STARTED:
            logger.debug("batch skipped", extra={"batch_id": batch_id, "state": state.value})
            return

        def finish(pipe: Any) -> None:
            self.journal.complete_to(pipe, batch_id)

        try:
            await self._deliver_wires(destination, wires, finish)
        except Exception:
            try:  # let the requeued task take it at once; if Redis is away, the lease simply runs out
                await self.journal.release(batch_id, token)
            except Exception:
                logger.warning("could not release a batch lease", extra={"batch_id": batch_id})
            raise

    async def _deliver_wires(self, destination: str, wires: list[str], finish: Finish | None) -> None:
        """Deliver ``wires``; the outcomes are recorded in the transaction ``finish`` adds to."""
        deliveries = []
        unreadable = []
        for wire in wires:
            try:
                deliveries.append(QueuedDelivery.from_wire(wire))
            except (ValueError, KeyError, TypeError):
                unreadable.append(wire)
        if unreadable:
            await self._redis.rpush(self._keys.unreadable, *unreadable)
            logger.error(
                "unreadable deliveries set aside",
                extra={"destination": destination, "key": self._keys.unreadable},
            )
        config = self._destinations.get(destination)
        connector = self._connectors.get(destination)
        if config is None or connector is None:
            await self._record_unknown(destination, deliveries, finish)
            return
        # Cheap check first; the park script re-checks atomically, so an enable in between is safe.
        if await self.health.is_disabled(destination) and await self.health.park_if_disabled(
            destination, [d.to_wire() for d in deliveries]
        ):
            DELIVERIES.labels(destination, Outcome.PARKED.value).inc(len(deliveries))
            await self._finish(finish)
            return
        if config.ordered:  # replayed or unparked events of an ordered destination join its FIFO queues
            await self._enqueue(deliveries)
            await self._finish(finish)
            return
        deadline = asyncio.get_running_loop().time() + self._settings.task_deadline
        results = await self._send_all(config, connector, deliveries, deadline)
        await self._record(config, results, schedule=True, finish=finish)

    async def _finish(self, finish: Finish | None) -> None:
        if finish is not None:
            async with self._redis.pipeline(transaction=True) as pipe:
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
        semaphore = self._in_flight[config.name]
        bucket = self._buckets.get(config.name)
        results: list[Result] = []
        started: dict[int, float] = {}  # index -> time its attempt began
        finished: set[int] = set()

        async def one(index: int, delivery: QueuedDelivery) -> None:
            async with semaphore:
                started[index] = time.time()
                results.append(await self._attempt(connector, delivery))
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
            if pending and (wait > _MAX_IN_TASK_WAIT or loop.time() + wait >= deadline):
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
                results.append(self.failed(delivery, started[index], _DEADLINE_DETAIL))
            else:
                results.append(Result(delivery, Outcome.DEFERRED, due=time.time(), attempted=False))
        return results
