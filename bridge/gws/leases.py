"""Agent leases in Redis: which subscriber process holds which agent's GWS session.

Several ``gws-bridge subscriber`` processes share one list of agents. Each agent
is held by at most one live process at a time, through a lease key
``{prefix}agent:{username}`` whose value is the holder's owner token and which
expires after the lease TTL unless renewed. A process that dies stops renewing,
its leases expire, and the other processes claim those agents.

Membership (who is alive, so that agents are spread evenly) is a sorted set
``{prefix}members`` scored by each member's expiry time (Redis server time,
so process clocks don't matter), with each member's capacity in the hash
``{prefix}capacities``; :func:`fair_shares` turns it into per-member targets.

Every operation is atomic on the Redis side: claims are ``SET NX PX``; renew,
release and membership are Lua scripts that check the owner token, so a
process can never extend or delete a lease it no longer holds.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bridge.config.keys import DEFAULT_KEYS
from bridge.errors import BridgeError

__all__ = ["LeaseError", "LeaseManager", "fair_shares", "lease_key", "make_owner_token"]

logger = logging.getLogger(__name__)

# KEYS = lease keys; ARGV[1] = owner token, ARGV[2] = ttl ms.
# Returns, per key, 1 if the lease is (still) ours and was extended, 0 if lost.
_RENEW = """
local result = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    result[i] = 1
  else
    result[i] = 0
  end
end
return result
"""

# KEYS = lease keys; ARGV[1] = owner token. Deletes only our own leases; returns how many.
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
"""

# KEYS[1] = members zset (score: expiry, ms), KEYS[2] = members' capacities (hash).
# ARGV[1] = owner token, ARGV[2] = ttl ms, ARGV[3] = 1 to join, 0 to leave, ARGV[4] = capacity.
# Uses the server clock; drops expired members; returns {owner, capacity, owner, capacity, ...}.
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('HDEL', KEYS[2], member)
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
local result = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  result[#result + 1] = member
  result[#result + 1] = redis.call('HGET', KEYS[2], member) or '0'
end
return result
"""


class LeaseError(BridgeError):
    """Redis could not be reached or refused a lease operation."""


def make_owner_token() -> str:
    """A token unique to this process: ``host:pid:random`` (readable in ``redis-cli``)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_key(prefix: str, agent: str) -> str:
    """The Redis key of ``agent``'s lease under ``prefix`` (``Keys.leases`` for the agents'): its
    value is the holder's owner token (readers such as the console use this too)."""
    return f"{prefix}agent:{agent}"


class LeaseManager:
    """Claims, renews and releases agent leases for one owner (one process).

    ``ttl`` is in seconds. All methods raise :class:`LeaseError` when Redis fails.
    """

    def __init__(self, redis: Redis, *, owner: str, ttl: float, prefix: str = DEFAULT_KEYS.leases) -> None:
        if ttl <= 0:
            raise ValueError("lease ttl must be positive")
        self.redis = redis
        self.owner = owner
        self.ttl = ttl
        self.prefix = prefix
        self._ttl_ms = max(1, int(ttl * 1000))
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._heartbeat = redis.register_script(_HEARTBEAT)

    def key(self, agent: str) -> str:
        """The Redis key of ``agent``'s lease."""
        return lease_key(self.prefix, agent)

    @property
    def members_key(self) -> str:
        return f"{self.prefix}members"

    @property
    def capacities_key(self) -> str:
        return f"{self.prefix}capacities"

    async def claim(self, agent: str) -> bool:
        """Take ``agent``'s lease if nobody holds it; True if we got it.

        A lease that is already held, by anyone including us, is not taken
        (False); keep our own leases alive with :meth:`renew`.
        """
        try:
            return bool(await self.redis.set(self.key(agent), self.owner, nx=True, px=self._ttl_ms))
        except RedisError as exc:
            raise LeaseError(f"claiming the lease of agent {agent!r} failed: {exc}") from exc

    async def claim_many(self, agents: Sequence[str]) -> list[str]:
        """Try to claim each of ``agents`` (one round trip); returns those now held by us."""
        if not agents:
            return []
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for agent in agents:
                    pipe.set(self.key(agent), self.owner, nx=True, px=self._ttl_ms)
                results = await pipe.execute()
        except RedisError as exc:
            raise LeaseError(f"claiming {len(agents)} agent leases failed: {exc}") from exc
        return [agent for agent, ok in zip(agents, results, strict=True) if ok]

    async def renew(self, agents: Iterable[str]) -> set[str]:
        """Extend our leases on ``agents`` by the TTL; returns the agents whose lease we lost."""
        names = list(agents)
        if not names:
            return set()
        try:
            result: list[Any] = await self._renew(
                keys=[self.key(a) for a in names], args=[self.owner, self._ttl_ms]
            )
        except RedisError as exc:
            raise LeaseError(f"renewing {len(names)} agent leases failed: {exc}") from exc
        return {agent for agent, ok in zip(names, result, strict=True) if not int(ok)}

    async def release(self, agents: Iterable[str]) -> int:
        """Delete our leases on ``agents`` (others' leases are untouched); returns how many."""
        names = list(agents)
        if not names:
            return 0
        try:
            return int(await self._release(keys=[self.key(a) for a in names], args=[self.owner]))
        except RedisError as exc:
            raise LeaseError(f"releasing {len(names)} agent leases failed: {exc}") from exc

    async def owners(self, agents: Sequence[str]) -> dict[str, str | None]:
        """The current holder's token for each agent (None when free)."""
        if not agents:
            return {}
        try:
            values = await self.redis.mget([self.key(a) for a in agents])
        except RedisError as exc:
            raise LeaseError(f"reading {len(agents)} agent leases failed: {exc}") from exc
        return {
            agent: (v.decode() if isinstance(v, bytes) else v)
            for agent, v in zip(agents, values, strict=True)
        }

    async def heartbeat(self, capacity: int) -> dict[str, int]:
        """Mark this owner alive for one TTL, with its capacity; returns every live member's capacity."""
        try:
            flat = await self._heartbeat(
                keys=[self.members_key, self.capacities_key], args=[self.owner, self._ttl_ms, 1, capacity]
            )
        except RedisError as exc:
            raise LeaseError(f"membership heartbeat failed: {exc}") from exc
        return {_text(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def leave(self) -> None:
        """Remove this owner from the live members (clean shutdown)."""
        try:
            await self._heartbeat(
                keys=[self.members_key, self.capacities_key], args=[self.owner, self._ttl_ms, 0, 0]
            )
        except RedisError as exc:
            raise LeaseError(f"leaving the membership failed: {exc}") from exc


def fair_shares(total: int, capacities: dict[str, int]) -> dict[str, int]:
    """How many of ``total`` agents each member should hold: an even split, capped by capacity.

    Water-filling: members are served from the smallest capacity up, each taking
    ``min(capacity, ceil(remaining / members left))``, so what a small member
    cannot take is shared by the others. Every member computes the same result
    from the same membership. Shares are targets (their sum may exceed ``total``
    by rounding); a member never holds more than its share.
    """
    shares: dict[str, int] = {}
    remaining = total
    ordered = sorted(capacities, key=lambda owner: (capacities[owner], owner))
    for index, owner in enumerate(ordered):
        even = -(-remaining // (len(ordered) - index)) if remaining > 0 else 0
        shares[owner] = max(0, min(capacities[owner], even))
        remaining -= shares[owner]
    return shares


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
