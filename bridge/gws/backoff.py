"""``Backoff``: capped exponential backoff with jitter, between attempts that failed."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Capped exponential backoff with "equal jitter": each delay is in [d/2, d]."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0, factor: float = 2.0) -> None:
        self.initial, self.cap, self.factor = initial, cap, factor
        self.attempt = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (grows until ``cap``)."""
        ceiling = min(self.cap, self.initial * self.factor**self.attempt)
        if ceiling < self.cap:  # stop counting at the cap: factor**attempt would overflow one day
            self.attempt += 1
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.attempt = 0
