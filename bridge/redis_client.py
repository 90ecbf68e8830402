"""The one place a Redis client is built: from ``Settings``, plain URL or Sentinel.

Every process and stage takes its client here (``tests/unit/test_redis_factory.py`` fails if a
module elsewhere builds one). With ``[redis_sentinel]`` the client is redis-py's
``Sentinel(...).master_for(...)``: each new connection asks the sentinels for the current master,
so after a failover the same client reaches the promoted replica once its pool reconnects.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import quote

import redis
import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel as SyncSentinel

from bridge.config import Settings
from bridge.config.redis import RedisSentinelSettings
from bridge.config.secret_refs import read_secret

__all__ = ["RedisSource", "async_redis", "celery_broker", "sync_redis"]

# What a client is built from: the Settings (URL or Sentinel), or a plain URL (tests, the demo's
# embedded server, a stage handed only a URL).
RedisSource = Settings | str


def _secrets(conf: RedisSentinelSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """(master kwargs, sentinel kwargs) with the passwords resolved."""
    master: dict[str, Any] = {"db": conf.db, "ssl": conf.tls}
    sentinel: dict[str, Any] = {"ssl": conf.tls}
    if conf.tls and conf.tls_ca_file:
        master["ssl_ca_certs"] = sentinel["ssl_ca_certs"] = conf.tls_ca_file
    if conf.password:
        master["password"] = read_secret(conf.password, what="redis_sentinel.password", trim="first_line")
    if conf.sentinel_password:
        sentinel["password"] = read_secret(
            conf.sentinel_password, what="redis_sentinel.sentinel_password", trim="first_line"
        )
    return master, sentinel


class _AsyncSentinelRedis(aioredis.Redis):
    """A master client that also closes its connections to the sentinels."""

    sentinel_manager: AsyncSentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for client in self.sentinel_manager.sentinels if self.sentinel_manager else ():
            await client.aclose()


class _SyncSentinelRedis(redis.Redis):
    """A blocking master client that also closes its connections to the sentinels."""

    sentinel_manager: SyncSentinel | None = None

    def close(self) -> None:
        super().close()
        for client in self.sentinel_manager.sentinels if self.sentinel_manager else ():
            client.close()


def _client(source: RedisSource, options: dict[str, Any], kinds: tuple[Any, Any, Any]) -> Any:
    """A client of ``kinds`` = (plain class, Sentinel class, master class) for ``source``."""
    plain, sentinel_class, master_class = kinds
    if isinstance(source, str):
        return plain.from_url(source, **options)
    conf = source.redis_sentinel
    if conf is None:
        return plain.from_url(source.redis_url, **options)
    master, sentinel = _secrets(conf)
    manager = sentinel_class(conf.addresses(), sentinel_kwargs={**options, **sentinel}, **options)
    client = manager.master_for(conf.master_name, redis_class=master_class, **master)
    client.sentinel_manager = manager
    return client


def async_redis(source: RedisSource, **options: Any) -> aioredis.Redis:
    """An asyncio client for the configured Redis; ``options`` go to every connection."""
    client: aioredis.Redis = _client(source, options, (aioredis.Redis, AsyncSentinel, _AsyncSentinelRedis))
    return client


def sync_redis(source: RedisSource, **options: Any) -> redis.Redis:
    """A blocking client for the configured Redis (the Celery side, the CLI tools)."""
    client: redis.Redis = _client(source, options, (redis.Redis, SyncSentinel, _SyncSentinelRedis))
    return client


def celery_broker(settings: Settings) -> tuple[str, dict[str, Any]]:
    """``(broker URL, extra Celery settings)`` for the configured Redis.

    With Sentinel it is kombu's ``sentinel://:pw@h1:p/db;sentinel://:pw@h2:p/db`` with the master's
    name (and the sentinels' password) in ``broker_transport_options``; TLS is ``broker_use_ssl``.
    The caller merges its own transport options into the returned ones.
    """
    conf = settings.redis_sentinel
    if conf is None:
        return settings.redis_url, {"broker_transport_options": {}}
    master, sentinel = _secrets(conf)
    auth = f":{quote(master['password'], safe='')}@" if "password" in master else ""
    url = ";".join(
        f"sentinel://{auth}{f'[{host}]' if ':' in host else host}:{port}/{conf.db}"
        for host, port in conf.addresses()
    )
    options: dict[str, Any] = {"master_name": conf.master_name}
    # kombu hands the sentinels only sentinel_kwargs: their password and TLS go there
    to_sentinels = {k: v for k, v in sentinel.items() if k != "ssl" or v}
    if to_sentinels:
        options["sentinel_kwargs"] = to_sentinels
    extra: dict[str, Any] = {"broker_transport_options": options}
    if conf.tls:
        extra["broker_use_ssl"] = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
        if conf.tls_ca_file:
            extra["broker_use_ssl"]["ssl_ca_certs"] = conf.tls_ca_file
    return url, extra
