"""Slack connector state shared by every worker, in Redis: per-channel pacing."""

from __future__ import annotations

from redis.asyncio import Redis

from bridge.config.keys import SlackKeys
from bridge.errors import RetryableDeliveryError

__all__ = ["ChannelPacer"]


# Reserve the channel's next slot unless it is further away than max_wait; Redis's clock, so
# every worker on every host agrees.
_RESERVE = """
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
local wait = slot - now
if wait > max_wait then
  return {0, tostring(wait)}
end
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', math.ceil((wait + interval) * 1000) + 1000)
return {1, tostring(wait)}
"""

# Push the next slot to at least now + seconds (a 429 from Slack holds every worker back).
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > nxt then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


class ChannelPacer:
    """At most one post per ``interval`` seconds per channel, shared by all workers through Redis."""

    def __init__(self, redis: Redis, keys: SlackKeys, *, interval: float, max_wait: float) -> None:
        self._redis = redis
        self._keys = keys
        self._interval = interval
        self._max_wait = max_wait
        self._reserve = redis.register_script(_RESERVE)
        self._hold = redis.register_script(_HOLD)

    async def reserve(self, channel: str) -> float:
        """Reserve the channel's next slot: seconds to wait for it, or raise ``RetryableDeliveryError``.

        The error (with ``retry_after``) comes when the slot is more than ``max_wait`` away: the
        event goes back to the delivery schedule instead of holding a worker.
        """
        granted, wait = await self._reserve(
            keys=[self._keys.pace(channel)], args=[repr(self._interval), repr(self._max_wait)]
        )
        if not int(granted):
            raise RetryableDeliveryError(f"channel {channel} is paced", retry_after=float(wait))
        return float(wait)

    async def hold(self, channel: str, seconds: float) -> None:
        """No post to ``channel`` for ``seconds`` (after Slack answered 429)."""
        await self._hold(keys=[self._keys.pace(channel)], args=[repr(max(seconds, 0.0))])
