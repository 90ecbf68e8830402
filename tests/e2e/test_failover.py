"""A Redis Sentinel failover under load: the master SIGKILLed, the replica promoted, nothing lost.

Real processes on 127.0.0.1 (:mod:`tests.plugins.failover`): a master with AOF, one replica,
three sentinels (quorum 2); the simulator's steady call load; ``gws-bridge subscriber`` and
``gws-bridge worker`` configured by ``[redis_sentinel]`` (``wait_replicas = 1``: a CometD message
counts as handled once the replica holds its state save and so its events); the CRM's sink.
For the second before the kill the replica is stopped behind 32 MB of ballast and so is the
worker: the master acknowledges writes (queued events, state saves) that the replica never gets;
without ``wait_replicas`` such a run loses events, silently (bench/failover.py). The master is
SIGKILLed mid-load; the sentinels promote the replica; the bridge finds it by itself. The sink
must get every call's four events (0 lost); a webhook-id may repeat (at-least-once), never two
ids for one event. The figures are printed (``pytest -s``); ``bench/failover.py`` runs the same
scenario with and without the WAIT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.plugins.e2e import BridgeStack, check_calls
from tests.plugins.failover import SentinelSet, run_failover
from tests.plugins.sentinel import RedisProcesses

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

AGENTS = 4
RATE = 5.0  # calls per second, four notifications each
SECONDS = 10.0
KILL_AFTER = 4.0
STALL = 1.0  # the replica (behind a ballast) and the worker stopped before the kill


async def test_a_sigkilled_sentinel_master_under_load_loses_no_event(
    # redis_processes first: set up before the bridge, torn down after it (a bridge stopping
    # without its Redis takes its retries' time)
    redis_processes: RedisProcesses,
    bridge_stack: Callable[..., Awaitable[BridgeStack]],
) -> None:
    servers = SentinelSet(redis_processes)
    stack = await bridge_stack(agents=AGENTS, redis_url_override=servers.master_url)
    figures = await run_failover(
        stack, servers, wait_replicas=1, rate=RATE, seconds=SECONDS, kill_after=KILL_AFTER,
        stall_replica=STALL,
    )  # fmt: skip
    print(f"failover figures: {figures.as_dict()}")
    assert figures.calls == int(RATE * SECONDS)
    assert figures.events_lost == 0, (figures, stack.logs())
    assert figures.events_with_two_ids == 0, figures
    # every call complete and in order, signed, to the schemas; repeats only of one webhook-id
    check_calls(stack.sink, figures.calls, allow_repeats=True)
    assert figures.promoted_after_s < 10, figures
