"""Per-client token buckets in this process: ``rate`` commands per second, ``burst`` at once.

The receivers share one bucket per client in Redis (the command store's ``take_token``); this
one limits when there is no shared bucket: the memory store, or Redis unreachable (then each
receiver enforces the limit on its own, so N receivers admit up to N times it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """``acquire(name, rate, burst)`` returns 0 when allowed, else seconds until a token is free."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, last refill)

    def acquire(self, name: str, rate: float, burst: int) -> float:
        """Take one token for ``name``; the wait (seconds, > 0) when none is left."""
        now = self._clock()
        tokens, last = self._buckets.get(name, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._buckets[name] = (tokens - 1.0, now)
            return 0.0
        self._buckets[name] = (tokens, now)
        return (1.0 - tokens) / rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        """``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))
