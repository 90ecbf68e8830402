"""The statistics poller: reads every ``[[statistics]]`` object from GWS at its interval and hands
``stats.*`` events to the subscriber's sink; one subscriber polls, whichever holds the lease.

Ownership goes through a :class:`~bridge.gws.leases.LeaseManager` under ``keys.stats_lease``
(one lease, ``poller``): each round the poller claims or renews it; a process that dies stops
renewing and another takes over after the lease TTL. The latest snapshot of each object is kept
in the Redis hash ``keys.stats`` (the events' previous state, and what the receiver's ``/queue``
and the console read with :func:`read_snapshot`). A read that fails (GWS down, an unknown object)
is logged and retried with capped exponential backoff, per object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config.keys import Keys
from bridge.config.statistics import StatisticsObject
from bridge.events import EventSink
from bridge.gws.backoff import Backoff
from bridge.gws.errors import GwsError
from bridge.gws.leases import LeaseError, LeaseManager
from bridge.gws.rest import GwsRestClient
from bridge.normalize.statistics import parse_latest, stats_events

__all__ = ["LEASE_NAME", "StatisticsPoller", "read_range", "read_snapshot", "read_snapshots"]

logger = logging.getLogger(__name__)
LEASE_NAME = "poller"


async def read_snapshots(redis: Redis, keys: Keys) -> dict[str, dict[str, Any]]:
    """Every object's latest snapshot, by object id."""
    raw = await redis.hgetall(keys.stats)
    return {(k.decode() if isinstance(k, bytes) else k): orjson.loads(v) for k, v in raw.items()}


async def read_snapshot(redis: Redis, keys: Keys, name: str) -> dict[str, Any] | None:
    """The snapshot of the object whose id or display name is ``name`` (case-insensitive), or None."""
    wanted = name.strip().lower()
    for object_id, snapshot in (await read_snapshots(redis, keys)).items():
        if wanted in (object_id.lower(), str(snapshot.get("name", "")).lower()):
            return snapshot
    return None


async def read_range(
    client: GwsRestClient,
    object_id: str,
    statistic: str,
    *,
    num_values: int | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> list[tuple[float, int]]:
    """``GET /api/v1/stats/{objectId}/{statistic}``: ``(value, time ms)`` newest first (GWS's
    default is the latest value only; ``start_ms``/``end_ms`` choose a time range)."""
    params = {
        key: str(value)
        for key, value in (("numValues", num_values), ("from", start_ms), ("to", end_ms))
        if value is not None
    }
    body = await client.get(f"/api/v1/stats/{object_id}/{statistic}", params=params or None)
    values: list[tuple[float, int]] = []
    for item in body.get("statistics") or []:
        if isinstance(item, dict) and item.get("statistic") == statistic:
            for entry in item.get("values") or []:
                if isinstance(entry, dict) and isinstance(entry.get("value"), int | float):
                    values.append((entry["value"], int(entry.get("time") or 0)))
    return values


class StatisticsPoller:
    """Poll ``objects`` while this process holds the statistics lease.

    ``client_for(user)`` gives the REST client to read as (``user`` is the object's ``user``,
    None for the default); ``clients``, the dict it fills, is closed by :meth:`aclose`.
    """

    def __init__(
        self,
        objects: list[StatisticsObject],
        client_for: Callable[[str | None], GwsRestClient],
        redis: Redis,
        keys: Keys,
        sink: EventSink,
        *,
        owner: str,
        lease_ttl: float = 15.0,
        source: str = "gws-bridge",
        backoff_cap: float = 300.0,
        clients: dict[str, GwsRestClient] | None = None,
    ) -> None:
        self.objects = list(objects)
        self.client_for = client_for
        self.redis = redis
        self.keys = keys
        self.sink = sink
        self.source = source
        self.leases = LeaseManager(redis, owner=owner, ttl=lease_ttl, prefix=keys.stats_lease)
        self.holding = False
        self._due = {obj.object_id: 0.0 for obj in self.objects}
        self._backoff = {obj.object_id: Backoff(obj.interval, backoff_cap) for obj in self.objects}
        self.reads = 0
        self.failures = 0
        self._stop = asyncio.Event()
        self._clients = clients if clients is not None else {}

    async def hold_lease(self) -> bool:
        """Claim or renew the lease; True while this process polls."""
        try:
            if self.holding:
                self.holding = not await self.leases.renew([LEASE_NAME])
            if not self.holding:
                self.holding = await self.leases.claim(LEASE_NAME)
        except LeaseError as exc:
            logger.warning("statistics lease check failed", extra={"error": str(exc)})
            self.holding = False
        return self.holding

    async def poll(self, obj: StatisticsObject) -> int:
        """Read one object, publish its events, keep its snapshot; returns how many events."""
        body = await self.client_for(obj.user).get(f"/api/v1/stats/{obj.object_id}")
        reading = parse_latest(body, obj.statistics or None)
        raw = await self.redis.hget(self.keys.stats, obj.object_id)
        previous = orjson.loads(raw) if raw else None
        events, snapshot = stats_events(obj, reading, previous, source=self.source, now=datetime.now(UTC))
        if events:
            await self.sink.publish(events)
        await self.redis.hset(self.keys.stats, obj.object_id, orjson.dumps(snapshot))
        self.reads += 1
        return len(events)

    async def round(self) -> float:
        """Poll what is due (when holding the lease); returns seconds until the next thing to do."""
        now = time.monotonic()
        renew_in = self.leases.ttl / 3
        if not await self.hold_lease():
            return renew_in
        for obj in self.objects:
            if self._due[obj.object_id] > now:
                continue
            backoff = self._backoff[obj.object_id]
            try:
                await self.poll(obj)
            except (GwsError, RedisError, OSError) as exc:
                self.failures += 1
                delay = backoff.next_delay()
                logger.warning(
                    "statistics read failed",
                    extra={"object_id": obj.object_id, "error": str(exc), "retry_in": round(delay, 2)},
                )
                self._due[obj.object_id] = time.monotonic() + delay
            else:
                backoff.reset()
                self._due[obj.object_id] = now + obj.interval
        next_due = min(self._due.values(), default=now + renew_in) - time.monotonic()
        return max(0.05, min(renew_in, next_due))

    async def aclose(self) -> None:
        """Close the REST clients ``client_for`` made (those in ``clients``)."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def stop(self) -> None:
        """Make :meth:`run` return (after the read under way)."""
        self._stop.set()

    async def run(self) -> None:
        """Poll until :meth:`stop` (or cancelled); the lease is released on the way out."""
        try:
            while not self._stop.is_set():
                delay = await self.round()
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                except TimeoutError:
                    pass
        finally:
            if self.holding:
                try:
                    await self.leases.release([LEASE_NAME])
                except LeaseError:
                    pass
                self.holding = False
