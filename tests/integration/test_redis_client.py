"""The locked redis-py recovers what a Redis restart leaves behind, as the pipeline assumes.

Every process keeps a pool of connections to Redis; after Redis restarts, each idle one is a
socket the server closed. The client must notice and reconnect on the next command; redis-py
8.1.0 instead failed that command with "Connection closed by server" (redis/redis-py#4252),
which restarted every agent session and re-numbered its events (tests/e2e/test_faults.py).
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from tests.plugins.redis_server import RedisServer


async def test_every_kind_of_command_reconnects_after_a_redis_restart(
    redis_server_factory: type[RedisServer],
) -> None:
    server = redis_server_factory(appendonly=True)
    client = Redis.from_url(server.url)
    script = client.register_script("return redis.call('hincrby', KEYS[1], 'n', 1)")
    try:
        assert await script(keys=["counter"]) == 1  # an idle pooled connection from here on
        await asyncio.to_thread(server.stop, kill=True)
        await asyncio.to_thread(server.start)
        assert await client.ping() is True
        async with client.pipeline(transaction=True) as pipe:
            pipe.hincrby("counter", "n", 1).hget("counter", "n")
            assert await pipe.execute() == [2, b"2"]
        # a script after the restart: the server's script cache is empty (EVALSHA → NOSCRIPT → load)
        assert await script(keys=["counter"]) == 3
    finally:
        await client.aclose()
