"""The one place a Redis client is built: from ``Settings``, plain URL or Sentinel.

Every process and stage takes its client here (``tests/unit/test_redis_factory.py`` fails if a
module elsewhere builds one). With ``[redis_sentinel]`` the client is redis-py's
``Sentinel(...).master_for(...)``: each new connection asks the sentinels for the current master,
so after a failover the same client reaches the promoted replica once its pool reconnects.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel as SyncSentinel

from bridge.config import Settings
from bridge.config.redis import RedisSentinelSettings
from bridge.config.secret_refs import read_secret

__all__ = ["RedisSource", "async_redis", "sync_redis"]

# What a client is built from: the Settings (URL or Sentinel), or a plain URL (tests, the demo's
# embedded server, a stage handed only a URL).
RedisSource = Settings | str


def _secrets(conf: RedisSentinelSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """(master kwargs, sentinel kwargs) with the passwords resolved."""
    master: dict[str, Any] = {"db": conf.db, "ssl": conf.tls}
    sentinel: dict[str, Any] = {"ssl": conf.tls}
    if conf.password:
        master["password"] = read_secret(conf.password, what="redis_sentinel.password", trim="first_line")
    if conf.sentinel_password:
        sentinel["password"] = read_secret(
            conf.sentinel_password, what="redis_sentinel.sentinel_password", trim="first_line"
        )
    return master, sentinel


def async_redis(source: RedisSource, **options: Any) -> aioredis.Redis:
    """An asyncio client for the configured Redis; ``options`` go to every connection."""
    if isinstance(source, str):
        return aioredis.Redis.from_url(source, **options)
    conf = source.redis_sentinel
    if conf is None:
        return aioredis.Redis.from_url(source.redis_url, **options)
    master, sentinel = _secrets(conf)
    manager = AsyncSentinel(conf.addresses(), sentinel_kwargs={**options, **sentinel}, **options)
    return manager.master_for(conf.master_name, **master)


def sync_redis(source: RedisSource, **options: Any) -> redis.Redis:
    """A blocking client for the configured Redis (the Celery side, the CLI tools)."""
    if isinstance(source, str):
        return redis.Redis.from_url(source, **options)
    conf = source.redis_sentinel
    if conf is None:
        return redis.Redis.from_url(source.redis_url, **options)
    master, sentinel = _secrets(conf)
    manager = SyncSentinel(conf.addresses(), sentinel_kwargs={**options, **sentinel}, **options)
    return manager.master_for(conf.master_name, **master)
