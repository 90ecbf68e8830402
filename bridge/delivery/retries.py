"""The due-retry schedule: a Redis sorted set of work that must run later.

Long delays never become Celery countdowns (with the Redis transport a
countdown longer than the visibility timeout is redelivered and runs twice).
Instead, retries, deferred sends and FIFO "kicks" wait here, scored by their
due time. Every worker polls; :meth:`RetrySchedule.claim` atomically pushes
the due entries' scores forward by a lease (so other pollers skip them), the
poller enqueues them as tasks, then :meth:`RetrySchedule.remove` deletes them.
A poller that dies between claim and remove loses nothing: the lease expires
and another poller claims the entries again (at-least-once).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import orjson
from redis.asyncio import Redis

from bridge.config.keys import Keys
from bridge.delivery.items import QueuedDelivery
from bridge.delivery.redisio import text

__all__ = ["FifoKick", "RetrySchedule", "parse_scheduled"]

_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], until_, member)
end
return due
"""


@dataclass(frozen=True, slots=True)
class FifoKick:
    """Resume delivery of ``subject``'s FIFO queue for ``destination``."""

    destination: str
    subject: str

    def to_wire(self) -> str:
        return orjson.dumps({"k": self.destination, "s": self.subject}).decode()


def parse_scheduled(wire: str | bytes) -> QueuedDelivery | FifoKick:
    """Decode a schedule entry; raises ``ValueError``/``KeyError`` on garbage."""
    raw = orjson.loads(wire)
    if "k" in raw:
        return FifoKick(raw["k"], raw["s"])
    return QueuedDelivery.from_wire(wire)


class RetrySchedule:
    """Due-time ordered work in Redis, shared by all workers."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._key = keys.retry
        self._claim = redis.register_script(_CLAIM)

    @property
    def key(self) -> str:
        return self._key

    async def add(self, entries: Iterable[tuple[str, float]]) -> None:
        """Schedule ``(wire, due_unix_time)`` pairs."""
        mapping = dict(entries)
        if mapping:
            await self._redis.zadd(self._key, mapping)

    async def claim(self, *, limit: int, lease: float, now: float | None = None) -> list[str]:
        """Up to ``limit`` due entries, hidden from other pollers for ``lease`` seconds."""
        now = time.time() if now is None else now
        members = await self._claim(keys=[self._key], args=[repr(now), repr(lease), limit])
        return [m.decode() if isinstance(m, bytes) else m for m in members]

    async def remove(self, wires: Iterable[str]) -> None:
        """Forget entries that were enqueued."""
        wires = list(wires)
        if wires:
            await self._redis.zrem(self._key, *wires)

    async def depth(self) -> int:
        """How many entries are waiting (due or not)."""
        return int(await self._redis.zcard(self._key))

    async def entries(self) -> list[tuple[str, float]]:
        """Every entry with its due time (for tests and diagnostics; O(n))."""
        rows = await self._redis.zrange(self._key, 0, -1, withscores=True)
        return [(text(member), float(score)) for member, score in cast("list[tuple[bytes, float]]", rows)]
