"""A token bucket in Redis, shared by every process: per destination (workers), per client (receivers).

One Lua script refills by elapsed time (Redis's own clock, so workers on
different hosts agree), takes up to the requested number of tokens, and says
how long until the next token.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bridge.config.keys import Keys

__all__ = ["TAKE_SCRIPT", "TokenBucket"]

#: KEYS[1] the bucket; ARGV rate, burst, wanted -> {granted, seconds until the next token}
TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(1000 * (burst / rate + 60)))
local wait = 0
if granted < wanted then
  wait = (1 - tokens) / rate
end
return {granted, tostring(wait)}
"""


class TokenBucket:
    """``rate`` tokens per second up to ``burst``, for one destination, across all workers."""

    def __init__(self, redis: Redis, keys: Keys, destination: str, *, rate: float, burst: int) -> None:
        self._key = keys.bucket(destination)
        self._rate = rate
        self._burst = burst
        self._take = redis.register_script(TAKE_SCRIPT)

    async def take(self, wanted: int) -> tuple[int, float]:
        """Take up to ``wanted`` tokens: ``(granted, seconds until the next token if short)``."""
        granted, wait = await self._take(keys=[self._key], args=[repr(self._rate), self._burst, wanted])
        return int(granted), float(wait)
