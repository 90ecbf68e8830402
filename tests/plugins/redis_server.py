"""A private ``redis-server`` for the tests: a free loopback port, nothing on disk.

Tests never touch the machine's own 6379. ``redis_server`` is started once per
session; ``redis_url`` flushes it before each test. ``redis_server_factory``
starts extra servers (for example with AOF on, for restart tests) and stops
them when the test ends.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.plugins.ports import free_port

__all__ = ["RedisServer"]


class RedisServer:
    """One ``redis-server`` process; ``stop()`` / ``start()`` simulate an outage or restart."""

    def __init__(self, *, appendonly: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed; `make test` installs it")
        self.binary = binary
        self.port = free_port()
        self.appendonly = appendonly
        self._dir = tempfile.TemporaryDirectory(prefix="gwsb-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def dir(self) -> Path:
        return Path(self._dir.name)

    def start(self) -> None:
        args = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "always",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--loglevel", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on {self.port}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of the session's private Redis, emptied for this test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def redis_server_factory() -> Iterator[type[RedisServer]]:
    """Start more servers with ``redis_server_factory(appendonly=True)``; all stop afterwards."""
    started: list[RedisServer] = []

    class _Factory(RedisServer):
        def __init__(self, *, appendonly: bool = False) -> None:
            super().__init__(appendonly=appendonly)
            started.append(self)
            self.start()

    yield _Factory
    for server in started:
        server.close()
