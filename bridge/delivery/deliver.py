"""Delivering batches and FIFO subjects: one attempt per event, then a recorded decision.

A connector may offer ``async send_json(event_id, body)`` besides ``send(event)``:
the delivery layer then hands it the CloudEvent JSON it already holds, which
saves a parse and a serialization per event (the webhook connector does).

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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError
from redis.asyncio import Redis

from bridge.delivery.config import DeliverySettings, DestinationConfig, RouteConfig
from bridge.delivery.deadletters import DeadLetterStore
from bridge.delivery.health import HealthStore
from bridge.delivery.items import AttemptRecord, Outcome, QueuedDelivery, next_retry_delay
from bridge.delivery.journal import BatchJournal, BatchState
from bridge.delivery.keys import Keys
from bridge.delivery.metrics import (
    DEAD_LETTERS,
    DELIVERIES,
    DELIVERY_LATENCY,
    DESTINATIONS_DISABLED,
)
from bridge.delivery.ordering import FifoStore
from bridge.delivery.ratelimit import TokenBucket
from bridge.delivery.redisio import awaited
from bridge.delivery.retries import FifoKick, RetrySchedule
from bridge.errors import PermanentDeliveryError, RetryableDeliveryError
from bridge.events import Event, EventType
from bridge.routing import destinations_for
from connectors import Connector

__all__ = ["Deliverer", "Result"]

logger = logging.getLogger(__name__)

# Below this, waiting for a token inside the task beats a round trip through the schedule.
_MAX_IN_TASK_WAIT = 2.0
_DEADLINE_DETAIL = "task deadline reached during the request"

Enqueue = Callable[[Sequence[QueuedDelivery]], Awaitable[None]]
Finish = Callable[[Any], None]  # queues the commands that finish a batch on a transaction pipeline


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one delivery in this task."""

    delivery: QueuedDelivery  # with this attempt appended when one was made
    outcome: Outcome
    due: float = 0.0  # RETRY / DEFERRED: when to try again
    reason: str = ""
    disable: bool = False  # the connector asked to disable the destination
    attempted: bool = True


