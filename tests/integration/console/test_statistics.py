"""The overview's queue figures: what the statistics poller read from the simulator, as the console
shows it (the poller's snapshots in Redis, a threshold's breach marked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp

from bridge.config.statistics import StatisticsObject
from bridge.events import Event
from bridge.gws.rest import GwsRestClient
from bridge.gws.statistics import StatisticsPoller
from tests.integration.console.conftest import VIEWER, Console

QUEUE = StatisticsObject(
    object_id="VQ_Support",
    name="Support",
    statistics=["Current_In_Queue", "ServiceLevel"],
    interval=1,
    thresholds=["Current_In_Queue > 10"],
)


class Discard:
    async def publish(self, events: Sequence[Event]) -> None:
        pass


async def _figures(console: Console) -> list[dict[str, Any]]:
    async with console.session(VIEWER) as http, http.get("/v1/admin/overview") as reply:
        assert reply.status == 200
        return (await reply.json())["statistics"]


async def test_the_overview_shows_each_queues_latest_figures_and_its_breaches(
    console: Console, simulator: Any
) -> None:
    assert await _figures(console) == []  # nothing polled yet: no queue shown
    client = GwsRestClient(simulator.base_url, "agent0001", "password", timeout=5.0)
    poller = StatisticsPoller(
        [QUEUE], lambda _user: client, console.redis, console.settings.keys, Discard(), owner="one"
    )
    try:
        await poller.poll(QUEUE)
        [quiet] = await _figures(console)
        assert quiet == {
            "object_id": "VQ_Support",
            "name": "Support",
            "values": {"Current_In_Queue": 0, "ServiceLevel": 100.0},
            "breached": [],
        }
        async with (
            aiohttp.ClientSession() as sim,
            sim.post(f"{simulator.base_url}/sim/queues/VQ_Support/overload", json={"waiting": 12}) as r,
        ):
            assert r.status == 200
        await poller.poll(QUEUE)
        [busy] = await _figures(console)
        assert busy["values"]["Current_In_Queue"] == 12
        assert busy["breached"] == ["Current_In_Queue > 10"]
    finally:
        await client.aclose()
