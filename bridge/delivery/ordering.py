"""FIFO per subject: one subject's events reach an ordered destination in ``sequence`` order.

Each (destination, subject) has a Redis sorted set of pending event ids scored
by sequence, plus a hash of their deliveries. Only the holder of the
subject's lock (``SET NX PX``, released by token) delivers, one event at a
time, from the head. The head leaves the queue only when it was delivered or
dead-lettered; a retryable failure keeps it at the head and blocks the subject
until its retry is due, so later events wait behind it, whichever worker runs.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bridge.config.keys import Keys
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.redisio import text

__all__ = ["FifoStore"]

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_ACK_HEAD = """
-- KEYS: fifo, items, subjects; ARGV: event id, subject
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
return redis.call('ZCARD', KEYS[1])
"""


class FifoStore:
    """Per-subject FIFO queues for ordered destinations."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._unlock = redis.register_script(_UNLOCK)
        self._ack = redis.register_script(_ACK_HEAD)

    def add_to(self, pipe: Any, delivery: QueuedDelivery) -> None:
        """Queue the commands adding ``delivery`` (once per event id) on pipeline ``pipe``."""
        d, s = delivery.destination, delivery.subject
        pipe.zadd(self._keys.fifo(d, s), {delivery.event_id: delivery.sequence}, nx=True)
        pipe.hsetnx(self._keys.fifo_items(d, s), delivery.event_id, delivery.to_wire())
        pipe.sadd(self._keys.fifo_subjects(d), s)

    async def lock(self, destination: str, subject: str, token: str, lease: float) -> bool:
        """Take the subject's lock for ``lease`` seconds; False when another worker holds it."""
        key = self._keys.fifo_lock(destination, subject)
        return bool(await self._redis.set(key, token, nx=True, px=max(int(lease * 1000), 1)))

    async def unlock(self, destination: str, subject: str, token: str) -> None:
        await self._unlock(keys=[self._keys.fifo_lock(destination, subject)], args=[token])

    async def head(self, destination: str, subject: str) -> QueuedDelivery | None:
        """The pending delivery with the lowest sequence, if any."""
        ids = await self._redis.zrange(self._keys.fifo(destination, subject), 0, 0)
        if not ids:
            return None
        first = text(ids[0])
        wire = await self._redis.hget(self._keys.fifo_items(destination, subject), first)
        if wire is None:  # an add interrupted between ZADD and HSETNX cannot happen (MULTI); be safe
            await self.ack(destination, subject, first)
            return await self.head(destination, subject)
        return QueuedDelivery.from_wire(wire)

    async def ack(self, destination: str, subject: str, event_id: str) -> int:
        """Remove the head ``event_id``; returns how many events remain for the subject."""
        remaining = await self._ack(
            keys=[
                self._keys.fifo(destination, subject),
                self._keys.fifo_items(destination, subject),
                self._keys.fifo_subjects(destination),
            ],
            args=[event_id, subject],
        )
        return int(remaining)

    def hold_head_to(self, pipe: Any, delivery: QueuedDelivery, until: float, now: float) -> None:
        """Queue on ``pipe``: keep ``delivery`` at the head and block its subject until ``until``.

        The caller schedules a kick for ``until`` in the same transaction, or the subject would
        stay idle until its next event.
        """
        d, s = delivery.destination, delivery.subject
        pipe.hset(self._keys.fifo_items(d, s), delivery.event_id, delivery.to_wire())
        pipe.set(self._keys.fifo_blocked(d, s), repr(until), px=max(int((until - now) * 1000), 1))

    async def blocked_until(self, destination: str, subject: str) -> float:
        raw = await self._redis.get(self._keys.fifo_blocked(destination, subject))
        return float(raw) if raw is not None else 0.0

    async def pending(self, destination: str, subject: str) -> int:
        return int(await self._redis.zcard(self._keys.fifo(destination, subject)))

    async def idle_subjects(self, destination: str) -> list[str]:
        """Subjects with pending events that nobody is delivering and no retry is waiting for.

        Normally none: every add is followed by a kick. A producer that died between its
        FIFO add and its kick leaves one; the workers' sweep kicks it.
        """
        subjects = await self.subjects(destination)
        if not subjects:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for subject in subjects:
                pipe.exists(
                    self._keys.fifo_lock(destination, subject), self._keys.fifo_blocked(destination, subject)
                )
            busy = await pipe.execute()
        return [subject for subject, count in zip(subjects, busy, strict=True) if not count]

    async def subjects(self, destination: str) -> list[str]:
        return sorted(text(s) for s in await self._redis.smembers(self._keys.fifo_subjects(destination)))
