"""``gws-bridge subscriber --metrics-port`` serves what the subscriber process counts."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bridge.processes.healthcheck import check
from tests.integration.gws.test_subscriber import ROOT, write_config
from tests.plugins.ports import free_port
from tests.plugins.simulator import SimulatorHandle


def metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_metrics_show_agents_held_and_events_routed(
    simulator_process_factory: Callable[..., SimulatorHandle], redis_url: str, tmp_path: Path
) -> None:
    sim = simulator_process_factory(agents=2)
    config = write_config(tmp_path / "bridge.toml", sim.base_url, redis_url, sim.agents, sim.password)
    with config.open("a", encoding="utf-8") as out:  # enqueue to a console destination (no worker needed)
        out.write('[[destinations]]\nname = "debug"\nkind = "console"\n\n')
        out.write('[[routes]]\nevents = ["call.*"]\ndestinations = ["debug"]\n')
    port = free_port()
    args = [
        sys.executable, "-m", "bridge.cli", "subscriber", "--config", str(config),
        "--metrics-port", str(port), "--status-interval", "0",
    ]  # fmt: skip
    log = (tmp_path / "subscriber.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:

            async def scrape() -> str:
                try:
                    async with http.get(url) as reply:
                        return await reply.text()
                except aiohttp.ClientError:
                    return ""

            deadline = time.monotonic() + 30
            while metric(await scrape(), "gwsb_subscriber_agents_connected") != 2.0:
                assert time.monotonic() < deadline, "the two agents never showed as connected"
                await asyncio.sleep(0.2)
            await sim.start_call(sim.agents[0])
            while (metric(await scrape(), 'gwsb_events_routed_total{destination="debug"}') or 0) < 1:
                assert time.monotonic() < deadline, "the ringing call was never counted as routed"
                await asyncio.sleep(0.2)
            assert metric(await scrape(), "gwsb_subscriber_agents_held") == 2.0
            age = metric(await scrape(), "gwsb_heartbeat_age_seconds")
            assert age is not None and age < 5  # its event loop turns
            assert check(url, max_age=5, timeout=2) is None  # what the container's healthcheck runs
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        log.close()
