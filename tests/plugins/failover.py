"""A Redis Sentinel failover under load, counted at the CRM: the scenario behind
``tests/e2e/test_failover.py`` and ``bench/failover.py``.

:class:`SentinelSet` is a master with AOF, one replica (AOF too: it becomes the master) and three
sentinels (quorum 2), all ``redis-server`` processes on 127.0.0.1. :func:`run_failover` puts the
simulator's steady call load through a :class:`~tests.plugins.e2e.BridgeStack` configured by
``[redis_sentinel]``, SIGKILLs the master mid-load, waits for the sentinels to promote the
replica and for everything to drain, and returns what the sink counted (:class:`FailoverFigures`).

AOF is ``appendfsync everysec``: a SIGKILLed Redis loses nothing it acknowledged to its own AOF
(the write(2) precedes the reply; only fsync is deferred, and the kernel keeps the page cache), so
``always`` would buy protection only against the machine's own crash — which the replica is for
— at an fsync per write. What a failover can lose is what the replica had not received; that is
what the count below measures.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import os
import signal
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from tests.plugins.e2e import BridgeStack
from tests.plugins.e2e_checks import CALL_FLOW, call_report
from tests.plugins.ports import free_port
from tests.plugins.sentinel import MASTER, RedisProcesses, ask, info, wait_for

__all__ = ["FailoverFigures", "SentinelSet", "run_failover"]

AOF = ("--appendonly", "yes", "--appendfsync", "everysec")
BALLAST = 32 * 1024 * 1024  # bytes: more than loopback's socket buffers hold
# what RedisStateStore logs when the replicas did not confirm a save in time
UNCONFIRMED = "replicas confirmed a state save within"


class SentinelSet:
    """A master, a replica and three sentinels (quorum 2, failure noticed after 500 ms)."""

    def __init__(self, processes: RedisProcesses) -> None:
        self.processes = processes
        self.master_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.master = processes.redis(self.master_port, *AOF)
        self.replica = processes.redis(
            self.replica_port, *AOF, "--replicaof", "127.0.0.1", str(self.master_port)
        )
        for port in self.sentinel_ports:
            processes.sentinel(port, self.master_port, quorum=2, down_after_ms=500, failover_timeout_ms=3000)
        wait_for(
            "the replica in sync",
            lambda: info(self.replica_port, "replication")["master_link_status"] == "up",
        )
        # An election needs a majority of sentinels that know each other (hello messages, every 2 s).
        for port in self.sentinel_ports:
            wait_for(
                f"sentinel {port} knowing the replica and the other two",
                lambda p=port: (
                    len(ask(p, "SENTINEL", "REPLICAS", MASTER)) == 1  # type: ignore[arg-type]
                    and len(ask(p, "SENTINEL", "SENTINELS", MASTER)) == 2  # type: ignore[arg-type]
                ),
                within=20.0,
            )

    @property
    def master_url(self) -> str:
        return f"redis://127.0.0.1:{self.master_port}/0"

    def section(self, *, wait_replicas: int) -> dict[str, Any]:
        """The ``[redis_sentinel]`` section the bridge is configured with."""
        return {
            "sentinels": [f"127.0.0.1:{port}" for port in self.sentinel_ports],
            "master_name": MASTER,
            "wait_replicas": wait_replicas,
            "wait_timeout_ms": 500,
        }

    def promoted(self) -> bool:
        """Every sentinel names the replica as the master."""
        return all(
            ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER) == ["127.0.0.1", str(self.replica_port)]
            for port in self.sentinel_ports
        )

    def kill_master(self) -> None:
        self.master.kill()  # SIGKILL: no shutdown, nothing flushed beyond what was written
        self.master.wait(timeout=10)


@dataclass(frozen=True)
class FailoverFigures:
    """What the sink got, against what the simulator did."""

    wait_replicas: int
    stall_replica_s: float
    calls: int
    events_expected: int  # four per call the simulator started
    events_delivered: int  # distinct (call, event type) of the call flow
    events_lost: int
    events_recovered: int  # delivered as state recovery found them, not live
    repeats: int  # deliveries of a webhook-id already delivered
    events_with_two_ids: int  # one (subject, sequence) under two webhook-ids: must be 0
    promoted_after_s: float  # SIGKILL → every sentinel names the replica
    longest_pause_s: float  # longest gap between two new events' arrivals while the load ran
    pause_started_after_kill_s: float  # where that gap began, relative to the SIGKILL
    unconfirmed_warnings: int  # saves that went on without the replica's WAIT confirmation

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def run_failover(
    stack: BridgeStack,
    servers: SentinelSet,
    *,
    wait_replicas: int,
    rate: float,
    seconds: float,
    kill_after: float,
    stall_replica: float = 0.0,
) -> FailoverFigures:
    """Subscriber + worker through ``[redis_sentinel]``, load, SIGKILL the master, count.

    ``stall_replica`` > 0 stops the replica (SIGSTOP) that many seconds before the kill and lets
    it go right after, and fills the link first with 32 MB of ballast (one ``SET``) so that the
    kernel's socket buffers cannot hold the bridge's writes for it: the master acknowledges
    writes the replica never gets — the worst case of asynchronous replication (a replica
    behind by a slow link or a long pause). The worker's process group is stopped for that
    time too (workers with a backlog): what the subscriber enqueued then is still queued on the
    master when it dies, instead of delivered already.
    """
    stack.redis_sentinel = servers.section(wait_replicas=wait_replicas)
    stack.write_config()
    subscriber = stack.start_subscriber()
    worker = stack.start_worker()
    await stack.wait_ready()
    agents = len(stack.sim.agents)
    load = await stack.run_load(agents=agents, calls_per_second=rate, seconds=seconds)
    load_started = time.time()
    await asyncio.sleep(kill_after - stall_replica)
    if stall_replica > 0:
        servers.replica.send_signal(signal.SIGSTOP)
        await asyncio.to_thread(ask, servers.master_port, "SET", "gwsb:ballast", "x" * BALLAST)
        os.killpg(worker.pid, signal.SIGSTOP)
        await asyncio.sleep(stall_replica)
    killed_at = time.time()
    await asyncio.to_thread(servers.kill_master)
    if stall_replica > 0:
        servers.replica.send_signal(signal.SIGCONT)
        os.killpg(worker.pid, signal.SIGCONT)
    await stack.wait_until("the sentinels to promote the replica", lambda: _quiet(servers.promoted), 20)
    promoted_after = time.time() - killed_at
    progress = await stack.wait_load(load, within=seconds + 30)
    load_ended = time.time()
    calls = int(progress["callsStarted"])
    assert progress["callsCompleted"] == calls, progress
    # Bounded: a lost event never arrives, so this waits its full bound and the count says so.
    await _wait_quietly(stack, calls, within=40)

    report = call_report(stack.sink)
    delivered = sum(len({i.type for i in items} & set(CALL_FLOW)) for items in report.calls.values())
    distinct = stack.sink.distinct().values()
    ids_per_event = Counter((item.subject, item.sequence) for item in distinct)
    # pauses while the load ran: each event's first arrival until it ended, and the first one after
    # (a repeat arriving late ends no pause: its event was there already)
    arrivals = sorted(item.at for item in distinct if item.at >= load_started)
    arrivals = arrivals[: bisect.bisect_right(arrivals, load_ended) + 1]
    gaps = [(later - earlier, earlier) for earlier, later in itertools.pairwise(arrivals)]
    longest, began = max(gaps, default=(0.0, killed_at))
    log = subscriber.spec.log
    warnings = log.read_text(errors="replace").count(UNCONFIRMED) if log and log.exists() else 0
    return FailoverFigures(
        wait_replicas=wait_replicas,
        stall_replica_s=stall_replica,
        calls=calls,
        events_expected=4 * calls,
        events_delivered=delivered,
        events_lost=4 * calls - delivered,
        events_recovered=sum(1 for item in distinct if item.event["data"].get("recovered")),
        repeats=stack.sink.repeats(),
        events_with_two_ids=sum(n - 1 for n in ids_per_event.values()),
        promoted_after_s=round(promoted_after, 2),
        longest_pause_s=round(longest, 2),
        pause_started_after_kill_s=round(began - killed_at, 2),
        unconfirmed_warnings=warnings,
    )


def _quiet(check: Any) -> bool:
    try:
        return bool(check())
    except Exception:  # a sentinel busy with the election answers later
        return False


async def _wait_quietly(stack: BridgeStack, calls: int, *, within: float) -> None:
    """Until every call's release arrived and 1 s passed without a delivery, or ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        released = len(stack.sink.of_type("call.released"))
        last = max((item.at for item in stack.sink.delivered), default=0.0)
        if released >= calls and time.time() - last > 1.0:
            return
        await asyncio.sleep(0.2)
