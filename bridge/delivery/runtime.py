"""What one worker process holds: an event loop thread, one HTTP session, connectors, Redis.

Celery runs tasks on its thread pool; every task hands its coroutine to the
one persistent event loop (``asyncio.run`` per task would open a new loop, a
new session and new connections every time). The same loop runs the retry
poller, which moves due entries of the schedule back into Celery and
re-publishes journaled batches whose message was lost (:mod:`.journal`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import socket
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, cast

import aiohttp
from celery import Celery
from redis.asyncio import Redis

from bridge.config import Settings
from bridge.config.delivery import DestinationConfig
from bridge.config.keys import Keys
from bridge.delivery.deliver import Deliverer
from bridge.delivery.enqueue import Enqueuer
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.journal import BatchJournal
from bridge.delivery.metrics import (
    DISABLED_DESTINATIONS,
    JOURNAL_DEPTH,
    JOURNAL_REPUBLISHED,
    RETRY_SCHEDULE_DEPTH,
)
from bridge.delivery.ordering import FifoStore
from bridge.delivery.recording import AttemptLog
from bridge.delivery.retries import FifoKick, RetrySchedule, parse_scheduled
from bridge.events import Event
from bridge.redis_client import async_redis
from connectors import Connector, connector_class

__all__ = ["DeliveryRuntime"]

logger = logging.getLogger(__name__)

_CLAIM_LIMIT = 500
_PRESENCE_TTL = 15
_SWEEP_EVERY = 30.0  # seconds between sweeps for FIFO subjects left without a kick


class DeliveryRuntime:
    """Per-process delivery resources; :meth:`start` before tasks run, :meth:`close` after.

    Implements ``bridge.delivery.app.TaskRunner``.
    """

    def __init__(self, settings: Settings, app: Celery, *, hostname: str | None = None) -> None:
        self._settings = settings
        self._app = app
        self.hostname = hostname or f"gwsb-worker-{socket.gethostname()}"
        self._keys = Keys(settings.delivery.key_prefix)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gwsb-delivery-loop", daemon=True)
        self._stopping: asyncio.Event | None = None
        self._poller: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._redis: Redis | None = None
        self._connectors: dict[str, Connector] = {}
        self._enqueuer: Enqueuer | None = None
        self._deliverer: Deliverer | None = None
        self._next_sweep = 0.0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop thread, open connectors (``ConfigError`` on bad secrets) and the poller."""
        self._thread.start()
        self._call(self._open(), timeout=30)

    async def _open(self) -> None:
        settings = self._settings
        self._stopping = asyncio.Event()
        self._redis = async_redis(settings)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, limit_per_host=0))
        destinations = {d.name: d for d in settings.destinations}
        for dest in settings.destinations:
            self._connectors[dest.name] = self._build_connector(dest)
        self._enqueuer = Enqueuer(
            self._app,
            self._redis,
            self._keys,
            destinations,
            batch_size=settings.delivery.batch_size,
            queue=settings.delivery.queue,
            batch_lease=settings.delivery.batch_lease,
        )
        self._deliverer = Deliverer(
            settings=settings.delivery,
            destinations=destinations,
            connectors=self._connectors,
            routes=settings.routes,
            redis=self._redis,
            keys=self._keys,
            enqueue=self._enqueue,
            source=settings.normalizer.source,
            attempt_log=AttemptLog.from_settings(self._redis, self._keys.console, settings.console),
        )
        self._poller = asyncio.create_task(self._poll_retries())

    def _build_connector(self, dest: DestinationConfig) -> Connector:
        """``cls(config, **resources)`` with the shared resources its constructor names.

        Offered: ``session`` (this process's aiohttp session), ``redis`` (``redis.asyncio``),
        ``registry`` (the mobile ``DeviceRegistry``) and ``emit`` (an ``async (Event) -> None``
        that routes and enqueues an event the connector produces, e.g. ``mobile.token_invalidated``).
        """
        assert self._redis is not None and self._session is not None
        cls = connector_class(dest.kind)
        parameters = inspect.signature(cls).parameters
        wanted = set(parameters)
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            wanted.add("session")
        if getattr(cls, "uses_redis", False):
            wanted.add("redis")
        resources: dict[str, Any] = {}
        if "session" in wanted:
            resources["session"] = self._session
        if "redis" in wanted:
            resources["redis"] = self._redis
        if "emit" in wanted:
            resources["emit"] = self._emit
        if "registry" in wanted:
            from bridge.mobile.registry import DeviceRegistry  # only when a push destination exists

            resources["registry"] = DeviceRegistry(self._redis, prefix=self._keys.mobile)
        return cast(Connector, cls(dest, **resources))

    async def _emit(self, event: Event) -> None:
        """Route and enqueue an event a connector produced; raises ``EnqueueError``."""
        await self._require().emit(event)

    def close(self) -> None:
        """Stop the poller, close connectors, the session and Redis, and the loop thread."""
        if not self._thread.is_alive():
            return
        try:
            self._call(self._aclose(), timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    async def _aclose(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._poller is not None:
            await asyncio.gather(self._poller, return_exceptions=True)
        for connector in self._connectors.values():
            try:
                await connector.aclose()
            except Exception:
                logger.exception("connector did not close cleanly")
        if self._session is not None:
            await self._session.close()
        if self._redis is not None:
            await self._redis.delete(self._keys.worker(self.hostname))
            await self._redis.aclose()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run ``coro`` on the delivery loop (e.g. a heartbeat); it stops with the loop."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _call(self, coro: Coroutine[Any, Any, Any], *, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()  # never leave it running while the task is requeued: it would run twice
            raise

    # -- TaskRunner ------------------------------------------------------------------------------

    def _require(self) -> Deliverer:
        if self._deliverer is None:
            raise RuntimeError("DeliveryRuntime.start() was not called")
        return self._deliverer

    def deliver_batch(self, destination: str, wires: list[str]) -> None:
        """Run one batch task to completion (bounded by the task deadline)."""
        self._call(self._require().deliver_batch(destination, wires), timeout=self._task_timeout())

    def deliver_journaled(self, destination: str, batch_id: str) -> None:
        """Run one journaled batch to completion (bounded by the task deadline)."""
        self._call(self._require().deliver_journaled(destination, batch_id), timeout=self._task_timeout())

    def deliver_subject(self, destination: str, subject: str) -> None:
        """Run one FIFO kick to completion (bounded by the task deadline)."""
        self._call(self._require().deliver_subject(destination, subject), timeout=self._task_timeout())

    def _task_timeout(self) -> float:
        # The coroutine keeps its own deadline; this only guards against a wedged loop.
        return self._settings.delivery.task_deadline * 1.25 + 5

    async def _enqueue(self, deliveries: Sequence[QueuedDelivery]) -> None:
        assert self._enqueuer is not None
        await self._enqueuer.enqueue(deliveries)

    # -- the retry poller ------------------------------------------------------------------------

    async def _poll_retries(self) -> None:
        assert self._redis is not None and self._enqueuer is not None and self._stopping is not None
        schedule = RetrySchedule(self._redis, self._keys)
        journal = BatchJournal(self._redis, self._keys)
        delivery = self._settings.delivery
        next_housekeeping = 0.0
        while not self._stopping.is_set():
            claimed = 0
            try:
                if time.monotonic() >= next_housekeeping:
                    await self._housekeeping(schedule)
                    next_housekeeping = time.monotonic() + 5
                wires = await schedule.claim(limit=_CLAIM_LIMIT, lease=delivery.retry_claim_lease)
                claimed = len(wires)
                if wires:
                    await self._enqueue_scheduled(wires)
                    await schedule.remove(wires)
                abandoned = await journal.claim_abandoned(limit=_CLAIM_LIMIT, lease=delivery.batch_lease)
                if abandoned:
                    # Their messages were lost (or are stuck behind a very long queue: a duplicate
                    # message is harmless, the batch runs once). Claimed, so no other worker sends them.
                    await self._enqueuer.republish(abandoned)
                    JOURNAL_REPUBLISHED.inc(len(abandoned))
                    logger.warning("journaled batches published again", extra={"count": len(abandoned)})
                    claimed = max(claimed, len(abandoned))
            except Exception:
                logger.exception("retry poller failed; will try again")
            if claimed < _CLAIM_LIMIT:
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=delivery.retry_poll_interval)
                except TimeoutError:
                    pass

    async def _enqueue_scheduled(self, wires: list[str]) -> None:
        assert self._enqueuer is not None
        deliveries: list[QueuedDelivery] = []
        kicks: list[FifoKick] = []
        unreadable = []
        for wire in wires:
            try:
                item = parse_scheduled(wire)
            except (ValueError, KeyError, TypeError):
                unreadable.append(wire)
                continue
            if isinstance(item, FifoKick):
                kicks.append(item)
            else:
                deliveries.append(item)
        if unreadable:
            assert self._redis is not None
            await self._redis.rpush(self._keys.unreadable, *unreadable)
            logger.error("unreadable retry entries set aside", extra={"key": self._keys.unreadable})
        await self._enqueuer.enqueue(deliveries, kicks)

    async def _housekeeping(self, schedule: RetrySchedule) -> None:
        assert self._redis is not None
        await self._redis.set(self._keys.worker(self.hostname), str(time.time()), ex=_PRESENCE_TTL)
        RETRY_SCHEDULE_DEPTH.set(await schedule.depth())
        JOURNAL_DEPTH.set(await BatchJournal(self._redis, self._keys).depth())
        DISABLED_DESTINATIONS.set(await self._redis.hlen(self._keys.disabled))
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + _SWEEP_EVERY
            fifo = FifoStore(self._redis, self._keys)
            now = time.time()
            for dest in self._settings.destinations:
                if dest.ordered:
                    idle = await fifo.idle_subjects(dest.name)
                    await schedule.add((FifoKick(dest.name, subject).to_wire(), now) for subject in idle)
