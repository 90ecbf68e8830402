"""A pool's log-ins reach GWS spread at the configured rate (``[subscriber] login_rate``).

The simulator records when each log-in (Basic credentials opening an HTTP session) arrived;
every window of those timestamps must hold no more than ``burst + rate * width`` log-ins, with
0.1 s and one log-in of tolerance (the simulator shares the test's event loop: a stalled loop
releases waiting log-ins together and the simulator stamps them together).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bridge.config.gws import AgentConfig, GwsSettings
from bridge.gws.pool import SessionPool
from bridge.gws.state_store import RedisStateStore
from tests.integration.gws.test_pool import CollectingSink, wait_until

AGENTS = 30
RATE = 20.0
BURST = 4


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def assert_paced(times: list[float], *, rate: float, burst: int) -> None:
    times = sorted(times)
    for i, first in enumerate(times):
        for j in range(i, len(times)):
            allowed = burst + rate * (times[j] - first + 0.1) + 1  # loopback and loop-lag jitter
            assert j - i + 1 <= allowed, (
                f"{j - i + 1} log-ins within {times[j] - first:.3f} s (at most {allowed:.1f})"
            )


async def test_a_pools_log_ins_reach_gws_no_faster_than_its_login_rate(
    simulator_factory: Callable[..., Any], redis: Redis
) -> None:
    sim = await simulator_factory(agents=AGENTS)
    agents = [AgentConfig(username=a, password=SecretStr(sim.password)) for a in sim.agents]
    pool = SessionPool(
        agents, gws=GwsSettings(base_url=sim.base_url), sink=CollectingSink(), redis=redis,
        state_store=RedisStateStore(redis), lease_ttl=3.0, login_rate=RATE, login_burst=BURST,
    )  # fmt: skip
    started = time.time()
    await pool.start()
    try:
        await wait_until(lambda: pool.status().connected == AGENTS, within=20, what="every session")
        first = [at for at, _ in await sim.logins()]
        assert len(first) == AGENTS
        assert_paced(first, rate=RATE, burst=BURST)
        # Spread, not merely slow: the last log-in came when the rate allowed it, not much later.
        expected = (AGENTS - BURST) / RATE
        assert expected - 0.05 <= max(first) - started <= expected + 2.0

    finally:
        await pool.stop()
