"""Real Sentinel sets on 127.0.0.1: masters, replicas and ``redis-server --sentinel`` processes.

``redis_processes`` is a factory fixture (a :class:`RedisProcesses`): ``redis(port, ...)``
starts a ``redis-server`` (no RDB, AOF only when asked, a replica synced at once),
``sentinel(port, master_port, ...)`` a sentinel monitoring it under :data:`MASTER`; every
process is SIGKILLed when the test ends.
Used by ``tests/integration/test_redis_sentinel.py`` and ``tests/e2e/test_failover.py``; the
same class serves ``bench/failover.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

__all__ = ["MASTER", "RedisProcesses", "ask", "info", "wait_for"]

MASTER = "bridge"


def _client(port: int, password: str | None, ca: Path | None) -> redis.Redis:
    tls = {"ssl": True, "ssl_ca_certs": str(ca)} if ca is not None else {}
    return redis.Redis(
        host="127.0.0.1", port=port, password=password, socket_timeout=1, decode_responses=True, **tls
    )


def ask(port: int, *command: object, password: str | None = None, ca: Path | None = None) -> object:
    """One command to the server on ``port`` over a fresh connection (TLS with ``ca``), closed again."""
    with _client(port, password, ca) as client:
        return client.execute_command(*command)


def info(port: int, section: str, password: str | None = None) -> dict[str, object]:
    """``INFO section`` of the server on ``port``, parsed."""
    with _client(port, password, None) as client:
        return dict(client.info(section))


def wait_for(what: str, check: Callable[[], object], within: float = 10.0) -> None:
    """Poll ``check`` (Redis errors count as "not yet") every 50 ms; AssertionError after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {within} s")
        time.sleep(0.05)


class RedisProcesses:
    """Started redis-server processes (servers and sentinels), all killed by :meth:`close`."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.children: list[subprocess.Popen[bytes]] = []

    def redis(
        self,
        port: int,
        *extra: str,
        conf: Path | None = None,
        password: str | None = None,
        ca: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """A ``redis-server`` on ``port`` (``extra``: more options), once it answers PING (over
        TLS, verified with ``ca``, when given)."""  # fmt: skip
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed; `make test` installs it"
        work = self.dir / str(port)
        work.mkdir()
        args = [binary, *([str(conf)] if conf else []), "--bind", "127.0.0.1", "--port", str(port),
                "--save", "", "--appendonly", "no", "--dir", str(work), "--daemonize", "no",
                "--loglevel", "warning", "--logfile", str(work / "redis.log"),
                "--repl-diskless-sync-delay", "0", *extra]  # fmt: skip
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.children.append(child)
        wait_for(f"redis-server on {port} answers", lambda: ask(port, "PING", password=password, ca=ca))
        return child

    def sentinel(
        self,
        port: int,
        master_port: int,
        *,
        quorum: int = 1,
        down_after_ms: int = 400,
        failover_timeout_ms: int = 2000,
        auth_pass: str | None = None,
        password: str | None = None,
        extra: tuple[str, ...] = (),
        ca: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """A sentinel monitoring the master on ``master_port`` (``auth_pass``: the master's
        password; ``password``: the sentinel's own, ``requirepass``; ``extra`` and ``ca`` as
        for :meth:`redis`)."""
        conf = self.dir / f"sentinel-{port}.conf"  # the sentinel rewrites it: a private copy
        lines = [
            f"sentinel monitor {MASTER} 127.0.0.1 {master_port} {quorum}",
            f"sentinel down-after-milliseconds {MASTER} {down_after_ms}",
            f"sentinel failover-timeout {MASTER} {failover_timeout_ms}",
            f"sentinel parallel-syncs {MASTER} 1",
        ]
        if auth_pass is not None:
            lines.append(f"sentinel auth-pass {MASTER} {auth_pass}")
        if password is not None:
            # the sentinels authenticate to each other with it too
            lines += [f"requirepass {password}", f"sentinel sentinel-pass {password}"]
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.redis(port, "--sentinel", *extra, conf=conf, password=password, ca=ca)

    def close(self) -> None:
        for child in self.children:
            child.kill()
            child.wait(timeout=10)


@pytest.fixture
def redis_processes(tmp_path: Path) -> Iterator[RedisProcesses]:
    found = RedisProcesses(tmp_path)
    try:
        yield found
    finally:
        found.close()
