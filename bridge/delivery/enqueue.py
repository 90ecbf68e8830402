"""Putting deliveries on their way: journaled batches, FIFO queues and the Celery tasks.

Unordered destinations get one batch per ``batch_size`` events (a task costs
~1 ms of worker CPU, an event in a batch almost nothing): the batch is written
to the batch journal in Redis (:mod:`.journal`), then one Celery task carrying
its id is published. Ordered destinations get their events added to
per-subject FIFO queues in Redis, then one "kick" task per subject. Journal
entries, FIFO adds and the tasks' messages (built by :mod:`.celery_wire`, pushed
on the Celery queue's Redis list as kombu's transport would) go in one ``MULTI``:
a task never exists without its events, and ``enqueue`` returns once all of it
is in Redis. (Celery's ``send_task`` cost ~350 µs of CPU per call on a thread of
its own; the ``LPUSH`` in the transaction ~20 µs.)
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from celery import Celery
from redis.asyncio import Redis

from bridge.config.delivery import DestinationConfig
from bridge.config.keys import Keys
from bridge.delivery.app import DELIVER_JOURNALED, DELIVER_SUBJECT
from bridge.delivery.celery_wire import TaskMessages
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.journal import BatchJournal, batch_destination, new_batch_id
from bridge.delivery.ordering import FifoStore
from bridge.delivery.retries import FifoKick
from bridge.errors import DeliveryError

__all__ = ["EnqueueError", "Enqueuer"]

logger = logging.getLogger(__name__)


class EnqueueError(DeliveryError):
    """Events could not be handed to the broker; the caller must not consider them delivered."""


class Enqueuer:
    """Sends deliveries to the workers: journaled batches plus tasks, or FIFO queue entries plus kicks.

    ``batch_lease`` is how long a journaled batch may stay unfinished before the
    workers' sweep publishes it again (``DeliverySettings.batch_lease``).
    """

    def __init__(
        self,
        app: Celery,
        redis: Redis,
        keys: Keys,
        destinations: Mapping[str, DestinationConfig],
        *,
        batch_size: int,
        queue: str,
        batch_lease: float = 300.0,
    ) -> None:
        self._app = app
        self._redis = redis
        self._fifo = FifoStore(redis, keys)
        self._journal = BatchJournal(redis, keys)
        self._batch_lease = batch_lease
        self._destinations = destinations
        self._batch_size = batch_size
        self._queue = queue
        self._messages = TaskMessages(queue, reply_to=app.thread_oid)

    async def enqueue(self, deliveries: Iterable[QueuedDelivery], kicks: Iterable[FifoKick] = ()) -> None:
        """Durably hand ``deliveries`` (and FIFO ``kicks``) to Redis; raises ``EnqueueError``."""
        batches: dict[str, list[str]] = defaultdict(list)
        ordered: list[QueuedDelivery] = []
        subjects: dict[tuple[str, str], None] = {(k.destination, k.subject): None for k in kicks}
        for delivery in deliveries:
            config = self._destinations.get(delivery.destination)
            if config is not None and config.ordered:
                ordered.append(delivery)
                subjects[(delivery.destination, delivery.subject)] = None
            else:  # unknown destinations too: the worker dead-letters them, visibly
                batches[delivery.destination].append(delivery.to_wire())
        tasks: list[tuple[str, list[Any]]] = []
        journaled: list[tuple[str, list[str]]] = []
        for destination, wires in batches.items():
            for start in range(0, len(wires), self._batch_size):
                batch_id = new_batch_id(destination)
                journaled.append((batch_id, wires[start : start + self._batch_size]))
                tasks.append((DELIVER_JOURNALED, [destination, batch_id]))
        tasks.extend((DELIVER_SUBJECT, [destination, subject]) for destination, subject in subjects)
        if not (ordered or journaled or tasks):
            return
        try:
            # One transaction: once a task exists, its events are in Redis (and not before).
            now = time.time()
            async with self._redis.pipeline(transaction=True) as pipe:
                for delivery in ordered:
                    self._fifo.add_to(pipe, delivery)
                for batch_id, chunk in journaled:
                    self._journal.add_to(pipe, batch_id, chunk, lease=self._batch_lease, now=now)
                self._messages.push_to(pipe, tasks)
                await pipe.execute()
        except Exception as exc:
            raise EnqueueError(
                f"could not enqueue {len(tasks)} delivery task(s): {type(exc).__name__}"
            ) from exc

    async def republish(self, batch_ids: Sequence[str]) -> None:
        """Publish a task per journaled batch in ``batch_ids`` (claimed by the sweep); ``EnqueueError``."""
        tasks = [(DELIVER_JOURNALED, [batch_destination(b), b]) for b in batch_ids]
        if not tasks:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                self._messages.push_to(pipe, tasks)
                await pipe.execute()
        except Exception as exc:
            raise EnqueueError(f"could not re-publish {len(tasks)} batch(es): {type(exc).__name__}") from exc
