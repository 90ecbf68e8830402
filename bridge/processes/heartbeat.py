"""Proof that a process's event loop turns, for healthchecks that must fail when it is stuck.

The subscriber's and the worker's ``/metrics`` are served from a thread, so they answer even when
the event loop doing the work hangs. :class:`Heartbeat` runs on that loop and stamps the time
every second; ``gwsb_heartbeat_age_seconds`` (computed when scraped) is how long ago it last did.
``gws-bridge healthcheck`` (:mod:`bridge.processes.healthcheck`) fails when it grows too old.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Gauge

__all__ = ["HEARTBEAT_AGE", "Heartbeat"]

HEARTBEAT_AGE = Gauge(
    "gwsb_heartbeat_age_seconds", "Seconds since this process's event loop last turned (grows when stuck)"
)


class Heartbeat:
    """Stamps the time every ``interval`` seconds while :meth:`run` runs on the watched loop."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.last = time.monotonic()
        HEARTBEAT_AGE.set_function(self.age)

    def age(self) -> float:
        """Seconds since the loop last turned."""
        return time.monotonic() - self.last

    async def run(self) -> None:
        """Beat until cancelled."""
        while True:
            self.last = time.monotonic()
            await asyncio.sleep(self.interval)
