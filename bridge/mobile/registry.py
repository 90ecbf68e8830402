"""The mobile device registry: which push tokens belong to which agent, in Redis.

Keys (``prefix`` defaults to ``gwsb:mobile``)::

    <prefix>:device:<token>     hash  agent, platform, token, filter, sandbox, registered_at
    <prefix>:agent:<agent>      set   the agent's tokens
    <prefix>:sent:<scope>:<id>  set   tokens an event was already pushed to (expires)

A token belongs to one agent at a time: registering it again (another agent
signed in on the same phone) moves it. The ``sent`` sets make a retried
delivery skip the devices that already got the push.
"""

from __future__ import annotations

import builtins
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from redis.asyncio import Redis

from bridge.config.keys import DEFAULT_KEYS
from bridge.events import Event
from bridge.mobile.topics import filter_matches, topic_for

__all__ = ["Device", "DeviceRegistry", "Platform", "token_fingerprint"]


class Platform(str, Enum):
    """Where a device's pushes go: ``ios`` → APNs, ``android`` → FCM."""

    IOS = "ios"
    ANDROID = "android"


@dataclass(frozen=True)
class Device:
    """One registered device. ``sandbox`` follows GWS's ``mobileSession.debug`` (APNs development)."""

    agent: str
    platform: Platform
    token: str
    filter: str | None = None
    sandbox: bool = False
    registered_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The device as the HTTP API shows it."""
        return {
            "agent": self.agent,
            "platform": self.platform.value,
            "token": self.token,
            "filter": self.filter,
            "sandbox": self.sandbox,
            "registered_at": self.registered_at,
        }


def token_fingerprint(token: str) -> str:
    """A short, stable stand-in for a push token in logs and error messages."""
    return "tok:" + hashlib.sha256(token.encode()).hexdigest()[:12]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _device(raw: dict[Any, Any]) -> Device | None:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    try:
        return Device(
            agent=fields["agent"],
            platform=Platform(fields["platform"]),
            token=fields["token"],
            filter=fields.get("filter") or None,
            sandbox=fields.get("sandbox") == "1",
            registered_at=float(fields.get("registered_at") or 0.0),
        )
    except (KeyError, ValueError):
        return None  # a half-written or foreign hash: not a device


class DeviceRegistry:
    """Push devices per agent, stored in Redis (``redis`` is a ``redis.asyncio.Redis``, not closed here)."""

    def __init__(self, redis: Redis, *, prefix: str = DEFAULT_KEYS.mobile) -> None:
        self._redis = redis
        self._prefix = prefix

    def _device_key(self, token: str) -> str:
        return f"{self._prefix}:device:{token}"

    def _agent_key(self, agent: str) -> str:
        return f"{self._prefix}:agent:{agent}"

    async def register(
        self,
        agent: str,
        platform: Platform | str,
        token: str,
        filter: str | None = None,
        sandbox: bool = False,
    ) -> Device:
        """Store (or replace) the device with ``token`` for ``agent`` and return it.

        A token already registered for another agent is moved to ``agent``.
        Input is not validated here; the HTTP layer does that.
        """
        device = Device(
            agent=agent,
            platform=Platform(platform),
            token=token,
            filter=filter or None,
            sandbox=sandbox,
            registered_at=round(time.time(), 3),
        )
        previous = await self._redis.hget(self._device_key(token), "agent")
        async with self._redis.pipeline(transaction=True) as pipe:
            if previous is not None and _text(previous) != agent:
                pipe.srem(self._agent_key(_text(previous)), token)
            pipe.delete(self._device_key(token))
            pipe.hset(
                self._device_key(token),
                mapping={
                    "agent": agent,
                    "platform": device.platform.value,
                    "token": token,
                    "filter": device.filter or "",
                    "sandbox": "1" if sandbox else "0",
                    "registered_at": repr(device.registered_at),
                },
            )
            pipe.sadd(self._agent_key(agent), token)
            await pipe.execute()
        return device

    async def get(self, token: str) -> Device | None:
        """The device with ``token``, or ``None``."""
        return _device(await self._redis.hgetall(self._device_key(token)))

    async def remove(self, token: str) -> Device | None:
        """Forget ``token``; returns the device it was, or ``None`` when it was not registered."""
        device = await self.get(token)
        if device is None:
            return None
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._device_key(token))
            pipe.srem(self._agent_key(device.agent), token)
            await pipe.execute()
        return device

    async def list(self, agent: str) -> list[Device]:
        """The agent's devices, oldest registration first."""
        tokens = sorted(_text(t) for t in await self._redis.smembers(self._agent_key(agent)))
        if not tokens:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for token in tokens:
                pipe.hgetall(self._device_key(token))
            rows = await pipe.execute()
        devices = [d for d in (_device(row) for row in rows) if d is not None and d.agent == agent]
        return sorted(devices, key=lambda d: (d.registered_at, d.token))

    async def devices_for(
        self, event: Event, platforms: Iterable[Platform] | None = None
    ) -> builtins.list[Device]:
        """The devices of the event's agent whose filter passes the event's GWS topic.

        Events that are never pushed (errors, the bridge's own events) get ``[]``.
        ``platforms`` narrows the result (an APNs destination asks for iOS only).
        """
        topic = topic_for(event)
        if topic is None:
            return []
        wanted = set(platforms) if platforms is not None else None
        return [
            d
            for d in await self.list(event.partitionkey)
            if (wanted is None or d.platform in wanted) and filter_matches(d.filter, topic, agent=d.agent)
        ]

    async def already_sent(self, scope: str, event_id: str) -> set[str]:
        """Tokens ``event_id`` was already pushed to by destination ``scope``."""
        members = await self._redis.smembers(f"{self._prefix}:sent:{scope}:{event_id}")
        return {_text(m) for m in members}

    async def mark_sent(self, scope: str, event_id: str, tokens: Iterable[str], *, ttl: float) -> None:
        """Remember that ``event_id`` reached ``tokens`` (for ``ttl`` seconds)."""
        tokens = list(tokens)
        if not tokens:
            return
        key = f"{self._prefix}:sent:{scope}:{event_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, *tokens)
            pipe.expire(key, max(int(ttl), 1))
            await pipe.execute()
