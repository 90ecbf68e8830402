"""The one place a Redis client is built: from ``Settings``, plain URL or Sentinel.

Every process and stage takes its client here (``tests/unit/test_redis_factory.py`` fails if a
module elsewhere builds one). With ``[redis_sentinel]`` the client is redis-py's
``Sentinel(...).master_for(...)``: each new connection asks the sentinels for the current master,
so after a failover the same client reaches the promoted replica once its pool reconnects.

Asyncio clients pack commands with :func:`_pack_commands` (their pool's connection class is a
subclass of redis-py's own, :func:`_fast_packing`): the same bytes as redis-py's
``pack_commands``, about three times faster (~6 instead of ~16 µs for a 12-argument command; it
was the first own-time entry of the receiver's and the workers' CPU profiles, which send a few
thousand commands per second). ``tests/unit/test_redis_packing.py`` compares the two byte for byte.
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


def _pack_command(self: Any, *args: Any) -> list[bytes]:
    """redis-py's ``Connection.pack_command``: one RESP array, in one bytes object."""
    return _pack_commands(self, (args,))


def _pack_commands(self: Any, commands: Any) -> list[bytes]:
    """redis-py's ``Connection.pack_commands`` in fewer steps: bytes and str are encoded here,
    anything else by the connection's encoder (ints and floats by ``repr``; ``DataError`` for
    bool, None and other types, as redis-py raises); a command name with spaces ("SCRIPT LOAD") is
    split into words as redis-py does."""
    encoder = self.encoder
    encode, encoding, errors = encoder.encode, encoder.encoding, encoder.encoding_errors
    out: list[bytes] = []
    for args in commands:
        name = args[0]
        assert not isinstance(name, float)
        if isinstance(name, str):
            if " " in name:
                args = (*name.encode().split(), *args[1:])
        elif b" " in name:
            args = (*name.split(), *args[1:])
        out.append(b"*%d\r\n" % len(args))
        for arg in args:
            kind = type(arg)
            if kind is bytes:
                data = arg
            elif kind is str:
                data = arg.encode(encoding, errors)
            else:
                data = encode(arg)
            out.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return [b"".join(out)]


_PACKING: dict[type, type] = {}


def _fast_packing(client: aioredis.Redis) -> aioredis.Redis:
    """Make ``client``'s pool build connections that pack with :func:`_pack_commands`."""
    pool = client.connection_pool
    base = pool.connection_class
    packing = _PACKING.get(base)
    if packing is None:
        attributes = {"pack_command": _pack_command, "pack_commands": _pack_commands, "__module__": __name__}
        packing = _PACKING[base] = type(base.__name__, (base,), attributes)
    pool.connection_class = packing
    return client


def async_redis(source: RedisSource, **options: Any) -> aioredis.Redis:
    """An asyncio client for the configured Redis; ``options`` go to every connection."""
    client: aioredis.Redis = _client(source, options, (aioredis.Redis, AsyncSentinel, _AsyncSentinelRedis))
    return _fast_packing(client)


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