class Deliverer:
    """Delivers to configured destinations through their connectors; all state in Redis."""

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
    ) -> None:
        self._settings = settings
        self._destinations = destinations
        self._connectors = connectors
        self._routes = routes
        self._enqueue = enqueue
        self._source = source
        self._rng = rng or random.Random()
        self.retries = RetrySchedule(redis, keys)
        self.dead_letters = DeadLetterStore(redis, keys)
        self.health = HealthStore(redis, keys)
        self.fifo = FifoStore(redis, keys)
        self.journal = BatchJournal(redis, keys)
        self._redis = redis
        self._keys = keys
        self._buckets = {
            name: TokenBucket(redis, keys, name, rate=d.rate_limit, burst=d.rate_burst)
            for name, d in destinations.items()
            if d.rate_limit is not None
        }
        self._in_flight = {name: asyncio.Semaphore(d.max_in_flight) for name, d in destinations.items()}

    # -- one attempt -----------------------------------------------------------------------------

    async def _attempt(
        self, connector: Connector, delivery: QueuedDelivery, deadline: float | None = None
    ) -> Result:
        """One send; with ``deadline`` (loop time) the send is cut off there and counts as failed."""
        now = time.time()
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
                return Result(delivery.with_attempt(record), Outcome.DEAD, reason="invalid event")
            sending = connector.send(event)
        try:
            if deadline is None:
                await sending
            else:
                async with asyncio.timeout_at(deadline):
                    await sending
        except RetryableDeliveryError as exc:
            return self.failed(delivery, now, str(exc), exc.retry_after)
        except PermanentDeliveryError as exc:
            record = AttemptRecord(now, "failed", str(exc))
            return Result(
                delivery.with_attempt(record), Outcome.DEAD, reason=str(exc), disable=exc.disable_destination
            )
        except TimeoutError:
            return self.failed(delivery, now, _DEADLINE_DETAIL)
        except Exception as exc:  # a connector bug must not lose the event: retry it, visibly
            logger.exception("connector raised", extra={"destination": delivery.destination})
            return self.failed(delivery, now, f"connector error {type(exc).__name__}")
        return Result(delivery, Outcome.DELIVERED)

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
            return Result(failed, Outcome.DEAD, reason=f"attempts exhausted; last: {detail}")
        return Result(failed, Outcome.RETRY, due=time.time() + delay, reason=detail)

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
            await awaited(self._redis.rpush(self._keys.unreadable, *unreadable))
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

    # -- FIFO subjects ---------------------------------------------------------------------------

    async def deliver_subject(self, destination: str, subject: str) -> None:
        """Deliver ``subject``'s pending events to ``destination`` in sequence order, as far as possible."""
        config = self._destinations.get(destination)
        connector = self._connectors.get(destination)
        if config is None or connector is None:
            logger.error("FIFO kick for an unconfigured destination", extra={"destination": destination})
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.task_deadline
        lease = self._settings.task_deadline + config.timeout + 5
        token = uuid.uuid4().hex
        while True:
            if not await self.fifo.lock(destination, subject, token, lease):
                return  # the holder re-checks for new events after it unlocks
            try:
                stopped = await self._drain(config, connector, subject, deadline)
            finally:
                await self.fifo.unlock(destination, subject, token)
            if stopped in ("blocked", "disabled"):
                return
            if stopped == "empty":
                # An event may have arrived while we held the lock; its kick found it taken.
                if await self.fifo.pending(destination, subject) == 0:
                    return
                if await self.fifo.blocked_until(destination, subject) > time.time():
                    return
            if loop.time() >= deadline - 0.05:
                await self.retries.add([(FifoKick(destination, subject).to_wire(), time.time())])
                return

    async def _drain(
        self, config: DestinationConfig, connector: Connector, subject: str, deadline: float
    ) -> str:
        name = config.name
        loop = asyncio.get_running_loop()
        bucket = self._buckets.get(name)
        while loop.time() < deadline:
            if await self.health.is_disabled(name):
                return "disabled"  # `destinations enable` kicks every subject again
            if await self.fifo.blocked_until(name, subject) > time.time():
                return "blocked"  # a kick is scheduled for when the head's retry is due
            head = await self.fifo.head(name, subject)
            if head is None:
                return "empty"
            if bucket is not None:
                granted, wait = await bucket.take(1)
                if not granted:
                    if wait <= _MAX_IN_TASK_WAIT and loop.time() + wait < deadline:
                        await asyncio.sleep(wait)
                        continue
                    await self._block(head, time.time() + wait)
                    DELIVERIES.labels(name, Outcome.DEFERRED.value).inc()
                    return "blocked"
            result = await self._attempt(connector, head, deadline)
            if result.outcome is Outcome.RETRY:
                await self._block(result.delivery, result.due)
            await self._record(config, [result], schedule=False)  # a dead letter is stored before the ack
            if result.outcome is Outcome.RETRY:
                return "blocked"
            await self.fifo.ack(name, subject, head.event_id)  # delivered or dead: the head leaves
        return "deadline"

    async def _block(self, head: QueuedDelivery, until: float) -> None:
        # One transaction: a blocked subject always has its kick scheduled.
        async with self._redis.pipeline(transaction=True) as pipe:
            self.fifo.hold_head_to(pipe, head, until, time.time())
            pipe.zadd(self.retries.key, {FifoKick(head.destination, head.subject).to_wire(): until})
            await pipe.execute()

    # -- recording -------------------------------------------------------------------------------

    async def _record(
        self,
        config: DestinationConfig,
        results: list[Result],
        *,
        schedule: bool,
        finish: Finish | None = None,
    ) -> None:
        """Persist retries (when ``schedule``), deferrals and dead letters, then update health and metrics.

        ``finish`` (a journaled batch's completion) joins the same transaction.
        """
        name = config.name
        dead = [r for r in results if r.outcome is Outcome.DEAD]
        later = [r for r in results if r.outcome in (Outcome.RETRY, Outcome.DEFERRED)] if schedule else []
        if dead or later or finish is not None:
            async with self._redis.pipeline(transaction=True) as pipe:
                if later:
                    pipe.zadd(self.retries.key, {r.delivery.to_wire(): r.due for r in later})
                for r in dead:
                    self.dead_letters.add_to(pipe, r.delivery, r.reason)
                if finish is not None:
                    finish(pipe)
                await pipe.execute()
        now = time.time()
        counts: dict[Outcome, int] = {}
        for r in results:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
            if r.outcome is Outcome.DELIVERED:
                DELIVERY_LATENCY.labels(name).observe(max(now - r.delivery.queued_at, 0.0))
        for outcome, count in counts.items():
            DELIVERIES.labels(name, outcome.value).inc(count)
        if dead:
            DEAD_LETTERS.labels(name).inc(len(dead))
            logger.warning("dead-lettered", extra={"destination": name, "count": len(dead)})
        disabling = next((r for r in dead if r.disable), None)
        failures = sum(1 for r in results if r.attempted and r.outcome in (Outcome.RETRY, Outcome.DEAD))
        if disabling is not None:
            tripped = await self.health.disable(name, disabling.reason)
            reason = disabling.reason
        else:
            policy = config.health or self._settings.health
            reason = f"{policy.failure_threshold} failures in a row"
            tripped = await self.health.record(
                name,
                successes=counts.get(Outcome.DELIVERED, 0),
                failures=failures,
                policy=policy,
                reason=reason,
            )
        if dead:
            await self._announce_dead(name, dead)
        if tripped:
            await self._announce_disabled(config, reason)

    async def _record_unknown(
        self, destination: str, deliveries: list[QueuedDelivery], finish: Finish | None = None
    ) -> None:
        now = time.time()
        reason = f"destination {destination!r} is not configured"
        async with self._redis.pipeline(transaction=True) as pipe:
            for d in deliveries:
                self.dead_letters.add_to(pipe, d.with_attempt(AttemptRecord(now, "failed", reason)), reason)
            if finish is not None:
                finish(pipe)
            await pipe.execute()
        DEAD_LETTERS.labels(destination).inc(len(deliveries))
        logger.error("unconfigured destination: deliveries dead-lettered", extra={"destination": destination})

    async def _announce_disabled(self, config: DestinationConfig, reason: str) -> None:
        """Emit ``destination.disabled`` to wherever routes send it (never to the disabled one)."""
        DESTINATIONS_DISABLED.inc()
        logger.warning("destination disabled", extra={"destination": config.name, "reason": reason})
        data = {"destination": config.name, "kind": config.kind, "reason": reason}
        await self._announce(
            [self._bridge_event(EventType.DESTINATION_DISABLED, config.name, data)], config.name
        )

    async def _announce_dead(self, destination: str, dead: list[Result]) -> None:
        """Emit ``delivery.dead_lettered`` per dead letter, except for the bridge's own events (no loops)."""
        events = []
        for result in dead:
            d = result.delivery
            if str(orjson.loads(d.event_json).get("type", "")).startswith(("delivery.", "destination.")):
                continue
            data = {
                "destination": destination,
                "dead_letter_id": f"{destination}:{d.event_id}",
                "event_id": d.event_id,
                "subject": d.subject,
                "reason": result.reason,
                "attempts": len(d.attempts),
            }
            events.append(
                self._bridge_event(EventType.DELIVERY_DEAD_LETTERED, destination, data, key=d.event_id)
            )
        await self._announce(events, destination)

    def _bridge_event(
        self, kind: EventType, destination: str, data: Mapping[str, object], key: str = ""
    ) -> Event:
        now = datetime.now(UTC)
        millis = int(now.timestamp() * 1000)
        return Event(
            id=f"{kind.value}:{destination}:{key + ':' if key else ''}{millis}",
            source=f"{self._source}/delivery",
            type=kind.value,
            subject=f"destination/{destination}",
            time=now,
            data=dict(data),
            sequence=millis,
            partitionkey=destination,
        )

    async def emit(self, event: Event) -> None:
        """Route ``event`` (one the delivery side produced) and enqueue it; raises ``EnqueueError``."""
        await self._announce([event], about="")

    async def _announce(self, events: list[Event], about: str) -> None:
        deliveries = [
            QueuedDelivery.for_event(event, name)
            for event in events
            for name in destinations_for(event, self._routes)
            if name != about
        ]
        if deliveries:
            await self._enqueue(deliveries)
