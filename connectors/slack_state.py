"""Slack connector state shared by every worker (and read by the receiver), in Redis.

:class:`ChannelPacer` spaces the posts to a channel; :class:`ThreadBook` remembers the thread of
each call and interaction in a channel, the way back from a thread to its subject (a reply in a
chat's thread goes to that chat: ``bridge/inbound/slack_events.py``), and whose it is.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis

from bridge.config.keys import SlackKeys
from bridge.errors import RetryableDeliveryError
from bridge.events import Event

__all__ = ["ChannelPacer", "ThreadBook", "ThreadOrigin"]


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


_PENDING = b"pending"
_PENDING_TTL = 30
# After these the agent no longer holds the interaction (a transfer revokes it from the first agent).
_LET_GO = frozenset({"interaction.revoked", "interaction.completed"})


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class ThreadOrigin:
    """What a thread root is about: ``subject`` (``call/<id>``, ``interaction/<id>``) and its media."""

    subject: str
    media: str | None = None  # "chat", "email", … for an interaction (None when unknown)

    @property
    def interaction_id(self) -> str | None:
        kind, _, ident = self.subject.partition("/")
        return ident if kind == "interaction" and ident else None


class ThreadBook:
    """Thread roots per ``(channel, subject)``, their origin per ``(channel, ts)``, and subjects' agents.

    Everything expires after ``ttl`` seconds (the destination's ``thread_ttl``). Raises
    ``RedisError`` as the client does.
    """

    def __init__(self, redis: Redis, keys: SlackKeys, *, ttl: float) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = max(int(ttl), 1)

    async def root(self, channel: str, subject: str) -> str | None:
        """The root ``ts`` of ``subject``'s thread (None: none yet, or being posted)."""
        value = await self._redis.get(self._keys.thread(channel, subject))
        return None if value is None or value == _PENDING else _text(value)

    async def claim(self, channel: str, subject: str) -> bool:
        """True when this caller is to post the root (no other worker is posting it)."""
        return bool(
            await self._redis.set(self._keys.thread(channel, subject), _PENDING, nx=True, ex=_PENDING_TTL)
        )

    async def release(self, channel: str, subject: str) -> None:
        """Give up a claim (the root's post failed): the next event claims it again."""
        await self._redis.delete(self._keys.thread(channel, subject))

    async def wait_for_root(self, channel: str, subject: str, within: float = 3.0) -> str | None:
        """Another worker is posting the root: its ``ts``, waiting up to ``within`` s (None if not)."""
        key = self._keys.thread(channel, subject)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            value = await self._redis.get(key)
            if value is None:
                return None  # its post failed; the event claims the root on its retry
            if value != _PENDING:
                return _text(value)
        return None

    async def set_root(self, channel: str, subject: str, ts: str, media: str | None = None) -> None:
        """``ts`` is ``subject``'s thread root in ``channel`` (and the way back from it)."""
        origin = orjson.dumps({"subject": subject, "media": media})
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._keys.thread(channel, subject), ts, ex=self._ttl)
            pipe.set(self._keys.thread_subject(channel, ts), origin, ex=self._ttl)
            await pipe.execute()

    async def origin(self, channel: str, ts: str) -> ThreadOrigin | None:
        """What the thread rooted at ``ts`` in ``channel`` is about (None: not one of ours)."""
        raw = await self._redis.get(self._keys.thread_subject(channel, ts))
        if raw is None:
            return None
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        subject, media = document.get("subject"), document.get("media")
        if not isinstance(subject, str):
            return None
        return ThreadOrigin(subject, media if isinstance(media, str) else None)

    async def remember_agent(self, event: Event) -> None:
        """Note whose call or interaction ``event`` is about (for the receiver's checks)."""
        agent = event.data.get("agent")
        if not agent:
            return
        call_id, interaction_id = event.data.get("call_id"), event.data.get("interaction_id")
        if event.type.startswith("call.") and call_id:
            key, holds = self._keys.call_agents(str(call_id)), True
        elif (event.type.startswith("interaction.") or event.type == "chat.message") and interaction_id:
            key, holds = self._keys.interaction_agents(str(interaction_id)), event.type not in _LET_GO
        else:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            if holds:
                pipe.sadd(key, str(agent))
            else:
                pipe.srem(key, str(agent))
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def agents(self, subject: str) -> set[str]:
        """The agents a ``call/<id>`` was posted for, or who hold an ``interaction/<id>``."""
        kind, _, ident = subject.partition("/")
        if kind == "call":
            key = self._keys.call_agents(ident)
        elif kind == "interaction":
            key = self._keys.interaction_agents(ident)
        else:
            return set()
        return {_text(member) for member in await self._redis.smembers(key)}
