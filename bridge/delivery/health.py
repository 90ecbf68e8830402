"""Endpoint health: runs of failures, auto-disable, parking, and enabling again.

A destination is disabled on a permanent failure that asks for it (HTTP 410),
or after ``failure_threshold`` failed attempts with no success in between,
within ``failure_window`` seconds, once that run has lasted ``failure_min_span``
seconds (a single burst of failures does not disable a busy endpoint).
While disabled, every delivery that arrives for it is parked in a Redis list;
:meth:`HealthStore.enable` puts them back in the due-retry schedule. The check
"disabled?" and the park are one Lua script, so a delivery cannot slip between
an enable and a park.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis

from bridge.config.delivery import HealthPolicy
from bridge.config.keys import Keys
from bridge.delivery.redisio import text

__all__ = ["DisabledInfo", "HealthStore"]

_RECORD = """
-- KEYS: failures, disabled
-- ARGV: successes, failures, now, window, threshold, destination, info, nonce, min_span
local successes = tonumber(ARGV[1])
local failures = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if successes > 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
if failures == 0 then return 0 end
for i = 1, failures do
  redis.call('ZADD', KEYS[1], now, ARGV[8] .. ':' .. i)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[4]))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[4])) + 60)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if now - tonumber(oldest[2]) >= tonumber(ARGV[9]) then
    return redis.call('HSETNX', KEYS[2], ARGV[6], ARGV[7])
  end
end
return 0
"""

_PARK_IF_DISABLED = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
return 1
"""

_ENABLE = """
-- KEYS: disabled, parked, failures, retry; ARGV: destination, now
local parked = redis.call('LRANGE', KEYS[2], 0, -1)
for _, wire in ipairs(parked) do redis.call('ZADD', KEYS[4], tonumber(ARGV[2]), wire) end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HDEL', KEYS[1], ARGV[1])
return #parked
"""


@dataclass(frozen=True, slots=True)
class DisabledInfo:
    """Why and since when a destination is disabled."""

    reason: str
    at: float


class HealthStore:
    """Health state of every destination, in Redis."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._record = redis.register_script(_RECORD)
        self._park = redis.register_script(_PARK_IF_DISABLED)
        self._enable = redis.register_script(_ENABLE)

    async def disabled(self) -> dict[str, DisabledInfo]:
        """Every disabled destination."""
        rows = await self._redis.hgetall(self._keys.disabled)
        found = {}
        for name, raw in rows.items():
            info = orjson.loads(raw)
            found[text(name)] = DisabledInfo(info["reason"], float(info["at"]))
        return found

    async def is_disabled(self, destination: str) -> bool:
        return bool(await self._redis.hexists(self._keys.disabled, destination))

    async def disable(self, destination: str, reason: str) -> bool:
        """Disable ``destination``; True only for the call that switched it off."""
        info = orjson.dumps({"reason": reason, "at": time.time()}).decode()
        return bool(await self._redis.hsetnx(self._keys.disabled, destination, info))

    async def record(
        self, destination: str, *, successes: int, failures: int, policy: HealthPolicy, reason: str
    ) -> bool:
        """Count one batch's results; True when this call disabled the destination."""
        info = orjson.dumps({"reason": reason, "at": time.time()}).decode()
        tripped = await self._record(
            keys=[self._keys.failures(destination), self._keys.disabled],
            args=[
                successes, failures, repr(time.time()), repr(policy.failure_window),
                policy.failure_threshold, destination, info, uuid.uuid4().hex, repr(policy.failure_min_span),
            ],
        )  # fmt: skip
        return bool(tripped)

    async def failure_count(self, destination: str) -> int:
        return int(await self._redis.zcard(self._keys.failures(destination)))

    async def park_if_disabled(self, destination: str, wires: Sequence[str]) -> bool:
        """Park ``wires`` when ``destination`` is disabled (True); otherwise leave them (False)."""
        parked = await self._park(
            keys=[self._keys.disabled, self._keys.parked(destination)], args=[destination, *wires]
        )
        return bool(parked)

    async def parked_count(self, destination: str) -> int:
        return int(await self._redis.llen(self._keys.parked(destination)))

    async def enable(self, destination: str) -> int:
        """Enable ``destination``: forget its failures and reschedule its parked deliveries now.

        Returns how many parked deliveries were rescheduled. FIFO destinations
        also need their subjects kicked (see ``FifoStore.kick_all``).
        """
        moved = await self._enable(
            keys=[
                self._keys.disabled, self._keys.parked(destination),
                self._keys.failures(destination), self._keys.retry,
            ],
            args=[destination, repr(time.time())],
        )  # fmt: skip
        return int(moved)
