"""Through ``[redis_sentinel]`` the factory's client follows a failover: real processes on 127.0.0.1.

A master, one replica (``--replicaof``) and one ``redis-server --sentinel`` (quorum 1, short
``down-after-milliseconds``/``failover-timeout``). The lease script (EVALSHA) runs through the
Sentinel-managed client; the master is SIGKILLed; the sentinel promotes the replica and the same
client object works again within a bounded retry loop. Also: passwords on the master and the
sentinels through every client; the state store's ``wait_replicas`` (a save confirmed by the
replica, waiting while it lags, going on warned without one) and its failover detection (a save
that reached the promoted replica raises ``MasterChangedError``). What a failover under load
loses end to end is ``tests/e2e/test_failover.py``.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
import redis

from bridge.config import Settings
from bridge.delivery.app import make_celery_app
from bridge.gws.leases import LeaseError, LeaseManager
from bridge.gws.state_store import MasterChangedError, RedisStateStore
from bridge.normalize import StateStoreError
from bridge.redis_client import async_redis, sync_redis
from tests.plugins.ports import free_port
from tests.plugins.sentinel import MASTER, RedisProcesses, ask, info
from tests.plugins.sentinel import wait_for as _wait

pytestmark = pytest.mark.slow


async def test_the_factory_client_runs_the_lease_script_and_follows_a_failover(
    redis_processes: RedisProcesses,
) -> None:
    master_port, replica_port, sentinel_port = free_port(), free_port(), free_port()
    master = redis_processes.redis(master_port)
    redis_processes.redis(replica_port, "--replicaof", "127.0.0.1", str(master_port))
    redis_processes.sentinel(sentinel_port, master_port)
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


def test_the_celery_broker_reaches_the_master_through_the_sentinel(redis_processes: RedisProcesses) -> None:
    master_port, sentinel_port = free_port(), free_port()
    redis_processes.redis(master_port)
    redis_processes.sentinel(sentinel_port, master_port)
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


async def test_passwords_on_the_master_and_the_sentinels_reach_every_client(
    redis_processes: RedisProcesses, monkeypatch: pytest.MonkeyPatch
) -> None:
    master_port, sentinel_port = free_port(), free_port()
    redis_processes.redis(master_port, "--requirepass", "m@ster pw", password="m@ster pw")
    redis_processes.sentinel(sentinel_port, master_port, auth_pass='"m@ster pw"', password="sentinel-pw")
    _wait(
        "the sentinel sees the master up",
        lambda: ask(sentinel_port, "SENTINEL", "MASTER", MASTER, password="sentinel-pw")["flags"] == "master",
    )
    monkeypatch.setenv("GWSB_TEST_MASTER_PW", "m@ster pw")
    monkeypatch.setenv("GWSB_TEST_SENTINEL_PW", "sentinel-pw")
    section = {
        "sentinels": [f"127.0.0.1:{sentinel_port}"], "master_name": MASTER,
        "password": "env:GWSB_TEST_MASTER_PW", "sentinel_password": "env:GWSB_TEST_SENTINEL_PW",
    }  # fmt: skip
    settings = Settings(redis_sentinel=section)

    client = async_redis(settings, socket_timeout=1.0)
    try:
        await client.set("gwsb:probe", "async")
        assert ask(master_port, "GET", "gwsb:probe", password="m@ster pw") == "async"
    finally:
        await client.aclose()
    with sync_redis(settings, socket_timeout=1.0) as blocking:
        assert blocking.get("gwsb:probe") == b"async"
    app = make_celery_app(settings)  # kombu: the master's password in the URL, the sentinels' in options
    with app.connection_for_write() as connection, connection.SimpleQueue("gwsb-auth-probe") as queue:
        queue.put({"n": 1})
        assert ask(master_port, "LLEN", "gwsb-auth-probe", password="m@ster pw") == 1
        message = queue.get(timeout=5)
        message.ack()

    monkeypatch.setenv("GWSB_TEST_SENTINEL_PW", "wrong-sentinel-pw")
    refused = async_redis(Settings(redis_sentinel=section), socket_timeout=1.0)
    try:
        with pytest.raises(redis.RedisError) as caught:
            await refused.ping()
        assert "wrong-sentinel-pw" not in str(caught.value) and "m@ster" not in str(caught.value)
    finally:
        await refused.aclose()


async def test_state_saves_wait_for_the_replica_and_go_on_warned_without_one(
    redis_processes: RedisProcesses,
) -> None:
    master_port, replica_port = free_port(), free_port()
    redis_processes.redis(master_port)
    replica = redis_processes.redis(replica_port, "--replicaof", "127.0.0.1", str(master_port))
    _wait("the replica is in sync", lambda: info(replica_port, "replication")["master_link_status"] == "up")
    client = async_redis(f"redis://127.0.0.1:{master_port}/0", socket_timeout=2.0)
    store = RedisStateStore(client, prefix="w:", wait_replicas=1, wait_timeout=0.3, recheck=1.0)
    waits = store.replica_wait
    assert waits is not None
    try:
        state = await store.load("alice")
        for n in range(20):
            state.set(f"call/{n}", {"n": n})
            await store.save("alice", state)
            # WAIT confirmed it: the replica holds this save already, not "soon"
            assert ask(replica_port, "HGET", "w:alice", f"v:call/{n}") == f'{{"n":{n}}}'
        assert waits.unconfirmed_saves == 0

        replica.send_signal(signal.SIGSTOP)  # online but behind: the save waits for it, round after round
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, replica.send_signal, signal.SIGCONT)
        started = time.monotonic()
        state.set("call/lagging", {"n": -1})
        await store.save("alice", state)
        assert time.monotonic() - started >= 0.9
        assert ask(replica_port, "HGET", "w:alice", "v:call/lagging") == '{"n":-1}'
        assert waits.unconfirmed_saves == 0

        replica.kill()  # no replica left: the next save waits its 0.3 s, then goes on, counted
        replica.wait(timeout=10)
        _wait("the master notices", lambda: info(master_port, "replication")["connected_slaves"] == 0)
        started = time.monotonic()
        state.set("call/0", {"n": 100})
        await store.save("alice", state)
        assert 0.25 <= time.monotonic() - started < 2.0
        state.set("call/0", {"n": 101})
        started = time.monotonic()
        await store.save("alice", state)  # within the recheck window: no WAIT at all
        assert time.monotonic() - started < 0.2
        assert waits.unconfirmed_saves == 2
        assert ask(master_port, "HGET", "w:alice", "v:call/0") == '{"n":101}'
    finally:
        await client.aclose()


async def test_a_save_that_reaches_the_promoted_replica_says_the_master_changed(
    redis_processes: RedisProcesses,
) -> None:
    master_port, replica_port, sentinel_port = free_port(), free_port(), free_port()
    redis_processes.redis(master_port)
    redis_processes.redis(replica_port, "--replicaof", "127.0.0.1", str(master_port))
    redis_processes.sentinel(sentinel_port, master_port)
    _wait("the replica is in sync", lambda: info(replica_port, "replication")["master_link_status"] == "up")
    _wait("the sentinel knows it", lambda: len(ask(sentinel_port, "SENTINEL", "REPLICAS", MASTER)) == 1)
    settings = Settings(redis_sentinel={"sentinels": [f"127.0.0.1:{sentinel_port}"], "master_name": MASTER})
    client = async_redis(settings, socket_timeout=2.0)
    store = RedisStateStore(client, prefix="m:", wait_replicas=1, wait_timeout=0.5)
    waits = store.replica_wait
    assert waits is not None
    try:
        state = await store.load("alice")
        state.set("call/1", {"n": 1})
        await store.save("alice", state)

        # the replica promoted, the master demoted (NOGOODSLAVE until the sentinel has its INFO)
        _wait("a failover started", lambda: ask(sentinel_port, "SENTINEL", "FAILOVER", MASTER))
        _wait("the promotion", lambda: info(replica_port, "replication")["role"] == "master")
        named = ["127.0.0.1", str(replica_port)]
        by_name = ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
        _wait("the sentinel naming it", lambda: ask(sentinel_port, *by_name) == named)
        ask(master_port, "REPLICAOF", "127.0.0.1", replica_port)  # what the sentinel does within 10 s
        state.set("call/1", {"n": 2})
        deadline = time.monotonic() + 20
        while True:  # the client reconnects by itself (READONLY → ask the sentinel again)
            try:
                await store.save("alice", state)
                pytest.fail("a save on the new master did not say that the master changed")
            except MasterChangedError:
                break
            except StateStoreError:
                assert time.monotonic() < deadline, "no save reached the new master within 20 s"
                await asyncio.sleep(0.2)
        assert waits.master_changes == 1
        await store.save("alice", state)  # the caller handed its events on again; now it is the master
        assert ask(replica_port, "HGET", "m:alice", "v:call/1") == '{"n":2}'
    finally:
        await client.aclose()


async def test_tls_to_the_master_and_the_sentinels_with_a_private_ca(
    redis_processes: RedisProcesses, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate  # self-signed for 127.0.0.1: its own CA
    tls = ("--port", "0", "--tls-cert-file", str(cert), "--tls-key-file", str(key),
           "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no")  # fmt: skip
    master_port, sentinel_port = free_port(), free_port()
    redis_processes.redis(master_port, *tls, "--tls-port", str(master_port), ca=cert)
    redis_processes.sentinel(
        sentinel_port, master_port, ca=cert,
        extra=(*tls, "--tls-port", str(sentinel_port), "--tls-replication", "yes"),  # TLS to the master too
    )  # fmt: skip
    _wait(
        "the sentinel sees the master up over TLS",
        lambda: ask(sentinel_port, "SENTINEL", "MASTER", MASTER, ca=cert)["flags"] == "master",
    )
    section = {"sentinels": [f"127.0.0.1:{sentinel_port}"], "master_name": MASTER, "tls": True}
    settings = Settings(redis_sentinel={**section, "tls_ca_file": str(cert)})

    client = async_redis(settings, socket_timeout=2.0)
    try:
        await client.set("gwsb:probe", "tls")
        assert ask(master_port, "GET", "gwsb:probe", ca=cert) == "tls"
    finally:
        await client.aclose()
    with sync_redis(settings, socket_timeout=2.0) as blocking:
        assert blocking.get("gwsb:probe") == b"tls"
    app = make_celery_app(settings)
    with app.connection_for_write() as connection, connection.SimpleQueue("gwsb-tls-probe") as queue:
        queue.put({"n": 1})
        assert ask(master_port, "LLEN", "gwsb-tls-probe", ca=cert) == 1
        queue.get(timeout=5).ack()

    untrusted = async_redis(Settings(redis_sentinel=section), socket_timeout=2.0)  # the system store
    try:
        with pytest.raises(redis.RedisError):
            await untrusted.ping()
    finally:
        await untrusted.aclose()
