"""``LoginRateLimiter``: spreads one subscriber's GWS log-ins over time.

A restart, a takeover after a dead subscriber, or GWS dropping every session at once would
otherwise log in all of a process's agents within a second or two — the moment GWS (and its
authentication back end) is weakest. Every log-in of every session of a pool (the first one,
and each log-in again after a refused session) waits for this limiter first.

It is the generic cell rate algorithm: log-ins are spaced ``1 / rate`` seconds apart, and up
to ``burst`` of them may come at once after a quiet spell. Each caller reserves its slot at
once, before it sleeps, so waiting callers are served in the order they asked and the limit
holds however many wait. A caller cancelled while it waits gives its slot up for nothing
(the rate is then briefly lower, never higher).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["LoginRateLimiter"]


class LoginRateLimiter:
    """At most ``burst`` log-ins at once, ``rate`` per second on average (``rate`` > 0)."""

    def __init__(self, rate: float, burst: int = 1, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("login rate must be positive")
        if burst < 1:
            raise ValueError("login burst must be >= 1")
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._tat = clock()  # theoretical arrival time of the next log-in

    def reserve(self) -> float:
        """Take the next slot; seconds to wait before using it (0 when it is free now)."""
        now = self._clock()
        tat = max(self._tat, now)
        self._tat = tat + self._interval
        return max(0.0, tat - self._tolerance - now)

    async def acquire(self) -> None:
        """Return when this caller may log in."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
