"""``[[statistics]]`` in real ``gws-bridge subscriber`` processes: exactly one of two polls (the
statistics lease), its events reach the sink, and the other takes over when it is SIGKILLed."""

from __future__ import annotations

import signal
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.integration.gws.test_subscriber import Subscriber, subscribers, wait_until, write_config
from tests.plugins.simulator import SimulatorHandle

__all__ = ["subscribers"]  # the fixture, imported for these tests

STATISTICS = """
[[statistics]]
object_id = "VQ_Support"
name = "Support"
interval = 1
statistics = ["Current_In_Queue", "Total_Entered"]
thresholds = ["Current_In_Queue > 3"]
"""


def stats_events(subscriber: Subscriber, event_type: str = "stats.updated") -> list[dict]:
    return [e for e in subscriber.events() if e["type"] == event_type]


async def overload(sim: SimulatorHandle, waiting: int) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sim.base_url}/sim/queues/VQ_Support/overload", json={"waiting": waiting}) as reply,
    ):
        assert reply.status == 200


@pytest.mark.slow
async def test_one_subscriber_polls_and_another_takes_over(
    simulator_process: SimulatorHandle, redis_url: str, tmp_path: Path, subscribers: list[Subscriber]
) -> None:
    sim = simulator_process
    config = write_config(tmp_path / "bridge.toml", sim.base_url, redis_url, sim.agents[:2], sim.password)
    config.write_text(config.read_text() + STATISTICS, encoding="utf-8")
    first, second = Subscriber("first", config, tmp_path), Subscriber("second", config, tmp_path)
    subscribers += [first, second]
    await wait_until(lambda: stats_events(first) or stats_events(second), within=30, what="a first reading")
    await overload(sim, 5)
    await wait_until(
        lambda: any(stats_events(s, "stats.threshold_crossed") for s in (first, second)),
        within=15, what="the threshold crossing",
    )  # fmt: skip
    polling = [s for s in (first, second) if stats_events(s)]
    assert len(polling) == 1, "both subscribers polled"
    holder = polling[0]
    other = second if holder is first else first
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait(timeout=10)
    await overload(sim, 1)
    await wait_until(lambda: stats_events(other), within=30, what="the takeover")
    taken = stats_events(other)[0]
    # it carried on from the snapshot in Redis: only what changed, and the crossing cleared once
    assert taken["data"]["changed"] == {"Current_In_Queue": 1}
    await wait_until(lambda: stats_events(other, "stats.threshold_crossed"), within=10, what="the clearing")
    assert [e["data"]["breached"] for e in stats_events(other, "stats.threshold_crossed")] == [False]
    redis = Redis.from_url(redis_url)
    try:
        assert await redis.hexists("gwsb:stats", "VQ_Support")
    finally:
        await redis.aclose()
    assert other.stop() == 0
