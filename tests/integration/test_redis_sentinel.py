"""Through ``[redis_sentinel]`` the factory's client follows a failover: real processes on 127.0.0.1.

A master, one replica (``--replicaof``) and one ``redis-server --sentinel`` (quorum 1, short
``down-after-milliseconds``/``failover-timeout``). The lease script (EVALSHA) runs through the
Sentinel-managed client; the master is SIGKILLed; the sentinel promotes the replica and the same
client object works again within a bounded retry loop. What this does NOT show: how many
acknowledged writes a failover loses (asynchronous replication) — that end-to-end count is open.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bridge.config import Settings
from bridge.delivery.app import make_celery_app
from bridge.gws.leases import LeaseError, LeaseManager
from bridge.redis_client import async_redis
from tests.plugins.ports import free_port

pytestmark = pytest.mark.slow
MASTER = "bridge"


def ask(port: int, *command: object) -> object:
    """One command to the server on ``port`` over a fresh connection (closed again)."""
    with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as client:
        return client.execute_command(*command)


def info(port: int, section: str) -> dict[str, object]:
    """``INFO section`` of the server on ``port``, parsed."""
    with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as client:
        return dict(client.info(section))


def _wait(what: str, check: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {within} s")
        time.sleep(0.05)


class Processes:
    """Started redis-server processes, all killed at the end."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.children: list[subprocess.Popen[bytes]] = []

    def redis(self, port: int, *extra: str, conf: Path | None = None) -> subprocess.Popen[bytes]:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed; `make test` installs it"
        work = self.dir / str(port)
        work.mkdir()
        args = [binary, *([str(conf)] if conf else []), "--bind", "127.0.0.1", "--port", str(port),
                "--save", "", "--appendonly", "no", "--dir", str(work), "--daemonize", "no",
                "--loglevel", "warning", *extra]  # fmt: skip
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.children.append(child)
        _wait(f"redis-server on {port} answers", lambda: ask(port, "PING"))
        return child

    def sentinel(self, port: int, master_port: int) -> None:
        conf = self.dir / f"sentinel-{port}.conf"  # the sentinel rewrites it: a private copy
        conf.write_text(
            f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
            f"sentinel down-after-milliseconds {MASTER} 400\n"
            f"sentinel failover-timeout {MASTER} 2000\n"
            f"sentinel parallel-syncs {MASTER} 1\n",
            encoding="utf-8",
        )
        self.redis(port, "--sentinel", conf=conf)

    def close(self) -> None:
        for child in self.children:
            child.kill()
            child.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    found = Processes(tmp_path)
    try:
        yield found
    finally:
        found.close()


async def test_the_factory_client_runs_the_lease_script_and_follows_a_failover(processes: Processes) -> None:
    master_port, replica_port, sentinel_port = free_port(), free_port(), free_port()
    master = processes.redis(master_port)
    processes.redis(replica_port, "--replicaof", "127.0.0.1", str(master_port))
    processes.sentinel(sentinel_port, master_port)
    _wait(
        "the replica is in sync",
        lambda: info(replica_port, "replication")["master_link_status"] == "up",
    )
    _wait(
        "the sentinel knows the replica", lambda: len(ask(sentinel_port, "SENTINEL", "REPLICAS", MASTER)) == 1
    )

    settings = Settings(redis_sentinel={"sentinels": [f"127.0.0.1:{sentinel_port}"], "master_name": MASTER})
    client = async_redis(settings, socket_timeout=1.0, socket_connect_timeout=0.5)
    leases = LeaseManager(client, owner="node-a", ttl=60)
    try:
        assert await leases.claim("alice") is True
        assert await leases.renew(["alice"]) == set()  # EVALSHA through the Sentinel-managed master
        assert ask(master_port, "GET", leases.key("alice")) == "node-a"  # it is the master
        assert await client.execute_command("WAIT", 1, 5000) == 1  # the replica has the lease too

        master.kill()  # SIGKILL: no shutdown, no handover
        master.wait(timeout=10)
        started, renewed = time.monotonic(), None
        while time.monotonic() - started < 20:  # bounded: down-after 0.4 s + election + promotion
            try:
                renewed = await leases.renew(["alice"])  # the same client object, the same script
                break
            except LeaseError:
                await asyncio.sleep(0.2)
        assert renewed == set(), "the client did not reach the promoted replica within 20 s"
        promoted = ask(sentinel_port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
        assert promoted == ["127.0.0.1", str(replica_port)]
        assert info(replica_port, "replication")["role"] == "master"
        assert ask(replica_port, "GET", leases.key("alice")) == "node-a"  # the replicated lease, renewed
    finally:
        await client.aclose()


def test_the_celery_broker_reaches_the_master_through_the_sentinel(processes: Processes) -> None:
    master_port, sentinel_port = free_port(), free_port()
    processes.redis(master_port)
    processes.sentinel(sentinel_port, master_port)
    settings = Settings(redis_sentinel={"sentinels": [f"127.0.0.1:{sentinel_port}"], "master_name": MASTER})
    app = make_celery_app(settings)
    with app.connection_for_write() as connection:
        with connection.SimpleQueue("gwsb-sentinel-probe") as queue:
            queue.put({"n": 1})
            # the message is on the master the sentinel named (not a default localhost:6379)
            assert ask(master_port, "LLEN", "gwsb-sentinel-probe") == 1
            message = queue.get(timeout=5)
            assert message.payload == {"n": 1}
            message.ack()
    assert ask(master_port, "LLEN", "gwsb-sentinel-probe") == 0
