"""The factory's asyncio clients pack commands byte for byte as redis-py does (fails loudly if a
redis-py release changes its packing or its connection classes' hooks)."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.asyncio.sentinel import SentinelManagedConnection
from redis.exceptions import DataError

from bridge.config import Settings
from bridge.redis_client import _pack_commands, async_redis

COMMANDS = [
    ("SET", "k", b"v", "PX", 60_000),
    ("EVALSHA", "a" * 40, 2, "k1", "k2", b'{"id":"x"}', 86_400_000, repr(1.5), "cmd-1", 2000),
    ("XADD", "stream", "MAXLEN", "~", 10_000, "*", "f", "é ü 😀", "n", 12.5, "big", b"x" * 70_000),
    ("SCRIPT LOAD", "return 1"),
    (b"CONFIG GET", b"maxmemory"),
    ("SET", memoryview(b"mv"), bytearray(b"ba")),
    ("ZADD", "index", -0.0, "m", 3.0e-7, "n", -(2**70), "o"),
]


def test_the_fast_packer_writes_what_redis_py_writes():
    connection = Connection()
    expected = b"".join(bytes(chunk) for chunk in connection.pack_commands(COMMANDS))
    assert b"".join(_pack_commands(connection, COMMANDS)) == expected
    for command in COMMANDS:
        single = b"".join(bytes(chunk) for chunk in connection.pack_command(*command))
        assert b"".join(_pack_commands(connection, [command])) == single


@pytest.mark.parametrize("bad", [True, None, object(), [1]])
def test_it_refuses_what_redis_py_refuses(bad):
    with pytest.raises(DataError):
        _pack_commands(Connection(), [("SET", "k", bad)])


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("redis://127.0.0.1:6379/0", Connection),
        ("rediss://127.0.0.1:6379/0", SSLConnection),
        ("unix:///tmp/redis.sock", UnixDomainSocketConnection),
    ],
)
def test_every_factory_client_packs_with_it(url, base):
    client = async_redis(url)
    connection = client.connection_pool.make_connection()
    assert isinstance(connection, base)
    assert type(connection).pack_commands is _pack_commands
    assert b"".join(connection.pack_commands(COMMANDS[:2])) == b"".join(
        bytes(chunk) for chunk in base.pack_commands(connection, COMMANDS[:2])
    )


def test_a_sentinel_client_packs_with_it_too():
    settings = Settings(redis_sentinel={"sentinels": ["127.0.0.1:26379"], "master_name": "mymaster"})
    client = async_redis(settings)
    connection = client.connection_pool.make_connection()
    assert isinstance(connection, SentinelManagedConnection)
    assert type(connection).pack_commands is _pack_commands
